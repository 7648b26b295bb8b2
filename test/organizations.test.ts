import { acceptMembership, addMember, createOrganization, createTeam, PASSWORD, refusedWithoutChange, signUp, tableCounts, type TestUser } from './support/factories';
import { dataOf, onlyError, startTestServer, type GraphQLResponse, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const ORGANIZATION = `query ($id: ID!) { organization(id: $id) { id name slug viewerRole } }`;
const CREATE_ORG = `mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id name slug viewerRole members { totalCount } } } }`;
const UPDATE_ORG = `mutation ($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { organization { id name slug } } }`;
const DELETE_ORG = `mutation ($input: DeleteOrganizationInput!) { deleteOrganization(input: $input) { deletedOrganizationId } }`;
const ADD_MEMBER = `mutation ($input: AddMemberInput!) { addMember(input: $input) { membership { id role user { id email } organization { id } } } }`;
const UPDATE_ROLE = `mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { membership { role user { id } } } }`;
const REMOVE = `mutation ($input: RemoveMemberInput!) { removeMember(input: $input) { removedUserId organization { id } } }`;
const NIL_UUID = '00000000-0000-4000-8000-000000000000';




async function organizationRow(id: string): Promise<{ name: string; slug: string } | undefined> {
  const [row] = await server.app.dataSource.query(`SELECT name, slug FROM organizations WHERE id = $1`, [id]);
  return row;
}

async function roleOf(organizationId: string, userId: string): Promise<string | null> {
  const [row] = await server.app.dataSource.query(`SELECT role FROM memberships WHERE "organizationId" = $1 AND "userId" = $2`, [organizationId, userId]);
  return row?.role ?? null;
}

async function ownerCount(organizationId: string): Promise<number> {
  const [{ n }] = await server.app.dataSource.query(`SELECT count(*)::int AS n FROM memberships WHERE "organizationId" = $1 AND role = 'OWNER'`, [organizationId]);
  return n;
}

const suffix = () => Math.random().toString(36).slice(2, 8);

describe('createOrganization', () => {
  it('makes the caller OWNER and, without a slug, makes one from the name', async () => {
    const user = await signUp(server, 'founder');
    const tag = suffix();
    const name = `  Blue Sky  Labs! ${tag} `;
    const created = dataOf(await server.gql(CREATE_ORG, { input: { name } }, user.auth)).createOrganization.organization;
    expect(created).toMatchObject({ name: name.trim(), slug: `blue-sky-labs-${tag}`, viewerRole: 'OWNER', members: { totalCount: 1 } });
    expect(await roleOf(created.id, user.id)).toBe('OWNER');
    const mine = dataOf(await server.gql(`{ me { memberships { role organization { id } } } }`, {}, user.auth)).me.memberships;
    expect(mine).toEqual([{ role: 'OWNER', organization: { id: created.id } }]);

    // The same name again is not a conflict: the made-up slug gets a suffix.
    const again = dataOf(await server.gql(CREATE_ORG, { input: { name } }, user.auth)).createOrganization.organization;
    expect(again.id).not.toBe(created.id);
    expect(again.slug).toMatch(new RegExp(`^${created.slug}-[0-9a-f]{6}$`));
  });

  it('keeps an explicit slug', async () => {
    const user = await signUp(server, 'explicit');
    const slug = `my-team-${suffix()}`;
    const created = dataOf(await server.gql(CREATE_ORG, { input: { name: 'Whatever Name', slug } }, user.auth)).createOrganization.organization;
    expect(created).toMatchObject({ name: 'Whatever Name', slug, viewerRole: 'OWNER' });
    expect(await organizationRow(created.id)).toEqual({ name: 'Whatever Name', slug });
  });

  it('refuses a slug that is taken with CONFLICT, writing nothing', async () => {
    const [first, second] = await Promise.all([signUp(server, 'first'), signUp(server, 'second')]);
    const slug = `taken-${suffix()}`;
    dataOf(await server.gql(CREATE_ORG, { input: { name: 'First', slug } }, first.auth));
    const error = await refusedWithoutChange(server, () => server.gql(CREATE_ORG, { input: { name: 'Second', slug } }, second.auth), 'CONFLICT');
    expect(error.message).toMatch(/^slug: /);
    const owned = dataOf(await server.gql(`{ me { memberships { id } } }`, {}, second.auth)).me.memberships;
    expect(owned).toEqual([]);
  });

  it.each([
    ['uppercase letters', 'Bad-Slug'],
    ['spaces', 'bad slug'],
    ['a leading hyphen', '-bad'],
    ['a trailing hyphen', 'bad-'],
    ['an underscore', 'bad_slug'],
    ['65 characters', 'a'.repeat(65)],
    ['an empty string', ''],
  ])('refuses a slug with %s as BAD_USER_INPUT naming slug, writing nothing', async (_label, slug) => {
    const user = await signUp(server, 'badslug');
    const error = await refusedWithoutChange(server, () => server.gql(CREATE_ORG, { input: { name: 'Fine Name', slug } }, user.auth), 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('slug');
    expect(error.message).toMatch(/^slug: /);
  });

  it('refuses an empty name as BAD_USER_INPUT naming name', async () => {
    const user = await signUp(server, 'noname');
    const error = await refusedWithoutChange(server, () => server.gql(CREATE_ORG, { input: { name: '   ' } }, user.auth), 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('name');
  });

  it('needs credentials', async () => {
    const before = await tableCounts(server);
    const response = await server.gql(CREATE_ORG, { input: { name: 'Anonymous' } });
    expect(response.status).toBe(401);
    expect(onlyError(response).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await tableCounts(server)).toEqual(before);
  });
});

describe('organization(id)', () => {
  it('answers a member with their role', async () => {
    const { org, owner, viewer } = await createTeam(server);
    expect(dataOf(await server.gql(ORGANIZATION, { id: org.id }, viewer.auth)).organization).toMatchObject({ id: org.id, slug: org.slug, viewerRole: 'VIEWER' });
    expect(dataOf(await server.gql(ORGANIZATION, { id: org.id }, owner.auth)).organization.viewerRole).toBe('OWNER');
  });

  it('is NOT_FOUND for a non-member, an unknown id and a non-UUID id, with one message and never a 500', async () => {
    const { org, outsider } = await createTeam(server);
    const hidden = await server.gql(ORGANIZATION, { id: org.id }, outsider.auth);
    const unknown = await server.gql(ORGANIZATION, { id: NIL_UUID }, outsider.auth);
    const garbage = await server.gql(ORGANIZATION, { id: 'not-a-uuid' }, outsider.auth);
    for (const response of [hidden, unknown, garbage]) {
      expect(response.status).toBe(200);
      expect(response.body.data).toBeNull();
      expect(onlyError(response)).toMatchObject({ message: 'organization not found', extensions: { code: 'NOT_FOUND' } });
    }
    // A member asking with a malformed id gets the same answer.
    const { owner } = await createTeam(server);
    expect(onlyError(await server.gql(ORGANIZATION, { id: `${org.id}x` }, owner.auth)).extensions?.code).toBe('NOT_FOUND');
  });
});

describe('updateOrganization and deleteOrganization', () => {
  it('OWNER and ADMIN update the organization', async () => {
    const { org, owner, admin } = await createTeam(server);
    const slug = `renamed-${suffix()}`;
    expect(dataOf(await server.gql(UPDATE_ORG, { input: { id: org.id, name: 'Renamed', slug } }, admin.auth)).updateOrganization.organization).toEqual({
      id: org.id,
      name: 'Renamed',
      slug,
    });
    expect(dataOf(await server.gql(UPDATE_ORG, { input: { id: org.id, name: 'Again' } }, owner.auth)).updateOrganization.organization.name).toBe('Again');
    expect(await organizationRow(org.id)).toEqual({ name: 'Again', slug });
  });

  it('MEMBER and VIEWER are FORBIDDEN with extensions.right, and nothing changes', async () => {
    const { org, member, viewer } = await createTeam(server);
    const before = await organizationRow(org.id);
    for (const user of [member, viewer]) {
      const error = await refusedWithoutChange(server, () => server.gql(UPDATE_ORG, { input: { id: org.id, name: 'No' } }, user.auth), 'FORBIDDEN');
      expect(error.extensions?.right).toBe('organization.update');
    }
    expect(await organizationRow(org.id)).toEqual(before);
  });

  it('a taken slug is CONFLICT and a malformed one BAD_USER_INPUT', async () => {
    const a = await createTeam(server);
    const b = await createTeam(server);
    const before = await organizationRow(a.org.id);
    await refusedWithoutChange(server, () => server.gql(UPDATE_ORG, { input: { id: a.org.id, slug: b.org.slug } }, a.owner.auth), 'CONFLICT');
    const error = await refusedWithoutChange(server, () => server.gql(UPDATE_ORG, { input: { id: a.org.id, slug: 'Not OK' } }, a.owner.auth), 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('slug');
    expect(await organizationRow(a.org.id)).toEqual(before);
  });

  it('only an OWNER deletes the organization, and everything of it goes', async () => {
    const { org, owner, admin, member } = await createTeam(server);
    for (const user of [admin, member]) {
      const error = await refusedWithoutChange(server, () => server.gql(DELETE_ORG, { input: { id: org.id } }, user.auth), 'FORBIDDEN');
      expect(error.extensions?.right).toBe('organization.delete');
    }
    expect(dataOf(await server.gql(DELETE_ORG, { input: { id: org.id } }, owner.auth)).deleteOrganization.deletedOrganizationId).toBe(org.id);
    expect(await organizationRow(org.id)).toBeUndefined();
    const [{ memberships, events }] = await server.app.dataSource.query(
      `SELECT (SELECT count(*)::int FROM memberships WHERE "organizationId" = $1) AS memberships, (SELECT count(*)::int FROM audit_events WHERE "organizationId" = $1) AS events`,
      [org.id],
    );
    expect({ memberships, events }).toEqual({ memberships: 0, events: 0 });
    expect(onlyError(await server.gql(ORGANIZATION, { id: org.id }, owner.auth)).extensions?.code).toBe('NOT_FOUND');
  });
});

describe('addMember', () => {
  const add = (by: TestUser, organizationId: string, email: string, role: string) =>
    server.gql(ADD_MEMBER, { input: { organizationId, email, role } }, by.auth);

  it('MEMBER and VIEWER cannot add members', async () => {
    const { org, member, viewer } = await createTeam(server);
    const newcomer = await signUp(server, 'newcomer');
    for (const user of [member, viewer]) {
      const error = await refusedWithoutChange(server, () => add(user, org.id, newcomer.email, 'VIEWER'), 'FORBIDDEN');
      expect(error.extensions?.right).toBe('members.create');
    }
    expect(await roleOf(org.id, newcomer.id)).toBeNull();
  });

  it('ADMIN adds a MEMBER but cannot grant OWNER; an OWNER can', async () => {
    const { org, owner, admin } = await createTeam(server);
    const [newcomer, boss] = await Promise.all([signUp(server, 'newcomer'), signUp(server, 'boss')]);
    const error = await refusedWithoutChange(server, () => add(admin, org.id, boss.email, 'OWNER'), 'FORBIDDEN');
    expect(error.message).toBe('role: OWNER holds organization.delete, which your effective rights lack');
    expect(await roleOf(org.id, boss.id)).toBeNull();

    const added = dataOf(await add(admin, org.id, newcomer.email, 'MEMBER')).addMember.membership;
    expect(added).toMatchObject({ role: 'MEMBER', user: { id: newcomer.id, email: newcomer.email }, organization: { id: org.id } });
    await acceptMembership(server, newcomer, org.id);
    expect(dataOf(await server.gql(ORGANIZATION, { id: org.id }, newcomer.auth)).organization.viewerRole).toBe('MEMBER');

    expect(dataOf(await add(owner, org.id, boss.email, 'OWNER')).addMember.membership.role).toBe('OWNER');
    await acceptMembership(server, boss, org.id);
    expect(await ownerCount(org.id)).toBe(2);
  });

  it('an unknown email is NOT_FOUND and a malformed one BAD_USER_INPUT naming email', async () => {
    const { org, owner } = await createTeam(server);
    expect((await refusedWithoutChange(server, () => add(owner, org.id, `nobody-${suffix()}@example.com`, 'MEMBER'), 'NOT_FOUND')).message).toBe(
      'user with this email not found',
    );
    expect((await refusedWithoutChange(server, () => add(owner, org.id, 'nobody', 'MEMBER'), 'BAD_USER_INPUT')).extensions?.field).toBe('email');
  });

  it('adding someone who is already a member is CONFLICT, whatever the case of the email or the role asked', async () => {
    const { org, owner, member } = await createTeam(server);
    await refusedWithoutChange(server, () => add(owner, org.id, member.email, 'MEMBER'), 'CONFLICT');
    await refusedWithoutChange(server, () => add(owner, org.id, member.email.toUpperCase(), 'ADMIN'), 'CONFLICT');
    await refusedWithoutChange(server, () => add(owner, org.id, owner.email, 'VIEWER'), 'CONFLICT');
    expect(await roleOf(org.id, member.id)).toBe('MEMBER');
    expect(await roleOf(org.id, owner.id)).toBe('OWNER');
  });

  it('two admins adding the same person at once: one membership, the other request CONFLICT', async () => {
    const { org, owner, admin } = await createTeam(server);
    const newcomer = await signUp(server, 'racer');
    const results = await Promise.all([add(owner, org.id, newcomer.email, 'MEMBER'), add(admin, org.id, newcomer.email, 'VIEWER')]);
    expect(results.map((response) => response.body.errors?.[0]?.extensions?.code ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
    const [{ n }] = await server.app.dataSource.query(`SELECT count(*)::int AS n FROM memberships WHERE "organizationId" = $1 AND "userId" = $2`, [
      org.id,
      newcomer.id,
    ]);
    expect(n).toBe(1);
  });
});

describe('updateMemberRole and removeMember', () => {
  const setRole = (by: TestUser, organizationId: string, userId: string, role: string) =>
    server.gql(UPDATE_ROLE, { input: { organizationId, userId, role } }, by.auth);
  const remove = (by: TestUser, organizationId: string, userId: string) => server.gql(REMOVE, { input: { organizationId, userId } }, by.auth);

  it('the last OWNER can neither leave nor be demoted; a second OWNER makes both possible', async () => {
    const { org, owner, admin } = await createTeam(server);
    for (const attempt of [() => remove(owner, org.id, owner.id), () => setRole(owner, org.id, owner.id, 'ADMIN')]) {
      const error = await refusedWithoutChange(server, attempt, 'FORBIDDEN');
      expect(error.message).toBe('an organization must keep at least one OWNER');
      expect(error.message).toContain('OWNER');
    }
    expect(await roleOf(org.id, owner.id)).toBe('OWNER');

    expect(dataOf(await setRole(owner, org.id, admin.id, 'OWNER')).updateMemberRole.membership).toEqual({ role: 'OWNER', user: { id: admin.id } });
    expect(dataOf(await setRole(owner, org.id, owner.id, 'ADMIN')).updateMemberRole.membership.role).toBe('ADMIN');
    expect(await ownerCount(org.id)).toBe(1);

    // Now the former ADMIN is the last OWNER.
    expect((await refusedWithoutChange(server, () => remove(admin, org.id, admin.id), 'FORBIDDEN')).message).toContain('OWNER');
    dataOf(await setRole(admin, org.id, owner.id, 'OWNER'));
    expect(dataOf(await remove(admin, org.id, admin.id)).removeMember).toEqual({ removedUserId: admin.id, organization: null });
    expect(await roleOf(org.id, admin.id)).toBeNull();
    expect(await ownerCount(org.id)).toBe(1);
  });

  it('an ADMIN can neither demote nor remove an OWNER, nor promote anyone to OWNER', async () => {
    const { org, owner, admin, member } = await createTeam(server);
    const attempts = [
      () => setRole(admin, org.id, owner.id, 'MEMBER'),
      () => remove(admin, org.id, owner.id),
      () => setRole(admin, org.id, member.id, 'OWNER'),
      () => setRole(admin, org.id, admin.id, 'OWNER'),
    ];
    for (const attempt of attempts) expect((await refusedWithoutChange(server, attempt, 'FORBIDDEN')).message).toContain('OWNER');
    expect([await roleOf(org.id, owner.id), await roleOf(org.id, member.id), await roleOf(org.id, admin.id)]).toEqual(['OWNER', 'MEMBER', 'ADMIN']);
  });

  it('an ADMIN changes and removes members below OWNER', async () => {
    const { org, admin, member, viewer } = await createTeam(server);
    expect(dataOf(await setRole(admin, org.id, member.id, 'VIEWER')).updateMemberRole.membership.role).toBe('VIEWER');
    expect(dataOf(await remove(admin, org.id, viewer.id)).removeMember.removedUserId).toBe(viewer.id);
    expect([await roleOf(org.id, member.id), await roleOf(org.id, viewer.id)]).toEqual(['VIEWER', null]);
  });

  it('MEMBER and VIEWER cannot change roles or remove others', async () => {
    const { org, member, viewer } = await createTeam(server);
    expect((await refusedWithoutChange(server, () => setRole(member, org.id, viewer.id, 'MEMBER'), 'FORBIDDEN')).extensions?.right).toBe('members.update');
    expect((await refusedWithoutChange(server, () => setRole(viewer, org.id, viewer.id, 'MEMBER'), 'FORBIDDEN')).extensions?.right).toBe('members.update');
    expect((await refusedWithoutChange(server, () => remove(member, org.id, viewer.id), 'FORBIDDEN')).extensions?.right).toBe('members.delete');
    expect((await refusedWithoutChange(server, () => remove(viewer, org.id, member.id), 'FORBIDDEN')).extensions?.right).toBe('members.delete');
  });

  it('a member leaves by removing themself, and then cannot see the organization', async () => {
    const { org, member, viewer } = await createTeam(server);
    for (const user of [member, viewer]) {
      expect(dataOf(await remove(user, org.id, user.id)).removeMember.removedUserId).toBe(user.id);
      expect(await roleOf(org.id, user.id)).toBeNull();
      expect(onlyError(await server.gql(ORGANIZATION, { id: org.id }, user.auth)).extensions?.code).toBe('NOT_FOUND');
    }
  });

  it("leaving through an org-scoped API token needs the token's members.delete right", async () => {
    const { org, member } = await createTeam(server);
    const created = dataOf(
      await server.gql(
        `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`,
        { input: { organizationId: org.id, name: 'read-only', rights: { organization: { read: true } } } },
        member.auth,
      ),
    );
    const bearer = { authorization: `Bearer ${created.createApiToken.token}` };
    const error = await refusedWithoutChange(server, () => server.gql(REMOVE, { input: { organizationId: org.id, userId: member.id } }, bearer), 'FORBIDDEN');
    expect(error.extensions?.right).toBe('members.delete');
    expect(await roleOf(org.id, member.id)).toBe('MEMBER');
  });

  it('a non-UUID userId is BAD_USER_INPUT naming userId; an unknown one NOT_FOUND', async () => {
    const { org, owner } = await createTeam(server);
    for (const attempt of [() => remove(owner, org.id, 'x'), () => setRole(owner, org.id, 'not-a-uuid', 'VIEWER')]) {
      const error = await refusedWithoutChange(server, attempt, 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe('userId');
      expect(error.message).toMatch(/^userId: /);
    }
    for (const attempt of [() => remove(owner, org.id, NIL_UUID), () => setRole(owner, org.id, NIL_UUID, 'VIEWER')]) {
      expect((await refusedWithoutChange(server, attempt, 'NOT_FOUND')).message).toBe('member not found');
    }
  });
});

describe('organization isolation', () => {
  it('an OWNER of A reaches nothing of B: every operation is NOT_FOUND and nothing changes', async () => {
    const a = await createTeam(server);
    const b = await createTeam(server);
    const attacker = a.owner;
    const bBefore = await organizationRow(b.org.id);
    const attempts: [string, () => Promise<GraphQLResponse>][] = [
      ['organization', () => server.gql(ORGANIZATION, { id: b.org.id }, attacker.auth)],
      ['members', () => server.gql(`query ($id: ID!) { organization(id: $id) { members { totalCount } } }`, { id: b.org.id }, attacker.auth)],
      ['updateOrganization', () => server.gql(UPDATE_ORG, { input: { id: b.org.id, name: 'Pwned' } }, attacker.auth)],
      ['deleteOrganization', () => server.gql(DELETE_ORG, { input: { id: b.org.id } }, attacker.auth)],
      ['addMember', () => server.gql(ADD_MEMBER, { input: { organizationId: b.org.id, email: attacker.email, role: 'OWNER' } }, attacker.auth)],
      ['addMember', () => server.gql(ADD_MEMBER, { input: { organizationId: b.org.id, email: a.member.email, role: 'VIEWER' } }, attacker.auth)],
      ['updateMemberRole', () => server.gql(UPDATE_ROLE, { input: { organizationId: b.org.id, userId: b.owner.id, role: 'VIEWER' } }, attacker.auth)],
      ['removeMember', () => server.gql(REMOVE, { input: { organizationId: b.org.id, userId: b.owner.id } }, attacker.auth)],
      ['removeMember', () => server.gql(REMOVE, { input: { organizationId: b.org.id, userId: b.member.id } }, attacker.auth)],
    ];
    for (const [label, attempt] of attempts) {
      const error = await refusedWithoutChange(server, attempt, 'NOT_FOUND');
      expect([label, error.message]).toEqual([label, 'organization not found']);
    }
    expect(await organizationRow(b.org.id)).toEqual(bBefore);
    expect([await roleOf(b.org.id, b.owner.id), await roleOf(b.org.id, b.member.id), await roleOf(b.org.id, attacker.id)]).toEqual(['OWNER', 'MEMBER', null]);
  });

  it("B's members cannot be reached through A's id either", async () => {
    const a = await createTeam(server);
    const b = await createTeam(server);
    for (const attempt of [
      () => server.gql(UPDATE_ROLE, { input: { organizationId: a.org.id, userId: b.member.id, role: 'VIEWER' } }, a.owner.auth),
      () => server.gql(REMOVE, { input: { organizationId: a.org.id, userId: b.member.id } }, a.owner.auth),
    ]) {
      expect((await refusedWithoutChange(server, attempt, 'NOT_FOUND')).message).toBe('member not found');
    }
    expect(await roleOf(b.org.id, b.member.id)).toBe('MEMBER');
  });

  it('User.memberships shows only the organizations the viewer can see', async () => {
    const [x, y, bOwner] = await Promise.all([signUp(server, 'x'), signUp(server, 'y'), signUp(server, 'bowner')]);
    const orgA = await createOrganization(server, x, 'A');
    const orgB = await createOrganization(server, bOwner, 'B');
    await addMember(server, x, orgA.id, y, 'VIEWER');
    await addMember(server, bOwner, orgB.id, x, 'MEMBER');

    const query = `query ($id: ID!) { organization(id: $id) { members(first: 100) { edges { node { user { id memberships { role organization { id } } } } } } } }`;
    const membershipsOfXSeenBy = async (viewer: TestUser, organizationId: string) => {
      const edges = dataOf(await server.gql(query, { id: organizationId }, viewer.auth)).organization.members.edges;
      return edges.find((edge: any) => edge.node.user.id === x.id).node.user.memberships;
    };
    expect(await membershipsOfXSeenBy(y, orgA.id)).toEqual([{ role: 'OWNER', organization: { id: orgA.id } }]);
    expect(await membershipsOfXSeenBy(bOwner, orgB.id)).toEqual([{ role: 'MEMBER', organization: { id: orgB.id } }]);
    // X sees all of their own.
    const own = dataOf(await server.gql(`{ me { memberships { organization { id } } } }`, {}, x.auth)).me.memberships;
    expect(own.map((membership: any) => membership.organization.id).sort()).toEqual([orgA.id, orgB.id].sort());
  });
});

describe('concurrent role changes', () => {
  const demote = (by: TestUser, organizationId: string, userId: string) =>
    server.gql(UPDATE_ROLE, { input: { organizationId, userId, role: 'MEMBER' } }, by.auth);
  const outcome = (response: GraphQLResponse) => response.body.errors?.[0]?.extensions?.code ?? 'OK';

  it('two OWNERs demoting each other at once: exactly one wins and one OWNER remains', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { org, owner, admin } = await createTeam(server);
      dataOf(await server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: admin.id, role: 'OWNER' } }, owner.auth));
      const results = await Promise.all([demote(owner, org.id, admin.id), demote(admin, org.id, owner.id)]);
      expect(results.map(outcome).sort()).toEqual(['FORBIDDEN', 'OK']);
      expect(await ownerCount(org.id)).toBe(1);
      const winner = outcome(results[0]!) === 'OK' ? owner : admin;
      expect(await roleOf(org.id, winner.id)).toBe('OWNER');
    }
  });

  it('with a third OWNER, the one demoted first can no longer demote the other', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { org, owner, admin, member } = await createTeam(server);
      dataOf(await server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: admin.id, role: 'OWNER' } }, owner.auth));
      dataOf(await server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: member.id, role: 'OWNER' } }, owner.auth));
      const results = await Promise.all([demote(owner, org.id, admin.id), demote(admin, org.id, owner.id)]);
      expect(results.map(outcome).sort()).toEqual(['FORBIDDEN', 'OK']);
      expect(await ownerCount(org.id)).toBe(2);
      const [winner, loser] = outcome(results[0]!) === 'OK' ? [owner, admin] : [admin, owner];
      expect([await roleOf(org.id, winner.id), await roleOf(org.id, loser.id)]).toEqual(['OWNER', 'MEMBER']);
    }
  });
});

