import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';
import { PASSWORD, signUp } from './support/factories';

const LOG_IN = `mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }`;

/** PostgreSQL always; Redis too when the run has one (.ci/run sets TEST_REDIS_URL when Redis answers). */
const STORES: [string, Record<string, string>][] = [
  ['PostgreSQL', {}],
  ...(process.env.TEST_REDIS_URL ? [['Redis', { REDIS_URL: process.env.TEST_REDIS_URL }] as [string, Record<string, string>]] : []),
];

/** Addresses unique to this run, since a Redis store outlives the test database. */
const address = (n: number) => `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::${n}`;

/** A /64 unique to this run: `within(n)` is its n-th address, each one different in the low 64 bits. */
function network64() {
  const prefix = `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
  return (n: number) => `${prefix}:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}:${n.toString(16)}:1`;
}

/** An IPv4 address unique to this run and its neighbour in the same /24. */
function ipv4Pair(): [string, string] {
  const [a, b, c] = randomBytes(3);
  return [`10.${a}.${b}.${c! % 250}`, `10.${a}.${b}.${(c! % 250) + 1}`];
}

describe.each(STORES)('rate limits per client address, kept in %s', (_store, storeEnv) => {
  let server: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    const env = { ...storeEnv, TRUST_PROXY: 'true', LOGIN_RATE_LIMIT: '3', AUTH_FAILURE_RATE_LIMIT: '2', TOKEN_RATE_LIMIT: '3', TOKEN_ENDPOINT_RATE_LIMIT: '3' };
    server = await startTestServer(env);
    // A second instance on the same database: the limits hold across instances.
    second = await startTestServer(env, server.databaseUrl);
  });
  afterAll(async () => {
    await second.close();
    await server.close();
  });

  it('logIn: the fourth attempt from one address is RATE_LIMITED with retryAfter, across instances', async () => {
    const user = await signUp(server, 'limited');
    const from = { 'x-forwarded-for': address(7) };
    const input = { email: user.email, password: 'wrong password!!' };
    expect(onlyError(await server.gql(LOG_IN, { input }, from)).extensions?.code).toBe('UNAUTHENTICATED');
    expect(onlyError(await second.gql(LOG_IN, { input }, from)).extensions?.code).toBe('UNAUTHENTICATED');
    expect(onlyError(await server.gql(LOG_IN, { input }, from)).extensions?.code).toBe('UNAUTHENTICATED');
    const limited = await second.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } }, from);
    const error = onlyError(limited);
    expect(error.extensions?.code).toBe('RATE_LIMITED');
    expect(error.extensions?.retryAfter).toBeGreaterThan(0);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('set-cookie')).toBeNull();

    // Another address is not affected.
    const other = await server.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } }, { 'x-forwarded-for': address(8) });
    expect(other.body.data?.logIn.user.id).toBe(user.id);
  });

  it('token creation and regeneration: the fourth per user is RATE_LIMITED across instances, and creates nothing', async () => {
    const user = await signUp(server, 'issuer');
    const { id: organizationId } = dataOf(await server.gql(`mutation { createOrganization(input: { name: "Limits" }) { organization { id } } }`, {}, user.auth)).createOrganization.organization;
    const create = (on: TestServer) =>
      on.gql(`mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id } } }`, { input: { organizationId, name: 'ci' } }, user.auth);
    const first = dataOf(await create(server)).createApiToken.apiToken;
    dataOf(await create(second));
    dataOf(await second.gql(`mutation ($input: RegenerateApiTokenInput!) { regenerateApiToken(input: $input) { token } }`, { input: { id: first.id } }, user.auth));
    const limited = onlyError(await create(server));
    expect(limited.extensions?.code).toBe('RATE_LIMITED');
    expect(limited.extensions?.retryAfter).toBeGreaterThan(0);
    const [{ tokens }] = await server.app.dataSource.query(`SELECT count(*)::int AS tokens FROM api_tokens WHERE "ownerUserId" = $1`, [user.id]);
    expect(tokens).toBe(2);
  });

  it('failed credential checks: the third bad key from one address is answered 429', async () => {
    const from = { 'x-forwarded-for': address(9) };
    const bad = { ...from, authorization: `Token ${'0'.repeat(40)}` };
    expect((await server.gql(`{ me { id } }`, {}, bad)).status).toBe(401);
    expect((await second.gql(`{ me { id } }`, {}, bad)).status).toBe(401);
    const limited = await server.gql(`{ me { id } }`, {}, bad);
    expect(limited.status).toBe(429);
    expect(onlyError(limited).extensions).toMatchObject({ code: 'RATE_LIMITED' });
    // Past the limit, a right key from that address is refused too: guesses cannot be told apart.
    const user = await signUp(server, 'blocked');
    const right = await server.gql(`{ me { id } }`, {}, { ...from, ...user.auth });
    expect(right.status).toBe(429);
    expect((await server.gql(`{ me { id } }`, {}, user.auth)).status).toBe(200);
  });

  it('logIn from addresses rotating within one IPv6 /64 is counted once for the /64', async () => {
    const user = await signUp(server, 'rotating');
    const within = network64();
    const input = { email: user.email, password: 'wrong password!!' };
    for (const n of [1, 2, 3]) expect(onlyError(await server.gql(LOG_IN, { input }, { 'x-forwarded-for': within(n) })).extensions?.code).toBe('UNAUTHENTICATED');
    expect(onlyError(await second.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } }, { 'x-forwarded-for': within(4) })).extensions?.code).toBe('RATE_LIMITED');
  });

  it('failed credential checks from addresses rotating within one IPv6 /64 are counted once for the /64', async () => {
    const within = network64();
    const bad = { authorization: `Token ${'0'.repeat(40)}` };
    expect((await server.gql(`{ me { id } }`, {}, { ...bad, 'x-forwarded-for': within(1) })).status).toBe(401);
    expect((await second.gql(`{ me { id } }`, {}, { ...bad, 'x-forwarded-for': within(2) })).status).toBe(401);
    expect((await server.gql(`{ me { id } }`, {}, { ...bad, 'x-forwarded-for': within(3) })).status).toBe(429);
  });

  it('the token endpoint from addresses rotating within one IPv6 /64 is counted once for the /64', async () => {
    const within = network64();
    const verify = (n: number) =>
      fetch(`${server.url}/api/token/verify`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': within(n) }, body: JSON.stringify({ token: 'a.b.c' }) });
    for (const n of [1, 2, 3]) expect((await verify(n)).status).toBe(401);
    const limited = await verify(4);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('IPv4 is counted per address: a neighbour in the same /24 is not limited', async () => {
    const user = await signUp(server, 'ipv4');
    const [limited, neighbour] = ipv4Pair();
    const input = { email: user.email, password: 'wrong password!!' };
    for (let attempt = 0; attempt < 3; attempt += 1) await server.gql(LOG_IN, { input }, { 'x-forwarded-for': limited });
    expect(onlyError(await server.gql(LOG_IN, { input }, { 'x-forwarded-for': limited })).extensions?.code).toBe('RATE_LIMITED');
    expect(dataOf(await server.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } }, { 'x-forwarded-for': neighbour })).logIn.user.id).toBe(user.id);
  });
});

describe('RATE_LIMIT_IPV6_PREFIX sets the IPv6 network counted as one client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'true', LOGIN_RATE_LIMIT: '2', RATE_LIMIT_IPV6_PREFIX: '128' });
  });
  afterAll(() => server.close());

  it('at 128, each IPv6 address is counted alone', async () => {
    const user = await signUp(server, 'per-address');
    const within = network64();
    const input = { email: user.email, password: 'wrong password!!' };
    for (const n of [1, 2, 3, 4]) expect(onlyError(await server.gql(LOG_IN, { input }, { 'x-forwarded-for': within(n) })).extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('expired rate-limit rows are deleted', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'true', LOGIN_RATE_WINDOW_SECONDS: '1', RATE_LIMIT_PURGE_SECONDS: '1' });
  });
  afterAll(() => server.close());

  it('the table shrinks back to the rows whose window is still open', async () => {
    const keys = async () => (await server.app.dataSource.query(`SELECT key FROM rate_limits ORDER BY key`)).map((row: { key: string }) => row.key) as string[];
    const input = { email: 'nobody@example.com', password: 'wrong password!!' };
    for (let n = 0; n < 20; n += 1) await server.gql(LOG_IN, { input }, { 'x-forwarded-for': `192.0.2.${n + 1}` });
    // Rows of windows long over, as a minute of traffic from rotating addresses leaves them, and one still open.
    await server.app.dataSource.query(`INSERT INTO rate_limits (key, points, expire) SELECT 'login:old-' || n, 1, $1 FROM generate_series(1, 12000) AS n`, [Date.now() - 60_000]);
    await server.app.dataSource.query(`INSERT INTO rate_limits (key, points, expire) VALUES ('login:open', 1, $1)`, [Date.now() + 3_600_000]);
    const deadline = Date.now() + 15_000;
    while ((await keys()).length > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await keys()).toEqual(['login:open']);
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const outageWarnings = (server: TestServer) => server.logs.filter((line) => line.includes('rate limit store unreachable')).length;

describe('when Redis, the store of the rate limits, is unreachable', () => {
  let server: TestServer;
  /** The same database, its limits kept in PostgreSQL: makes the accounts the refused operations need. */
  let healthy: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, TRUST_PROXY: 'true' });
    healthy = await startTestServer({}, server.databaseUrl);
  });
  afterAll(async () => {
    await healthy.close();
    await server.close();
  });

  function expectUnavailable(response: { status: number; headers: Headers; body: any }) {
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(onlyError(response as any).extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(response.body)).not.toMatch(/redis|ECONNREFUSED|127\.0\.0\.1|stack/i);
  }

  it('logIn, signUp, token creation and token refresh are refused with 503 and Retry-After, and change nothing', async () => {
    const user = await signUp(healthy, 'outage');
    expectUnavailable(await server.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } }));
    expectUnavailable(await server.gql(`mutation ($input: SignUpInput!) { signUp(input: $input) { userKey } }`, { input: { email: `o-${randomBytes(3).toString('hex')}@example.com`, password: PASSWORD, name: 'O' } }));
    expectUnavailable(await server.gql(`mutation { createPersonalAccessToken(input: { name: "cli" }) { refresh } }`, {}, user.auth));
    const { refresh } = dataOf(await healthy.gql(`mutation { createPersonalAccessToken(input: { name: "cli" }) { refresh } }`, {}, user.auth)).createPersonalAccessToken;
    expectUnavailable(await server.gql(`mutation ($refresh: String!) { refreshAccessToken(input: { refresh: $refresh }) { access } }`, { refresh }));
    const rest = await fetch(`${server.url}/api/token/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh }) });
    expect(rest.status).toBe(503);
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await rest.json()).toEqual({
      detail: expect.any(String),
      code: 'service_unavailable',
      errors: [{ message: expect.any(String), extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: expect.any(Number) } }],
    });
    const [{ sessions }] = await server.app.dataSource.query(`SELECT count(*)::int AS sessions FROM sessions WHERE "userId" = $1`, [user.id]);
    expect(sessions).toBe(0);
    const [{ users }] = await server.app.dataSource.query(`SELECT count(*)::int AS users FROM users WHERE email LIKE 'o-%'`);
    expect(users).toBe(0);
  });

  it('a failed credential check is still a 401, a good one a 200, and the outage is logged once', async () => {
    const user = await signUp(healthy, 'outage-check');
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const refused = await server.gql(`{ me { id } }`, {}, { authorization: `Token ${'0'.repeat(40)}` });
      expect(refused.status).toBe(401);
      expect(onlyError(refused).extensions?.code).toBe('UNAUTHENTICATED');
    }
    expect(dataOf(await server.gql(`{ me { id } }`, {}, user.auth)).me.id).toBe(user.id);
    expect(outageWarnings(server)).toBe(1);
  });
});

describe('when the rate_limits table is unreachable (the PostgreSQL store)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({});
  });
  afterAll(() => server.close());

  it('logIn is refused with 503 and a failed check served as 401 while it lasts; both work again after, with one warning and one recovery logged', async () => {
    const user = await signUp(server, 'table-outage');
    await server.app.dataSource.query(`ALTER TABLE rate_limits RENAME TO rate_limits_away`);
    try {
      const refused = await server.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } });
      expect(refused.status).toBe(503);
      expect(onlyError(refused).extensions?.code).toBe('SERVICE_UNAVAILABLE');
      for (let attempt = 0; attempt < 3; attempt += 1) expect((await server.gql(`{ me { id } }`, {}, { authorization: `Token ${'0'.repeat(40)}` })).status).toBe(401);
    } finally {
      await server.app.dataSource.query(`ALTER TABLE rate_limits_away RENAME TO rate_limits`);
    }
    expect(dataOf(await server.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } })).logIn.user.id).toBe(user.id);
    expect(outageWarnings(server)).toBe(1);
    expect(server.logs.filter((line) => line.includes('rate limit store reachable again'))).toHaveLength(1);
  });
});
