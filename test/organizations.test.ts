import { addMember, createOrganization, signUp, tableCounts, type TestUser } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const ADD_MEMBER = `mutation ($input: AddMemberInput!) { addMember(input: $input) { membership { id role user { id } } } }`;
const UPDATE_ROLE = `mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { membership { role } } }`;
const REMOVE = `mutation ($input: RemoveMemberInput!) { removeMember(input: $input) { removedUserId } }`;
const UPDATE_ORG = `mutation ($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { organization { name slug } } }`;
const DELETE_ORG = `mutation ($input: DeleteOrganizationInput!) { deleteOrganization(input: $input) { deletedOrganizationId } }`;

/** An organization with one user per role. */
async function team() {
  const [owner, admin, member, viewer, outsider] = await Promise.all(
    ['owner', 'admin', 'member', 'viewer', 'outsider'].map((name) => signUp(server, name)),
  );
  const org = await createOrganization(server, owner!);
  await addMember(server, owner!, org.id, admin!, 'ADMIN');
  await addMember(server, owner!, org.id, member!, 'MEMBER');
  await addMember(server, owner!, org.id, viewer!, 'VIEWER');
  return { org, owner: owner!, admin: admin!, member: member!, viewer: viewer!, outsider: outsider! };
}

/** Runs `request` and expects it refused with `code`, leaving every table as it was. */
async function refusedWithoutChange(request: () => Promise<any>, code: string) {
  const before = await tableCounts(server);
  const response = await request();
  const error = onlyError(response);
  expect(error.extensions?.code).toBe(code);
  expect(await tableCounts(server)).toEqual(before);
  return error;
}

describe('createOrganization', () => {
  it('makes the caller OWNER and a slug from the name', async () => {
    const user = await signUp(server, 'founder');
    const data = dataOf(
      await server.gql(`mutation { createOrganization(input: { name: "Blue Sky Labs!" }) { organization { id slug viewerRole members { totalCount } } } }`, {}, user.auth),
    );
    expect(data.createOrganization.organization).toMatchObject({ slug: 'blue-sky-labs', viewerRole: 'OWNER', members: { totalCount: 1 } });
  });

  it('refuses a taken slug with CONFLICT and a malformed one with BAD_USER_INPUT, writing nothing', async () => {
    const user = await signUp(server, 'slugger');
    const create = (slug: string) =>
      server.gql(`mutation ($slug: String) { createOrganization(input: { name: "X", slug: $slug }) { organization { id } } }`, { slug }, user.auth);
    dataOf(await create('taken-slug'));
    await refusedWithoutChange(() => create('taken-slug'), 'CONFLICT');
    const error = await refusedWithoutChange(() => create('-Bad Slug-'), 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('slug');
  });
});

describe('organization(id)', () => {
  it('answers members and hides the organization from anyone else as NOT_FOUND', async () => {
    const { org, viewer, outsider } = await team();
    const query = `query ($id: ID!) { organization(id: $id) { id viewerRole } }`;
    expect(dataOf(await server.gql(query, { id: org.id }, viewer.auth)).organization).toEqual({ id: org.id, viewerRole: 'VIEWER' });
    const hidden = onlyError(await server.gql(query, { id: org.id }, outsider.auth));
    const missing = onlyError(await server.gql(query, { id: '00000000-0000-4000-8000-000000000000' }, outsider.auth));
    const garbage = onlyError(await server.gql(query, { id: 'not-a-uuid' }, outsider.auth));
    expect(hidden).toMatchObject({ message: 'organization not found', extensions: { code: 'NOT_FOUND' } });
    expect(missing.message).toBe(hidden.message);
    expect(garbage.message).toBe(hidden.message);
  });
});

describe('roles', () => {
  it('lets OWNER and ADMIN update the organization, not MEMBER or VIEWER', async () => {
    const { org, owner, admin, member, viewer } = await team();
    expect(dataOf(await server.gql(UPDATE_ORG, { input: { id: org.id, name: 'Renamed' } }, admin.auth)).updateOrganization.organization.name).toBe('Renamed');
    expect(dataOf(await server.gql(UPDATE_ORG, { input: { id: org.id, name: 'Again' } }, owner.auth)).updateOrganization.organization.name).toBe('Again');
    for (const user of [member, viewer]) {
      const error = await refusedWithoutChange(() => server.gql(UPDATE_ORG, { input: { id: org.id, name: 'No' } }, user.auth), 'FORBIDDEN');
      expect(error.extensions?.right).toBe('organization.update');
    }
  });

  it('lets only an OWNER delete the organization', async () => {
    const { org, owner, admin } = await team();
    await refusedWithoutChange(() => server.gql(DELETE_ORG, { input: { id: org.id } }, admin.auth), 'FORBIDDEN');
    expect(dataOf(await server.gql(DELETE_ORG, { input: { id: org.id } }, owner.auth)).deleteOrganization.deletedOrganizationId).toBe(org.id);
    const [{ n }] = await server.app.dataSource.query(`SELECT count(*)::int AS n FROM memberships WHERE "organizationId" = $1`, [org.id]);
    expect(n).toBe(0);
  });

  it('MEMBER cannot add members; ADMIN can, but cannot grant OWNER', async () => {
    const { org, admin, member } = await team();
    const newcomer = await signUp(server, 'newcomer');
    const add = (by: TestUser, role: string) => server.gql(ADD_MEMBER, { input: { organizationId: org.id, email: newcomer.email, role } }, by.auth);
    expect((await refusedWithoutChange(() => add(member, 'VIEWER'), 'FORBIDDEN')).extensions?.right).toBe('members.create');
    expect((await refusedWithoutChange(() => add(admin, 'OWNER'), 'FORBIDDEN')).message).toBe('only an OWNER can grant the OWNER role');
    expect(dataOf(await add(admin, 'MEMBER')).addMember.membership).toMatchObject({ role: 'MEMBER', user: { id: newcomer.id } });
    await refusedWithoutChange(() => add(admin, 'VIEWER'), 'CONFLICT');
  });

  it('refuses an unknown email as NOT_FOUND and a malformed one as BAD_USER_INPUT', async () => {
    const { org, owner } = await team();
    const add = (email: string) => server.gql(ADD_MEMBER, { input: { organizationId: org.id, email, role: 'MEMBER' } }, owner.auth);
    await refusedWithoutChange(() => add('nobody@example.com'), 'NOT_FOUND');
    expect((await refusedWithoutChange(() => add('nobody'), 'BAD_USER_INPUT')).extensions?.field).toBe('email');
  });

  it('ADMIN cannot demote or remove an OWNER', async () => {
    const { org, owner, admin } = await team();
    await refusedWithoutChange(() => server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: owner.id, role: 'MEMBER' } }, admin.auth), 'FORBIDDEN');
    await refusedWithoutChange(() => server.gql(REMOVE, { input: { organizationId: org.id, userId: owner.id } }, admin.auth), 'FORBIDDEN');
  });
});

