import { createOrganization, PASSWORD, signUp } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

function nested(depth: number): string {
  // organization → members → edges → node → user → memberships → organization → members → …
  let selection = 'id';
  for (let level = 0; level < depth; level += 1) selection = `memberships { organization { members { edges { node { user { ${selection} } } } } } }`;
  return `{ me { ${selection} } }`;
}

function expectRefusal(response: { status: number; body: any }, pattern: RegExp) {
  expect(response.status).toBe(400);
  const error = onlyError(response as any);
  expect(error.message).toMatch(pattern);
  expect(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_USER_INPUT']).toContain(error.extensions?.code);
  expect(JSON.stringify(response.body)).not.toMatch(/stacktrace|node_modules/);
}

describe('limits on a GraphQL document', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ GRAPHQL_MAX_COST: '50000' });
  });
  afterAll(() => server.close());

  it('refuses depth over 10', async () => {
    const user = await signUp(server, 'deep');
    expectRefusal(await server.gql(nested(2), {}, user.auth), /depth limit of 10/i);
  });

  it('refuses more than 15 aliases', async () => {
    const user = await signUp(server, 'aliases');
    const query = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    expectRefusal(await server.gql(query(16), {}, user.auth), /aliases limit of 15/i);
    expect(dataOf(await server.gql(query(15), {}, user.auth)).a14.id).toBe(user.id);
  });

  it('counts aliases of __typename, and aliases named __typename, like any other', async () => {
    const typenames = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `t${i}: __typename`).join(' ')} }`;
    expectRefusal(await server.gql(typenames(300)), /aliases limit of 15 exceeded, found 300\./i);
    expectRefusal(await server.gql(typenames(16)), /aliases limit of 15 exceeded, found 16\./i);
    expect(dataOf(await server.gql(typenames(15))).t14).toBe('Query');
    const user = await signUp(server, 'typename-alias');
    const named = `{ __typename: me { id } ${Array.from({ length: 15 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    expectRefusal(await server.gql(named, {}, user.auth), /aliases limit of 15 exceeded, found 16\./i);
  });

  it('refuses more than 1000 tokens', async () => {
    expectRefusal(await server.gql(`{ ${'__typename '.repeat(1001)}}`), /more that 1000 tokens/i);
  });

  it('refuses too many directives', async () => {
    expectRefusal(await server.gql(`{ ${'__typename @include(if: true) '.repeat(21)}}`), /directives limit of 20/i);
  });

  it('20 aliased logIn fields are refused as a document', async () => {
    const query = `mutation { ${Array.from({ length: 20 }, (_, i) => `l${i}: logIn(input: { email: "x@example.com", password: "wrong password" }) { user { id } }`).join(' ')} }`;
    expectRefusal(await server.gql(query), /aliases limit/i);
  });
});

describe('aliases cannot multiply rate-limited work', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ GRAPHQL_MAX_ALIASES: '30', LOGIN_RATE_LIMIT: '10', TOKEN_RATE_LIMIT: '10', TOKEN_ENDPOINT_RATE_LIMIT: '10', TRUST_PROXY: 'true' });
  });
  afterAll(() => server.close());

  /** Mutation fields run one after another and stop at the first refusal: every one that ran was counted. */
  function expectCountedEach(response: any, field: string) {
    const ran = Object.keys(response.body.data ?? {}).length;
    expect(onlyError(response)).toMatchObject({ path: [`${field}10`], extensions: { code: 'RATE_LIMITED' } });
    expect(ran).toBe(0);
  }

  it('20 aliased logIn fields count as 20 attempts: the eleventh is refused', async () => {
    const user = await signUp(server, 'alias-login');
    const query = `mutation { ${Array.from({ length: 20 }, (_, i) => `l${i}: logIn(input: { email: "${user.email}", password: "${PASSWORD}" }) { user { id } }`).join(' ')} }`;
    expectCountedEach(await server.gql(query, {}, { 'x-forwarded-for': '198.51.100.10' }), 'l');
  });

  it('20 aliased createApiToken fields create no more than the limit', async () => {
    const user = await signUp(server, 'alias-token');
    const org = await createOrganization(server, user);
    const query = `mutation { ${Array.from({ length: 20 }, (_, i) => `t${i}: createApiToken(input: { organizationId: "${org.id}", name: "t${i}" }) { apiToken { id } }`).join(' ')} }`;
    expectCountedEach(await server.gql(query, {}, user.auth), 't');
    const [{ n }] = await server.app.dataSource.query(`SELECT count(*)::int AS n FROM api_tokens WHERE "organizationId" = $1`, [org.id]);
    expect(n).toBe(10);
  });

  it('20 aliased refreshAccessToken fields count as 20 exchanges', async () => {
    const user = await signUp(server, 'alias-refresh');
    const refresh = dataOf(await server.gql(`mutation { createPersonalAccessToken(input: { name: "p" }) { refresh } }`, {}, user.auth)).createPersonalAccessToken.refresh;
    const query = `mutation ($refresh: String!) { ${Array.from({ length: 20 }, (_, i) => `r${i}: refreshAccessToken(input: { refresh: $refresh }) { access }`).join(' ')} }`;
    expectCountedEach(await server.gql(query, { refresh }, { 'x-forwarded-for': '198.51.100.11' }), 'r');
  });
});

describe('in production', () => {
  let server: TestServer;
  let enabled: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ NODE_ENV: 'production' });
    enabled = await startTestServer({ NODE_ENV: 'production', INTROSPECTION: 'true', GRAPHIQL: 'true' }, server.databaseUrl);
  });
  afterAll(async () => {
    await enabled.close();
    await server.close();
  });

  it('turns introspection and field suggestions off unless INTROSPECTION=true', async () => {
    const introspection = await server.gql(`{ __schema { queryType { name } } }`);
    expect(introspection.status).toBe(400);
    expect(onlyError(introspection).message).toMatch(/introspection/i);
    const typo = await server.gql(`{ viewr { id } }`);
    expect(onlyError(typo).message).not.toMatch(/did you mean/i);
    expect(dataOf(await enabled.gql(`{ __schema { queryType { name } } }`)).__schema.queryType.name).toBe('Query');
    expect(onlyError(await enabled.gql(`{ viewr { id } }`)).message).toMatch(/did you mean "viewer"/i);
  });

  it('serves GraphiQL only when GRAPHIQL=true, and never the CDN landing page', async () => {
    expect((await fetch(`${server.url}/graphiql`)).status).toBe(404);
    expect(await (await fetch(`${server.url}/`)).text()).not.toContain('/graphiql');
    const page = await fetch(`${enabled.url}/graphiql`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/graphiql/static/');
    expect(html).not.toMatch(/https?:\/\/(?!localhost)/);
    const landing = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await landing.text()).not.toMatch(/cdn|apollographql\.com/i);
  });
});
