import { ALL_RIGHTS, exceeding, has, OrganizationRole, rightSet, rightsIn, rightsOfRole, roleExceeds } from './rights';
import { fromRightsInput, toRights } from './rights.type';

describe('the role table', () => {
  it('gives OWNER everything and ADMIN everything but deleting the organization', () => {
    expect(rightsIn(rightsOfRole(OrganizationRole.OWNER))).toEqual(ALL_RIGHTS);
    expect(exceeding(rightsOfRole(OrganizationRole.OWNER), rightsOfRole(OrganizationRole.ADMIN))).toEqual(['organization.delete']);
  });

  it('lets MEMBER read the organization and members and manage tokens, and VIEWER only read', () => {
    expect(rightsIn(rightsOfRole(OrganizationRole.MEMBER))).toEqual([
      'organization.read',
      'members.read',
      'apiTokens.read',
      'apiTokens.create',
      'apiTokens.update',
      'apiTokens.delete',
    ]);
    expect(rightsIn(rightsOfRole(OrganizationRole.VIEWER)).every((right) => right.endsWith('.read'))).toBe(true);
    expect(has(rightsOfRole(OrganizationRole.VIEWER), 'members.create')).toBe(false);
  });

  it('orders roles for the "never above the granter" rule', () => {
    expect(roleExceeds(OrganizationRole.OWNER, OrganizationRole.ADMIN)).toBe(true);
    expect(roleExceeds(OrganizationRole.ADMIN, OrganizationRole.ADMIN)).toBe(false);
    expect(roleExceeds(OrganizationRole.VIEWER, OrganizationRole.MEMBER)).toBe(false);
  });
});

describe('typed rights', () => {
  it('round-trips between the bit set and the GraphQL shape', () => {
    const set = rightSet(['members.read', 'apiTokens.create', 'auditLog.read']);
    const rights = toRights(set);
    expect(rights.members).toEqual({ read: true, create: false, update: false, delete: false });
    expect(fromRightsInput(rights)).toBe(set);
  });

  it('reads a missing resource or action as false', () => {
    expect(fromRightsInput({ members: { read: true } })).toBe(rightSet(['members.read']));
    expect(fromRightsInput({})).toBe(0);
  });
});