describe('an organization keeps at least one OWNER', () => {
  it('the last OWNER can neither leave nor be demoted; with a second OWNER they can', async () => {
    const { org, owner, admin } = await team();
    const leave = () => server.gql(REMOVE, { input: { organizationId: org.id, userId: owner.id } }, owner.auth);
    const demote = () => server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: owner.id, role: 'ADMIN' } }, owner.auth);
    expect((await refusedWithoutChange(leave, 'FORBIDDEN')).message).toBe('an organization must keep at least one OWNER');
    expect((await refusedWithoutChange(demote, 'FORBIDDEN')).message).toBe('an organization must keep at least one OWNER');
    dataOf(await server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: admin.id, role: 'OWNER' } }, owner.auth));
    expect(dataOf(await leave()).removeMember.removedUserId).toBe(owner.id);
  });

  it('two OWNERs demoting each other at once: exactly one wins', async () => {
    const { org, owner, admin } = await team();
    dataOf(await server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: admin.id, role: 'OWNER' } }, owner.auth));
    const results = await Promise.all([
      server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: admin.id, role: 'MEMBER' } }, owner.auth),
      server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: owner.id, role: 'MEMBER' } }, admin.auth),
    ]);
    const outcomes = results.map((response) => response.body.errors?.[0]?.extensions?.code ?? 'OK').sort();
    expect(outcomes).toEqual(['FORBIDDEN', 'OK']);
    const [{ n }] = await server.app.dataSource.query(`SELECT count(*)::int AS n FROM memberships WHERE "organizationId" = $1 AND role = 'OWNER'`, [org.id]);
    expect(n).toBe(1);
  });

  it('any member may leave', async () => {
    const { org, viewer } = await team();
    expect(dataOf(await server.gql(REMOVE, { input: { organizationId: org.id, userId: viewer.id } }, viewer.auth)).removeMember.removedUserId).toBe(viewer.id);
  });

  it('a malformed userId is BAD_USER_INPUT naming it', async () => {
    const { org, owner } = await team();
    const error = await refusedWithoutChange(() => server.gql(REMOVE, { input: { organizationId: org.id, userId: 'x' } }, owner.auth), 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('userId');
  });
});

