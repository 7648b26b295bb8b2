import { PASSWORD, createTeam, signUp } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

const LOG_IN = `mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }`;
const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`;
const CREATE_TOKEN = `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`;
const LEAKED = `mutation ($input: RevokeLeakedTokenInput!) { revokeLeakedToken(input: $input) { ok } }`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** An IPv6 link-local address with a zone id that pads it to `length` characters. */
const zoned = (length: number) => `fe80::1%${'a'.repeat(length - 'fe80::1%'.length)}`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ TRUST_PROXY: 'true', TOKEN_USAGE_FLUSH_SECONDS: '3600' });
});
afterAll(() => server.close());

describe.each([60, 300])('X-Forwarded-For with a zone id, %i characters long, is stored as fe80::1', (length) => {
  const from = () => ({ 'x-forwarded-for': zoned(length) });

  it('token usage is written, for that token and for the rest of the batch', async () => {
    const { org, owner } = await createTeam(server);
    const zonedUse = dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'zoned' } }, owner.auth)).createApiToken;
    const plainUse = dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'plain' } }, owner.auth)).createApiToken;
    dataOf(await server.gql(`{ viewer { id } }`, {}, { ...bearer(zonedUse.token), ...from() }));
    dataOf(await server.gql(`{ viewer { id } }`, {}, { ...bearer(plainUse.token), 'x-forwarded-for': '192.0.2.9' }));
    await server.app.services.tokenUsage.flush();
    const rows = await server.app.dataSource.query(`SELECT id, "lastUsedAt", "lastUsedAddresses" FROM api_tokens WHERE id = ANY($1) ORDER BY name DESC`, [[zonedUse.apiToken.id, plainUse.apiToken.id]]);
    expect(rows.map((row: any) => [row.id, row.lastUsedAddresses])).toEqual([
      [zonedUse.apiToken.id, ['fe80::1']],
      [plainUse.apiToken.id, ['192.0.2.9']],
    ]);
    expect(rows.every((row: any) => row.lastUsedAt !== null)).toBe(true);
  });

  it('an audited mutation succeeds and its event names fe80::1', async () => {
    const { org, owner } = await createTeam(server);
    const created = dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'audited' } }, { ...owner.auth, ...from() })).createApiToken;
    const [event] = await server.app.dataSource.query(`SELECT "clientAddress" FROM audit_events WHERE "targetId" = $1 AND "eventType" = 'api_token.created'`, [created.apiToken.id]);
    expect(event.clientAddress).toBe('fe80::1');
  });

  it('revokeLeakedToken revokes the token', async () => {
    const { org, owner } = await createTeam(server);
    const leaked = dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'leaked' } }, owner.auth)).createApiToken;
    expect(dataOf(await server.gql(LEAKED, { input: { token: leaked.token } }, from())).revokeLeakedToken.ok).toBe(true);
    expect(onlyError(await server.gql(`{ viewer { id } }`, {}, bearer(leaked.token))).message).toBe('token revoked');
    const [event] = await server.app.dataSource.query(`SELECT "clientAddress" FROM audit_events WHERE "targetId" = $1 AND "eventType" = 'api_token.leak_reported'`, [leaked.apiToken.id]);
    expect(event.clientAddress).toBe('fe80::1');
  });

  it('a failed credential check is a 401', async () => {
    const refused = await server.gql(`{ me { id } }`, {}, { authorization: `Token ${'0'.repeat(40)}`, ...from() });
    expect(refused.status).toBe(401);
    expect(onlyError(refused).extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('logIn and signUp succeed and the session keeps fe80::1', async () => {
    const user = await signUp(server, 'zoned');
    expect(dataOf(await server.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } }, from())).logIn.user.id).toBe(user.id);
    const [session] = await server.app.dataSource.query(`SELECT "clientAddress" FROM sessions WHERE "userId" = $1`, [user.id]);
    expect(session.clientAddress).toBe('fe80::1');
    const email = `zoned-${length}-${Date.now()}@example.com`;
    expect(dataOf(await server.gql(SIGN_UP, { input: { email, password: PASSWORD, name: 'Zoned' } }, from())).signUp.user.id).toBeDefined();
  });

  it('POST /api/token/refresh answers the access token', async () => {
    const user = await signUp(server, 'zoned-pat');
    const { refresh } = dataOf(await server.gql(`mutation { createPersonalAccessToken(input: { name: "cli" }) { refresh } }`, {}, user.auth)).createPersonalAccessToken;
    const response = await fetch(`${server.url}/api/token/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...from() },
      body: JSON.stringify({ refresh }),
    });
    expect(response.status).toBe(200);
    expect(Object.keys((await response.json()) as object)).toEqual(['access']);
  });
});

describe('every address is stored in one canonical form', () => {
  it.each([
    ['an IPv4-mapped IPv6 address', '::ffff:192.0.2.44', '192.0.2.44'],
    ['an upper-case, uncompressed IPv6 address', '2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['an IPv6 address with two equal runs of zeros (the first is compressed)', '0:0:1:0:0:1:2:3', '::1:0:0:1:2:3'],
    ['an address with a port-like suffix', '192.0.2.7:8080', '127.0.0.1'],
    ['a name', 'proxy.example.com', '127.0.0.1'],
    ['a 1,000-character value', '1'.repeat(1000), '127.0.0.1'],
  ])('%s', async (_label, forwarded, stored) => {
    const user = await signUp(server, 'canonical');
    dataOf(await server.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } }, { 'x-forwarded-for': forwarded }));
    const [session] = await server.app.dataSource.query(`SELECT "clientAddress" FROM sessions WHERE "userId" = $1`, [user.id]);
    expect(session.clientAddress).toBe(stored);
  });
});
