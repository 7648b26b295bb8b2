import { ALL_RIGHTS, exceeding, has, OrganizationRole, rightSet, rightsIn, rightsOfRole } from './rights';
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

  it('gives each role every right of the roles below it, so a full credential of a role may grant the roles up to its own', () => {
    const ladder = [OrganizationRole.VIEWER, OrganizationRole.MEMBER, OrganizationRole.ADMIN, OrganizationRole.OWNER];
    ladder.forEach((role, index) => {
      for (const lower of ladder.slice(0, index)) expect(exceeding(rightsOfRole(lower), rightsOfRole(role))).toEqual([]);
      for (const higher of ladder.slice(index + 1)) expect(exceeding(rightsOfRole(higher), rightsOfRole(role)).length).toBeGreaterThan(0);
    });
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
