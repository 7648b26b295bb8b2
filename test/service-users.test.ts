import { randomBytes } from 'node:crypto';
import { addMember, createOrganization, signUp, tableCounts } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const CREATE = `mutation ($input: CreateServiceUserInput!) { createServiceUser(input: $input) { serviceUser { id name role organization { id } createdBy { id } } } }`;
const UPDATE = `mutation ($input: UpdateServiceUserInput!) { updateServiceUser(input: $input) { serviceUser { id name role } } }`;
const DELETE = `mutation ($input: DeleteServiceUserInput!) { deleteServiceUser(input: $input) { deletedServiceUserId } }`;

async function team() {
  const [owner, admin, member] = await Promise.all(['owner', 'admin', 'member'].map((name) => signUp(server, name)));
  const org = await createOrganization(server, owner!);
  await addMember(server, owner!, org.id, admin!, 'ADMIN');
  await addMember(server, owner!, org.id, member!, 'MEMBER');
  return { org, owner: owner!, admin: admin!, member: member! };
}

async function refusedWithoutChange(request: () => Promise<any>, code: string) {
  const before = await tableCounts(server);
  const error = onlyError(await request());
  expect(error.extensions?.code).toBe(code);
  expect(await tableCounts(server)).toEqual(before);
  return error;
}

describe('createServiceUser', () => {
  it('OWNER and ADMIN create service users in their organization', async () => {
    const { org, owner, admin } = await team();
    const made = dataOf(await server.gql(CREATE, { input: { organizationId: org.id, name: 'ci-bot', role: 'MEMBER' } }, admin.auth)).createServiceUser.serviceUser;
    expect(made).toMatchObject({ name: 'ci-bot', role: 'MEMBER', organization: { id: org.id }, createdBy: { id: admin.id } });
    const owned = dataOf(await server.gql(CREATE, { input: { organizationId: org.id, name: 'deployer', role: 'OWNER' } }, owner.auth)).createServiceUser.serviceUser;
    expect(owned.role).toBe('OWNER');
  });

  it('refuses MEMBER, a role above the caller’s, a duplicate name and an empty name, writing nothing', async () => {
    const { org, admin, member } = await team();
    const create = (auth: Record<string, string>, name: string, role: string) =>
      server.gql(CREATE, { input: { organizationId: org.id, name, role } }, auth);
    expect((await refusedWithoutChange(() => create(member.auth, 'bot', 'VIEWER'), 'FORBIDDEN')).extensions?.right).toBe('serviceUsers.create');
    expect((await refusedWithoutChange(() => create(admin.auth, 'boss-bot', 'OWNER'), 'FORBIDDEN')).message).toBe('role: OWNER exceeds your own role ADMIN');
    dataOf(await create(admin.auth, 'twin', 'VIEWER'));
    await refusedWithoutChange(() => create(admin.auth, 'twin', 'VIEWER'), 'CONFLICT');
    expect((await refusedWithoutChange(() => create(admin.auth, '  ', 'VIEWER'), 'BAD_USER_INPUT')).extensions?.field).toBe('name');
  });
});

