import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { MAX_OPERATION_LABELS } from '../src/observability/metrics';
import { createOrganization, signUp, type TestUser } from './support/factories';
import { dataOf, startTestServer, type TestServer } from './support/server';
import { startSmtp } from './support/smtp';

/** Not the default 127.0.0.1: scraping there must fail, which shows the listener took the configured host. */
const METRICS_HOST = '127.0.0.2';

async function freePort(host: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, host, resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The samples of a Prometheus text exposition, keyed `name{label="value",…}` as written. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

function key(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  return pairs.length ? `${name}{${pairs.join(',')}}` : name;
}

/** Open server handles of this process: the listeners a test server adds. */
const listeners = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;

describe('Prometheus metrics', () => {
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let metricsUrl: string;
  let user: TestUser;
  let organizationId: string;
  /** An API token without expiry, made by the credential test. */
  let apiToken: { token: string; apiToken: { id: string } };

  const scrape = async () => {
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parse(await response.text());
  };
  /** How much each sample grew while `traffic` ran. */
  const delta = async (traffic: () => Promise<void>) => {
    const before = await scrape();
    await traffic();
    const after = await scrape();
    return (name: string, labels: Record<string, string> = {}) => (after.get(key(name, labels)) ?? 0) - (before.get(key(name, labels)) ?? 0);
  };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }).then((r) => r.status);

  beforeAll(async () => {
    smtp = await startSmtp();
    const port = await freePort(METRICS_HOST);
    server = await startTestServer({
      METRICS_PORT: String(port),
      METRICS_HOST,
      TRUST_PROXY: 'true',
      LOGIN_RATE_LIMIT: '2',
      AUTH_FAILURE_RATE_LIMIT: '5',
      TOKEN_USAGE_FLUSH_SECONDS: '3600',
      EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0',
      SMTP_URL: smtp.url,
    });
    metricsUrl = `http://${METRICS_HOST}:${port}/metrics`;
    user = await signUp(server, 'metrics');
    organizationId = (await createOrganization(server, user)).id;
  });
  afterAll(async () => {
    await server.close();
    await smtp.close();
  });

  it('listens on the configured host and port only, and serves nothing but /metrics', async () => {
    expect(server.app.metricsAddress).toMatchObject({ address: METRICS_HOST, port: Number(new URL(metricsUrl).port) });
    await expect(fetch(metricsUrl.replace(METRICS_HOST, '127.0.0.1'))).rejects.toThrow();
    expect((await fetch(metricsUrl.replace('/metrics', '/graphql'))).status).toBe(404);
    expect((await fetch(metricsUrl, { method: 'POST' })).status).toBe(405);
    // And the API's own listener does not serve the metrics.
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });

  it('counts every credential check by kind and result', async () => {
    apiToken = dataOf(
      await server.gql(
        `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`,
        { input: { organizationId, name: 'metrics' } },
        user.auth,
      ),
    ).createApiToken;
    const revoked: string = dataOf(
      await server.gql(`mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`, { input: { organizationId, name: 'gone' } }, user.auth),
    ).createApiToken.token;
    const revokedId = (await server.app.dataSource.query(`SELECT id FROM api_tokens WHERE name = 'gone'`))[0].id as string;
    dataOf(await server.gql(`mutation ($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { id } } }`, { id: revokedId }, user.auth));
    const unknownKey = () => `Token ${randomBytes(20).toString('hex')}`;
    const from = (address: string) => ({ 'x-forwarded-for': address });

    const grew = await delta(async () => {
      for (let i = 0; i < 3; i += 1) expect(await post({ query: '{ viewer { id } }' }, user.auth)).toBe(200);
      for (let i = 0; i < 2; i += 1) expect(await post({ query: '{ viewer { id } }' }, { authorization: `Bearer ${apiToken.token}` })).toBe(200);
      expect(await post({ query: '{ __typename }' }, { authorization: 'Token short' })).toBe(401);
      expect(await post({ query: '{ __typename }' }, { authorization: 'Basic dXNlcjpwYXNz' })).toBe(401);
      expect(await post({ query: '{ __typename }' }, { authorization: 'Bearer idg_not-a-token' })).toBe(401);
      for (let i = 0; i < 4; i += 1) expect(await post({ query: '{ __typename }' }, { authorization: unknownKey(), ...from('198.51.100.1') })).toBe(401);
      expect(await post({ query: '{ __typename }' }, { authorization: `Bearer ${revoked}`, ...from('198.51.100.2') })).toBe(401);
      expect(await post({ query: '{ __typename }' }, { authorization: 'Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln', ...from('198.51.100.2') })).toBe(401);
      expect(await post({ query: '{ __typename }' }, { cookie: `idgraph_session=${randomBytes(32).toString('base64url')}` })).toBe(200);
      // Five failed checks are allowed per address; the sixth is refused as it tips over, the seventh before any check.
      const statuses = [];
      for (let i = 0; i < 7; i += 1) statuses.push(await post({ query: '{ __typename }' }, { authorization: unknownKey(), ...from('198.51.100.3') }));
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    });

    const verifications = (kind: string, result: string) => grew('idgraph_credential_verifications_total', { kind, result });
    expect(verifications('user_key', 'ok')).toBe(3);
    expect(verifications('api_token', 'ok')).toBe(2);
    expect(verifications('user_key', 'malformed')).toBe(1);
    expect(verifications('unrecognized', 'malformed')).toBe(1);
    expect(verifications('api_token', 'malformed')).toBe(1);
    expect(verifications('user_key', 'unknown')).toBe(4 + 5);
    expect(verifications('api_token', 'revoked')).toBe(1);
    expect(verifications('access_token', 'unknown')).toBe(1);
    expect(verifications('session', 'unknown')).toBe(1);
    expect(verifications('user_key', 'rate_limited')).toBe(2);
    expect(grew('idgraph_rate_limit_refusals_total', { limit: 'auth-failure' })).toBe(2);

    // The API token's uses gathered in memory: one flush writes its row.
    const flushed = await delta(() => server.app.services.tokenUsage.flush());
    expect(flushed('idgraph_token_usage_flushes_total', { result: 'ok' })).toBe(1);
    expect(flushed('idgraph_token_usage_rows_written_total')).toBe(1);
  });

  it('counts refusals by the login limit', async () => {
    const logIn = () => post({ query: 'mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }', variables: { input: { email: user.email, password: 'wrong password' } } }, { 'x-forwarded-for': '198.51.100.4' });
    const grew = await delta(async () => {
      const statuses = [await logIn(), await logIn(), await logIn()];
      expect(statuses[2]).toBe(429);
    });
    expect(grew('idgraph_rate_limit_refusals_total', { limit: 'login' })).toBe(1);
  });

  it('times requests by operation name, with anonymous and unbounded names grouped', async () => {
    const grew = await delta(async () => {
      for (let i = 0; i < 2; i += 1) expect(await post({ query: 'query Probe { __typename }' })).toBe(200);
      for (let i = 0; i < 3; i += 1) expect(await post({ query: '{ __typename }' })).toBe(200);
      expect(await post({ query: 'query Probe { me { id } }' })).toBe(401);
      expect(await post({ query: 'query other { __typename }' })).toBe(200);
    });
    const count = (labels: Record<string, string>) => grew('idgraph_http_request_duration_seconds_count', { route: '/graphql', ...labels });
    expect(count({ operation: 'Probe', outcome: 'ok' })).toBe(2);
    expect(count({ operation: 'anonymous', outcome: 'ok' })).toBe(3);
    expect(count({ operation: 'Probe', outcome: 'client_error' })).toBe(1);
    expect(count({ operation: 'other', outcome: 'ok' })).toBe(1);

    for (let i = 0; i < MAX_OPERATION_LABELS + 5; i += 1) await post({ query: `query Op${i} { __typename }` });
    const operations = new Set(
      [...(await scrape()).keys()].filter((name) => name.startsWith('idgraph_http_request_duration_seconds_count{route="/graphql"')).map((name) => /operation="([^"]*)"/.exec(name)![1]),
    );
    expect(operations.size).toBeLessThanOrEqual(MAX_OPERATION_LABELS + 2);
    expect(operations).toContain('other');
    expect(operations).not.toContain(`Op${MAX_OPERATION_LABELS + 4}`);
  });

  it('counts expiry notifier runs and mails, and shows the pool and process metrics', async () => {
    dataOf(
      await server.gql(
        `mutation ($input: SetTokenExpirationPolicyInput!) { setTokenExpirationPolicy(input: $input) { policy { notifyDaysBeforeExpiry } } }`,
        { input: { organizationId, requireExpiration: true, maxLifetimeDays: 90, notifyDaysBeforeExpiry: 7 } },
        user.auth,
      ),
    );
    dataOf(
      await server.gql(
        `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`,
        { input: { organizationId, name: 'soon', expiresAt: new Date(Date.now() + 3 * 86_400_000).toISOString() } },
        user.auth,
      ),
    );
    const grew = await delta(async () => {
      expect(await server.app.notifier.runOnce()).toBe(1);
      expect(await server.app.notifier.runOnce()).toBe(0);
    });
    expect(grew('idgraph_expiry_notifier_runs_total', { result: 'ok' })).toBe(2);
    expect(grew('idgraph_expiry_notifier_mails_sent_total')).toBe(1);
    expect(smtp.mails).toHaveLength(1);

    // The policy now requires an expiry, which the first token lacks; another token is made to have expired.
    const expired: string = dataOf(
      await server.gql(`mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`, { input: { organizationId, name: 'expired', expiresAt: new Date(Date.now() + 86_400_000).toISOString() } }, user.auth),
    ).createApiToken.token;
    await server.app.dataSource.query(`UPDATE api_tokens SET "expiresAt" = now() - interval '1 minute' WHERE name = 'expired'`);
    const refused = await delta(async () => {
      expect(await post({ query: '{ viewer { id } }' }, { authorization: `Bearer ${apiToken.token}` })).toBe(401);
      expect(await post({ query: '{ viewer { id } }' }, { authorization: `Bearer ${expired}` })).toBe(401);
    });
    expect(refused('idgraph_credential_verifications_total', { kind: 'api_token', result: 'policy' })).toBe(1);
    expect(refused('idgraph_credential_verifications_total', { kind: 'api_token', result: 'expired' })).toBe(1);

    const samples = await scrape();
    expect(samples.get('idgraph_db_pool_connections')).toBeGreaterThan(0);
    expect(samples.get('idgraph_db_pool_idle_connections')).toBeLessThanOrEqual(samples.get('idgraph_db_pool_connections')!);
    expect(samples.get('idgraph_db_pool_waiting_clients')).toBe(0);
    expect(samples.has('idgraph_process_cpu_user_seconds_total')).toBe(true);
    expect(samples.has('idgraph_nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('METRICS_PORT=0 opens no listener', async () => {
    const before = listeners();
    const plain = await startTestServer({ METRICS_PORT: '0' });
    try {
      expect(plain.app.metricsAddress).toBeNull();
      // The API's own listener, and nothing more.
      expect(listeners()).toBe(before + 1);
    } finally {
      await plain.close();
    }
  });
  it('a busy port stops the start when METRICS_PORT chose it, and only warns when it is the default', async () => {
    const holder = createServer();
    const hold = (port: number) => new Promise<void>((resolve) => holder.once('error', () => resolve()).listen(port, '127.0.0.1', resolve));
    const busy = await freePort('127.0.0.1');
    await hold(busy);
    try {
      await expect(startTestServer({ METRICS_PORT: String(busy), METRICS_HOST: '127.0.0.1' })).rejects.toThrow(/METRICS_PORT/);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    // The default port, 9464, held here (or by whatever already holds it): the server starts without metrics.
    const defaultHolder = createServer();
    await new Promise<void>((resolve) => defaultHolder.once('error', () => resolve()).listen(9464, '127.0.0.1', resolve));
    try {
      const unset = await startTestServer({ METRICS_PORT: undefined as unknown as string });
      try {
        expect(unset.app.metricsAddress).toBeNull();
        expect(unset.logs.some((line) => line.includes('serving without metrics'))).toBe(true);
        expect((await unset.gql('{ __typename }')).status).toBe(200);
      } finally {
        await unset.close();
      }
    } finally {
      if (defaultHolder.listening) await new Promise<void>((resolve) => defaultHolder.close(() => resolve()));
    }
  });
});
