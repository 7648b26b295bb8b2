import { createOrganization, signUp, tableCounts } from './support/factories';
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