describe('Organization.members connection', () => {
  const PAGE = `query ($id: ID!, $first: Int, $after: String) {
    organization(id: $id) { members(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id role user { id } } } } }
  }`;
  const pageOf = async (auth: Record<string, string>, id: string, first: number | null, after: string | null) =>
    dataOf(await server.gql(PAGE, { id, first, after }, auth)).organization.members;

  let owner: TestUser;
  let org: { id: string };
  let users: TestUser[];
  beforeAll(async () => {
    owner = await signUp(server, 'pager');
    org = await createOrganization(server, owner);
    users = await Promise.all(Array.from({ length: 24 }, (_, i) => signUp(server, `m${i}`)));
    for (const user of users) await addMember(server, owner, org.id, user, 'VIEWER');
  });

  it('pages of 10 go through all 25 members once, oldest first, with the right pageInfo', async () => {
    const pages: any[] = [];
    let after: string | null = null;
    do {
      const page: any = await pageOf(owner.auth, org.id, 10, after);
      pages.push(page);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(pages.map((page) => page.edges.length)).toEqual([10, 10, 5]);
    expect(pages.map((page) => page.pageInfo.hasNextPage)).toEqual([true, true, false]);
    for (const page of pages) {
      expect(page.totalCount).toBe(25);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
    }
    const seen = pages.flatMap((page) => page.edges.map((edge: any) => edge.node.user.id));
    expect(new Set(seen).size).toBe(25);
    // Oldest first (by join time, then id): the owner, then everyone added.
    const joined = await server.app.dataSource.query(`SELECT "userId" FROM memberships WHERE "organizationId" = $1 ORDER BY "createdAt", id`, [org.id]);
    expect(seen).toEqual(joined.map((row: { userId: string }) => row.userId));
    expect(seen[0]).toBe(owner.id);
    expect(seen.slice(1).sort()).toEqual(users.map((user) => user.id).sort());

    // Stable: the same query twice gives the same page, and one page of 25 the same order.
    expect(await pageOf(owner.auth, org.id, 10, pages[0].pageInfo.endCursor)).toEqual(pages[1]);
    expect((await pageOf(owner.auth, org.id, 25, null)).edges.map((edge: any) => edge.node.user.id)).toEqual(seen);

    // After the last cursor: nothing, and no next page.
    const past = await pageOf(owner.auth, org.id, 10, pages[2].pageInfo.endCursor);
    expect(past).toEqual({ totalCount: 25, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
  });

  it('defaults to 20 and takes up to 100', async () => {
    const byDefault = await pageOf(owner.auth, org.id, null, null);
    expect(byDefault.edges).toHaveLength(20);
    expect(byDefault.pageInfo.hasNextPage).toBe(true);
    const all = await pageOf(owner.auth, org.id, 100, null);
    expect(all.edges).toHaveLength(25);
    expect(all.pageInfo.hasNextPage).toBe(false);
  });

  it('a member who joins while someone pages shows up once, at the end', async () => {
    const pagingOwner = await signUp(server, 'pager2');
    const small = await createOrganization(server, pagingOwner);
    const early = await Promise.all([signUp(server, 'e1'), signUp(server, 'e2')]);
    for (const user of early) await addMember(server, pagingOwner, small.id, user, 'VIEWER');
    const first = await pageOf(pagingOwner.auth, small.id, 2, null);
    const late = await signUp(server, 'late');
    await addMember(server, pagingOwner, small.id, late, 'VIEWER');
    const rest = await pageOf(pagingOwner.auth, small.id, 10, first.pageInfo.endCursor);
    const seen = [...first.edges, ...rest.edges].map((edge: any) => edge.node.user.id);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    expect(seen[0]).toBe(pagingOwner.id);
    expect(seen.slice(1, 3).sort()).toEqual(early.map((user) => user.id).sort());
    expect(seen[3]).toBe(late.id);
    expect(rest.totalCount).toBe(4);
  });

  it.each([
    ['a garbage cursor', { after: 'garbage' }, 'after'],
    ['a well-encoded cursor of the wrong shape', { after: Buffer.from('[1,2]').toString('base64url') }, 'after'],
    ['a cursor with a time no row can have', { after: Buffer.from(JSON.stringify([-9007199254740991, NIL_UUID])).toString('base64url') }, 'after'],
    ['a cursor with a time past what a Date holds', { after: Buffer.from(JSON.stringify([9007199254740991, NIL_UUID])).toString('base64url') }, 'after'],
    ['first: 0', { first: 0 }, 'first'],
    ['first: -1', { first: -1 }, 'first'],
    ['first: 101', { first: 101 }, 'first'],
  ])('refuses %s with BAD_USER_INPUT naming the argument', async (_label, args, field) => {
    const response = await server.gql(PAGE, { id: org.id, ...args }, owner.auth);
    const error = onlyError(response);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(error.message).toMatch(new RegExp(`^${field}: `));
  });
});

describe('statement count of a deep members query', () => {
  const DEEP = `query ($id: ID!) { organization(id: $id) { members(first: 100) { edges { node { role user { id email memberships { role organization { id name } } } } } } } }`;

  /** An organization of `memberCount` members, each also in a second organization; the statements the deep query takes. */
  async function statementsFor(memberCount: number): Promise<number> {
    const owner = await signUp(server, `big${memberCount}`);
    const org = await createOrganization(server, owner);
    const other = await createOrganization(server, owner, 'Other');
    const users = await Promise.all(Array.from({ length: memberCount - 1 }, (_, i) => signUp(server, `u${memberCount}-${i}`)));
    for (const user of users) {
      await addMember(server, owner, org.id, user, 'MEMBER');
      await addMember(server, owner, other.id, user, 'VIEWER');
    }
    const before = server.app.queries.count;
    const data = dataOf(await server.gql(DEEP, { id: org.id }, owner.auth));
    const statements = server.app.queries.count - before;
    const edges = data.organization.members.edges;
    expect(edges).toHaveLength(memberCount);
    expect(new Set(edges.map((edge: any) => edge.node.user.id)).size).toBe(memberCount);
    for (const edge of edges) {
      expect(edge.node.user.memberships.map((membership: any) => membership.organization.id).sort()).toEqual([org.id, other.id].sort());
    }
    return statements;
  }

  it('is the same for 5 members and for 50 (user key)', async () => {
    const five = await statementsFor(5);
    const fifty = await statementsFor(50);
    console.log(`SQL statements for organization(id) { members(first: 100) { ... user { memberships { organization } } } }: 5 members -> ${five}, 50 members -> ${fifty}`);
    expect(fifty).toBe(five);
    expect(five).toBeGreaterThan(0);
  });
});

describe('audit log', () => {
  it('records member added, role changed and removed with actor, credential, address and no secret', async () => {
    const { org, owner, admin } = await createTeam(server);
    const newcomer = await signUp(server, 'audited');
    dataOf(await server.gql(ADD_MEMBER, { input: { organizationId: org.id, email: newcomer.email, role: 'VIEWER' } }, admin.auth));
    await acceptMembership(server, newcomer, org.id);
    dataOf(await server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: newcomer.id, role: 'MEMBER' } }, owner.auth));
    dataOf(await server.gql(REMOVE, { input: { organizationId: org.id, userId: newcomer.id } }, admin.auth));
    const events = await server.app.dataSource.query(
      `SELECT "eventType", "actorKind", "actorId", "actorCredential", "targetType", "targetId", "clientAddress", changes
         FROM audit_events WHERE "organizationId" = $1 AND "targetId" = $2 ORDER BY "createdAt", id`,
      [org.id, newcomer.id],
    );
    expect(events).toEqual([
      expect.objectContaining({ eventType: 'member.invited', actorId: admin.id, changes: { role: 'VIEWER' } }),
      expect.objectContaining({ eventType: 'member.joined', actorId: newcomer.id, changes: { role: 'VIEWER' } }),
      expect.objectContaining({ eventType: 'member.role_changed', actorId: owner.id, changes: { from: 'VIEWER', to: 'MEMBER' } }),
      expect.objectContaining({ eventType: 'member.removed', actorId: admin.id, changes: { role: 'MEMBER', left: false } }),
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ actorKind: 'USER', actorCredential: 'USER_KEY', targetType: 'user', targetId: newcomer.id });
      expect(event.clientAddress).toMatch(/127\.0\.0\.1$/);
    }
    const everything = JSON.stringify(await server.app.dataSource.query(`SELECT * FROM audit_events WHERE "organizationId" = $1`, [org.id]));
    for (const secret of [owner.userKey, admin.userKey, newcomer.userKey, PASSWORD]) expect(everything).not.toContain(secret);
  });

  it('records a member leaving as such, and a refused change not at all', async () => {
    const { org, owner, viewer } = await createTeam(server);
    await refusedWithoutChange(server, () => server.gql(REMOVE, { input: { organizationId: org.id, userId: owner.id } }, owner.auth), 'FORBIDDEN');
    dataOf(await server.gql(REMOVE, { input: { organizationId: org.id, userId: viewer.id } }, viewer.auth));
    const events = await server.app.dataSource.query(
      `SELECT "eventType", "actorId", "targetId", changes FROM audit_events WHERE "organizationId" = $1 AND "eventType" = 'member.removed'`,
      [org.id],
    );
    expect(events).toEqual([{ eventType: 'member.removed', actorId: viewer.id, targetId: viewer.id, changes: { role: 'VIEWER', left: true } }]);
  });

  it('records organization created and updated', async () => {
    const { org, owner, admin } = await createTeam(server);
    dataOf(await server.gql(UPDATE_ORG, { input: { id: org.id, name: 'Audited Name' } }, admin.auth));
    const events = await server.app.dataSource.query(
      `SELECT "eventType", "actorId", "targetId", changes FROM audit_events WHERE "organizationId" = $1 AND "eventType" LIKE 'organization.%' ORDER BY "createdAt", id`,
      [org.id],
    );
    expect(events).toEqual([
      { eventType: 'organization.created', actorId: owner.id, targetId: org.id, changes: { name: expect.any(String), slug: org.slug } },
      { eventType: 'organization.updated', actorId: admin.id, targetId: org.id, changes: { name: 'Audited Name' } },
    ]);
  });
});