describe('updateServiceUser and deleteServiceUser', () => {
  it('renames and changes the role within the caller’s own', async () => {
    const { org, admin } = await team();
    const bot = dataOf(await server.gql(CREATE, { input: { organizationId: org.id, name: 'bot', role: 'VIEWER' } }, admin.auth)).createServiceUser.serviceUser;
    expect(dataOf(await server.gql(UPDATE, { input: { id: bot.id, name: 'robot', role: 'ADMIN' } }, admin.auth)).updateServiceUser.serviceUser).toMatchObject({
      name: 'robot',
      role: 'ADMIN',
    });
    await refusedWithoutChange(() => server.gql(UPDATE, { input: { id: bot.id, role: 'OWNER' } }, admin.auth), 'FORBIDDEN');
  });

  it('an ADMIN cannot change or delete an OWNER service user', async () => {
    const { org, owner, admin } = await team();
    const bot = dataOf(await server.gql(CREATE, { input: { organizationId: org.id, name: 'root-bot', role: 'OWNER' } }, owner.auth)).createServiceUser.serviceUser;
    await refusedWithoutChange(() => server.gql(UPDATE, { input: { id: bot.id, role: 'VIEWER' } }, admin.auth), 'FORBIDDEN');
    await refusedWithoutChange(() => server.gql(DELETE, { input: { id: bot.id } }, admin.auth), 'FORBIDDEN');
  });

  it('deleting a service user removes its tokens with it', async () => {
    const { org, owner } = await team();
    const bot = dataOf(await server.gql(CREATE, { input: { organizationId: org.id, name: 'token-bot', role: 'MEMBER' } }, owner.auth)).createServiceUser.serviceUser;
    await server.app.dataSource.query(
      `INSERT INTO api_tokens ("organizationId", "ownerServiceUserId", name, "tokenPrefix", "secretDigest", rights) VALUES ($1, $2, 'deploy', 'idg_abcdefgh', $3, 0)`,
      [org.id, bot.id, randomBytes(32)],
    );
    expect(dataOf(await server.gql(DELETE, { input: { id: bot.id } }, owner.auth)).deleteServiceUser.deletedServiceUserId).toBe(bot.id);
    const [{ tokens }] = await server.app.dataSource.query(`SELECT count(*)::int AS tokens FROM api_tokens WHERE "ownerServiceUserId" = $1`, [bot.id]);
    expect(tokens).toBe(0);
  });

  it('an unknown, malformed or foreign id is NOT_FOUND', async () => {
    const mine = await team();
    const theirs = await team();
    const foreign = dataOf(await server.gql(CREATE, { input: { organizationId: theirs.org.id, name: 'theirs', role: 'VIEWER' } }, theirs.owner.auth)).createServiceUser.serviceUser;
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope', foreign.id]) {
      const error = await refusedWithoutChange(() => server.gql(DELETE, { input: { id } }, mine.owner.auth), 'NOT_FOUND');
      expect(error.message).toBe('service user not found');
      await refusedWithoutChange(() => server.gql(UPDATE, { input: { id, name: 'x' } }, mine.owner.auth), 'NOT_FOUND');
    }
  });
});

describe('Organization.serviceUsers', () => {
  it('is a connection, readable by OWNER/ADMIN and refused to MEMBER', async () => {
    const { org, owner, admin, member } = await team();
    for (let i = 0; i < 3; i += 1) dataOf(await server.gql(CREATE, { input: { organizationId: org.id, name: `bot-${i}`, role: 'VIEWER' } }, owner.auth));
    const query = `query ($id: ID!, $after: String) { organization(id: $id) { serviceUsers(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } } }`;
    const first = dataOf(await server.gql(query, { id: org.id }, admin.auth)).organization.serviceUsers;
    expect(first.totalCount).toBe(3);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = dataOf(await server.gql(query, { id: org.id, after: first.pageInfo.endCursor }, admin.auth)).organization.serviceUsers;
    expect([...first.edges, ...second.edges].map((edge: any) => edge.node.name)).toEqual(['bot-0', 'bot-1', 'bot-2']);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(onlyError(await server.gql(query, { id: org.id }, member.auth)).extensions).toMatchObject({ code: 'FORBIDDEN', right: 'serviceUsers.read' });
  });

  it('audits creation, update and deletion', async () => {
    const { org, owner } = await team();
    const bot = dataOf(await server.gql(CREATE, { input: { organizationId: org.id, name: 'audited', role: 'VIEWER' } }, owner.auth)).createServiceUser.serviceUser;
    dataOf(await server.gql(UPDATE, { input: { id: bot.id, name: 'audited-2' } }, owner.auth));
    dataOf(await server.gql(DELETE, { input: { id: bot.id } }, owner.auth));
    const events = await server.app.dataSource.query(
      `SELECT "eventType", "actorId", changes FROM audit_events WHERE "targetId" = $1 ORDER BY "createdAt", id`,
      [bot.id],
    );
    expect(events).toEqual([
      { eventType: 'service_user.created', actorId: owner.id, changes: { name: 'audited', role: 'VIEWER' } },
      { eventType: 'service_user.updated', actorId: owner.id, changes: { name: 'audited-2' } },
      { eventType: 'service_user.deleted', actorId: owner.id, changes: { name: 'audited-2', role: 'VIEWER' } },
    ]);
  });
});