describe('organization isolation', () => {
  it("an OWNER of A reaches nothing of B: every operation is NOT_FOUND and nothing changes", async () => {
    const a = await team();
    const b = await team();
    const attacker = a.owner;
    const attempts = [
      () => server.gql(`query ($id: ID!) { organization(id: $id) { id } }`, { id: b.org.id }, attacker.auth),
      () => server.gql(UPDATE_ORG, { input: { id: b.org.id, name: 'Pwned' } }, attacker.auth),
      () => server.gql(DELETE_ORG, { input: { id: b.org.id } }, attacker.auth),
      () => server.gql(ADD_MEMBER, { input: { organizationId: b.org.id, email: attacker.email, role: 'OWNER' } }, attacker.auth),
      () => server.gql(UPDATE_ROLE, { input: { organizationId: b.org.id, userId: b.owner.id, role: 'VIEWER' } }, attacker.auth),
      () => server.gql(REMOVE, { input: { organizationId: b.org.id, userId: b.owner.id } }, attacker.auth),
    ];
    for (const attempt of attempts) await refusedWithoutChange(attempt, 'NOT_FOUND');
  });

  it("User.memberships shows only organizations the viewer can see", async () => {
    const a = await team();
    const b = await team();
    await addMember(server, b.owner, b.org.id, a.member, 'MEMBER');
    const query = `query ($id: ID!) { organization(id: $id) { members(first: 100) { edges { node { user { id memberships { organization { id } } } } } } } }`;
    const seenByViewer = dataOf(await server.gql(query, { id: a.org.id }, a.viewer.auth));
    const member = seenByViewer.organization.members.edges.find((edge: any) => edge.node.user.id === a.member.id).node.user;
    expect(member.memberships.map((m: any) => m.organization.id)).toEqual([a.org.id]);
    const own = dataOf(await server.gql(`{ me { memberships { organization { id } } } }`, {}, a.member.auth));
    expect(own.me.memberships.map((m: any) => m.organization.id).sort()).toEqual([a.org.id, b.org.id].sort());
  });
});

describe('Organization.members connection', () => {
  const PAGE = `query ($id: ID!, $first: Int, $after: String) {
    organization(id: $id) { members(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { user { id } } } } }
  }`;

  it('pages through every member once, in a stable order', async () => {
    const owner = await signUp(server, 'pager');
    const org = await createOrganization(server, owner);
    const users = await Promise.all(Array.from({ length: 24 }, (_, i) => signUp(server, `m${i}`)));
    for (const user of users) await addMember(server, owner, org.id, user, 'VIEWER');
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: any = dataOf(await server.gql(PAGE, { id: org.id, first: 10, after }, owner.auth)).organization.members;
      expect(page.totalCount).toBe(25);
      seen.push(...page.edges.map((edge: any) => edge.node.user.id));
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen.slice(1).sort()).toEqual(users.map((user) => user.id).sort());
    const again = dataOf(await server.gql(PAGE, { id: org.id, first: 25 }, owner.auth)).organization.members.edges.map((edge: any) => edge.node.user.id);
    expect(again).toEqual(seen);
  });

  it.each([
    ['a garbage cursor', { after: 'garbage' }, 'after'],
    ['a well-encoded cursor of the wrong shape', { after: Buffer.from('[1,2]').toString('base64url') }, 'after'],
    ['first: 0', { first: 0 }, 'first'],
    ['first: 101', { first: 101 }, 'first'],
  ])('refuses %s with BAD_USER_INPUT', async (_label, args, field) => {
    const owner = await signUp(server, 'badpage');
    const org = await createOrganization(server, owner);
    const error = onlyError(await server.gql(PAGE, { id: org.id, ...args }, owner.auth));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});

describe('per-request DataLoaders', () => {
  const DEEP = `query ($id: ID!) { organization(id: $id) { members(first: 100) { edges { node { role user { id email memberships { role organization { id name } } } } } } } }`;

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
    expect(data.organization.members.edges).toHaveLength(memberCount);
    expect(data.organization.members.edges.every((edge: any) => edge.node.user.memberships.length === 2)).toBe(true);
    return statements;
  }

  it('answers members { user { memberships { organization } } } in the same number of statements for 5 and 50 members', async () => {
    const five = await statementsFor(5);
    const fifty = await statementsFor(50);
    console.log(`SQL statements for organization.members { user { memberships { organization } } }: 5 members -> ${five}, 50 members -> ${fifty}`);
    expect(fifty).toBe(five);
    // user key, caller's membership, organization, member count, member page, users,
    // their memberships, the caller's standing in those organizations, those organizations.
    expect(five).toBeLessThanOrEqual(9);
  });
});

describe('audit log', () => {
  it('records membership changes with actor, address and what changed', async () => {
    const { org, owner, viewer } = await team();
    dataOf(await server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: viewer.id, role: 'MEMBER' } }, owner.auth));
    dataOf(await server.gql(REMOVE, { input: { organizationId: org.id, userId: viewer.id } }, owner.auth));
    const events = await server.app.dataSource.query(
      `SELECT "eventType", "actorId", "actorCredential", "targetId", "clientAddress", changes FROM audit_events WHERE "organizationId" = $1 ORDER BY "createdAt", id`,
      [org.id],
    );
    expect(events.map((event: any) => event.eventType)).toEqual([
      'organization.created',
      'member.added',
      'member.added',
      'member.added',
      'member.role_changed',
      'member.removed',
    ]);
    const roleChange = events[4];
    expect(roleChange).toMatchObject({ actorId: owner.id, actorCredential: 'USER_KEY', targetId: viewer.id, changes: { from: 'VIEWER', to: 'MEMBER' } });
    expect(roleChange.clientAddress).toMatch(/127\.0\.0\.1/);
    expect(JSON.stringify(events)).not.toContain(owner.userKey);
  });
});
