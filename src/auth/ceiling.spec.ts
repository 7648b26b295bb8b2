import { refusalOf, type Caller } from './ceiling';
import { CredentialKind } from './principal';
import { ALL_RIGHTS, bitOf, OrganizationRole, rightSet, rightsOfRole, type Right } from './rights';

const LADDER = [OrganizationRole.VIEWER, OrganizationRole.MEMBER, OrganizationRole.ADMIN, OrganizationRole.OWNER];
const FULL = rightSet(ALL_RIGHTS);

function caller(role: OrganizationRole, tokenRights = FULL, credential = CredentialKind.USER_KEY, expiresAt: Date | null = null): Caller {
  return { rights: rightsOfRole(role) & tokenRights, credential, expiresAt };
}

/** The roles a caller may grant, stated without the ceiling's code: up to its own role, and none holding a right its token lacks. */
function grantable(role: OrganizationRole, missing: Right | null): OrganizationRole[] {
  return LADDER.slice(0, LADDER.indexOf(role) + 1).filter((granted) => missing === null || !ROLE_HOLDS[granted].includes(missing));
}

const ROLE_HOLDS: Record<OrganizationRole, Right[]> = {
  [OrganizationRole.OWNER]: ALL_RIGHTS,
  [OrganizationRole.ADMIN]: ALL_RIGHTS.filter((right) => right !== 'organization.delete'),
  [OrganizationRole.MEMBER]: ['organization.read', 'members.read', 'apiTokens.read', 'apiTokens.create', 'apiTokens.update', 'apiTokens.delete'],
  [OrganizationRole.VIEWER]: ['organization.read', 'members.read', 'apiTokens.read'],
};

describe('the ceiling over the role × rights matrix', () => {
  // Every caller role, with a full credential and with a token lacking each one right in turn.
  const credentials: [OrganizationRole, Right | null][] = LADDER.flatMap((role) => [
    [role, null],
    ...ALL_RIGHTS.map((right): [OrganizationRole, Right] => [role, right]),
  ]);

  it.each(credentials)('a %s whose credential lacks %s grants, changes or removes exactly the roles within its rights', (role, missing) => {
    const subject = caller(role, missing ? FULL & ~bitOf(missing) : FULL);
    const allowed = LADDER.filter((granted) => refusalOf(subject, { roles: [granted] }) === null);
    expect(allowed).toEqual(grantable(role, missing));
  });

  it.each(credentials)('a %s whose credential lacks %s yields a token with exactly the rights it holds', (role, missing) => {
    const subject = caller(role, missing ? FULL & ~bitOf(missing) : FULL);
    for (const right of ALL_RIGHTS) {
      const holds = ROLE_HOLDS[role].includes(right) && right !== missing;
      const refusal = refusalOf(subject, { rights: bitOf(right) });
      expect(refusal === null).toBe(holds);
      if (refusal) expect(refusal).toMatchObject({ right, field: 'rights' });
    }
  });

  it('names the first right over and the field', () => {
    const refusal = refusalOf(caller(OrganizationRole.ADMIN, rightSet(['members.create'])), { roles: [OrganizationRole.VIEWER] });
    expect(refusal).toEqual({
      reason: 'role: VIEWER holds organization.read, which your effective rights lack',
      right: 'organization.read',
      field: 'role',
    });
  });

  it('checks every role of a change: the old one and the new one', () => {
    const admin = caller(OrganizationRole.ADMIN);
    expect(refusalOf(admin, { roles: [OrganizationRole.MEMBER, OrganizationRole.ADMIN] })).toBeNull();
    expect(refusalOf(admin, { roles: [OrganizationRole.OWNER, OrganizationRole.VIEWER] })?.right).toBe('organization.delete');
  });
});

describe('what outlives its caller', () => {
  const now = Date.now();
  const hour = new Date(now + 3_600_000);
  const day = new Date(now + 86_400_000);

  it('an access token yields no lasting credential, whatever its rights', () => {
    const access = caller(OrganizationRole.OWNER, FULL, CredentialKind.ACCESS_TOKEN, hour);
    expect(refusalOf(access, { rights: bitOf('organization.read'), expiresAt: new Date(now + 60_000), lasting: 'token' })?.field).toBe('credential');
    expect(refusalOf(access, { roles: [OrganizationRole.VIEWER], lasting: 'role' })?.field).toBe('credential');
    expect(refusalOf(access, { rights: bitOf('organization.read') })).toBeNull();
  });

  it('an expiring credential gives nothing a later expiry, nor none', () => {
    const token = caller(OrganizationRole.ADMIN, FULL, CredentialKind.API_TOKEN, hour);
    expect(refusalOf(token, { expiresAt: hour, lasting: 'token' })).toBeNull();
    expect(refusalOf(token, { expiresAt: new Date(now + 60_000), lasting: 'token' })).toBeNull();
    expect(refusalOf(token, { expiresAt: day, lasting: 'token' })?.field).toBe('expiresAt');
    // A role has no expiry: an expiring credential grants none.
    expect(refusalOf(token, { roles: [OrganizationRole.VIEWER], lasting: 'role' })?.field).toBe('role');
    expect(refusalOf(token, { roles: [OrganizationRole.VIEWER] })).toBeNull();
    expect(refusalOf(token, { expiresAt: null })?.field).toBe('expiresAt');
    // Not setting an expiry is not lifting one.
    expect(refusalOf(token, { rights: bitOf('apiTokens.read') })).toBeNull();
  });

  it('a credential without an expiry may give any', () => {
    for (const credential of [CredentialKind.SESSION, CredentialKind.USER_KEY, CredentialKind.API_TOKEN]) {
      expect(refusalOf(caller(OrganizationRole.MEMBER, FULL, credential), { expiresAt: null, lasting: 'token' })).toBeNull();
      expect(refusalOf(caller(OrganizationRole.MEMBER, FULL, credential), { roles: [OrganizationRole.MEMBER], lasting: 'role' })).toBeNull();
    }
  });
});
