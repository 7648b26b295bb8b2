import { randomBytes } from 'node:crypto';
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

describe.each(STORES)('rate limits per client address, kept in %s', (_store, storeEnv) => {
  let server: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    const env = { ...storeEnv, TRUST_PROXY: 'true', LOGIN_RATE_LIMIT: '3', AUTH_FAILURE_RATE_LIMIT: '2', TOKEN_RATE_LIMIT: '3' };
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
});

describe('X-Forwarded-For is honoured only when TRUST_PROXY says so', () => {
  let untrusting: TestServer;
  beforeAll(async () => {
    untrusting = await startTestServer({ LOGIN_RATE_LIMIT: '2' });
  });
  afterAll(() => untrusting.close());

  it('counts every attempt from the socket address, whatever X-Forwarded-For claims', async () => {
    const input = { email: 'nobody@example.com', password: 'wrong password!!' };
    await untrusting.gql(LOG_IN, { input }, { 'x-forwarded-for': '192.0.2.1' });
    await untrusting.gql(LOG_IN, { input }, { 'x-forwarded-for': '192.0.2.2' });
    const third = await untrusting.gql(LOG_IN, { input }, { 'x-forwarded-for': '192.0.2.3' });
    expect(onlyError(third).extensions?.code).toBe('RATE_LIMITED');
    const [event] = await untrusting.app.dataSource.query(`SELECT count(*)::int AS n FROM rate_limits WHERE key LIKE 'login:%192.0.2.%'`);
    expect(event.n).toBe(0);
  });
});

describe('personal access tokens and user keys share the per-user issuing limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TOKEN_RATE_LIMIT: '2' });
  });
  afterAll(() => server.close());

  it('the third PAT or key in the window is RATE_LIMITED and creates nothing', async () => {
    const user = await signUp(server, 'pats');
    dataOf(await server.gql(`mutation { createPersonalAccessToken(input: { name: "a" }) { refresh } }`, {}, user.auth));
    dataOf(await server.gql(`mutation { createPersonalAccessToken(input: { name: "b" }) { refresh } }`, {}, user.auth));
    expect(onlyError(await server.gql(`mutation { createPersonalAccessToken(input: { name: "c" }) { refresh } }`, {}, user.auth)).extensions?.code).toBe('RATE_LIMITED');
    expect(onlyError(await server.gql(`mutation { regenerateUserKey { userKey } }`, {}, user.auth)).extensions?.code).toBe('RATE_LIMITED');
    const [{ n }] = await server.app.dataSource.query(`SELECT count(*)::int AS n FROM personal_access_tokens WHERE "userId" = $1`, [user.id]);
    expect(n).toBe(2);
  });
});

describe('signUp per client address', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SIGNUP_RATE_LIMIT: '2', TRUST_PROXY: 'true' });
  });
  afterAll(() => server.close());

  it('the third sign-up from one address is RATE_LIMITED and creates no account', async () => {
    const from = { 'x-forwarded-for': address(3) };
    const signUpAs = (n: number) =>
      server.gql(`mutation ($input: SignUpInput!) { signUp(input: $input) { userKey } }`, { input: { email: `s${n}-${randomBytes(3).toString('hex')}@example.com`, password: PASSWORD, name: 'S' } }, from);
    dataOf(await signUpAs(1));
    dataOf(await signUpAs(2));
    expect(onlyError(await signUpAs(3)).extensions?.code).toBe('RATE_LIMITED');
    const [{ n }] = await server.app.dataSource.query(`SELECT count(*)::int AS n FROM users`);
    expect(n).toBe(2);
  });
});
