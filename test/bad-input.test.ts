import { addMember, createOrganization, signUp, tableCounts } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ TRUST_PROXY: 'true' });
});
afterAll(() => server.close());

describe('input PostgreSQL would refuse is a clear error, never a 500', () => {
  it.each([
    ['signUp name', `mutation { signUp(input: { email: "nul@example.com", password: "correct horse battery", name: "a\\u0000b" }) { userKey } }`, 'BAD_USER_INPUT'],
    ['signUp email', `mutation { signUp(input: { email: "a\\u0000@example.com", password: "correct horse battery", name: "A" }) { userKey } }`, 'BAD_USER_INPUT'],
    ['logIn email', `mutation { logIn(input: { email: "a\\u0000@example.com", password: "x" }) { user { id } } }`, 'UNAUTHENTICATED'],
  ])('%s with a NUL character', async (_label, query, code) => {
    const before = await tableCounts(server);
    expect(onlyError(await server.gql(query)).extensions?.code).toBe(code);
    expect(await tableCounts(server)).toEqual(before);
  });

  it('organization names, token descriptions and audit filters with control characters', async () => {
    const user = await signUp(server, 'nul');
    const org = await createOrganization(server, user);
    expect(onlyError(await server.gql(`mutation { createOrganization(input: { name: "x\\u0000y" }) { organization { id } } }`, {}, user.auth)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(
      onlyError(await server.gql(`mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`, { input: { organizationId: org.id, name: 'ok', description: 'a\u0000b' } }, user.auth)).extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'description' });
    expect(onlyError(await server.gql(`query ($id: ID!) { organization(id: $id) { auditEvents(eventType: "a\\u0000") { totalCount } } }`, { id: org.id }, user.auth)).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'eventType',
    });
  });

  it('_entities representations with a missing or non-string id resolve to null', async () => {
    const user = await signUp(server, 'entities');
    const response = await server.gql(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }`,
      { r: [{ __typename: 'User', id: 5 }, { __typename: 'User' }, { __typename: 'User', id: user.id }] },
      user.auth,
    );
    expect(dataOf(response)._entities).toEqual([null, null, { id: user.id }]);
  });

  it('an X-Forwarded-For that is not an address falls back to the socket address', async () => {
    const user = await signUp(server, 'forwarded');
    const response = await server.gql(`mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }`, { input: { email: user.email, password: 'correct horse battery staple' } }, { 'x-forwarded-for': 'x'.repeat(60) });
    expect(dataOf(response).logIn.user.id).toBe(user.id);
    const [session] = await server.app.dataSource.query(`SELECT "clientAddress" FROM sessions WHERE "userId" = $1`, [user.id]);
    expect(session.clientAddress).toMatch(/127\.0\.0\.1/);
  });
});

describe('after a mutation, the rest of the operation sees its effect', () => {
  it('a member who leaves cannot read the member list in the same operation', async () => {
    const owner = await signUp(server, 'stay');
    const leaver = await signUp(server, 'leave');
    const org = await createOrganization(server, owner);
    await addMember(server, owner, org.id, leaver, 'MEMBER');
    const response = await server.gql(
      `mutation ($input: RemoveMemberInput!) { removeMember(input: $input) { removedUserId organization { members { totalCount } } } }`,
      { input: { organizationId: org.id, userId: leaver.id } },
      leaver.auth,
    );
    // The payload's organization is what `organization(id)` would show the caller now: nothing.
    expect(dataOf(response).removeMember).toEqual({ removedUserId: leaver.id, organization: null });
    const [{ n }] = await server.app.dataSource.query(`SELECT count(*)::int AS n FROM memberships WHERE "userId" = $1`, [leaver.id]);
    expect(n).toBe(0);
  });
});

describe('logOut', () => {
  it('ends the session the cookie names even when a key authenticates the request, and is safe without any credential', async () => {
    const user = await signUp(server, 'logout');
    const logIn = await server.gql(`mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }`, { input: { email: user.email, password: 'correct horse battery staple' } });
    const cookie = /idgraph_session=[^;]+/.exec(logIn.headers.get('set-cookie') ?? '')![0];
    expect(dataOf(await server.gql(`mutation { logOut { ok } }`, {}, { ...user.auth, cookie })).logOut.ok).toBe(true);
    expect((await server.gql(`{ me { id } }`, {}, { cookie })).status).toBe(401);
    const anonymous = await server.gql(`mutation { logOut { ok } }`, {}, { cookie });
    expect(dataOf(anonymous).logOut.ok).toBe(true);
    expect(anonymous.headers.get('set-cookie')).toMatch(/idgraph_session=;/);
  });
});
