/**
 * `npm run bench`: every case against a ceiling measured in the same run, so
 * the ratios hold on a noisy machine. The ceiling is a bare Apollo Server
 * (`startStandaloneServer`, idgraph's own `@apollo/server` and `graphql`)
 * answering `{ __typename }`, measured before and after idgraph's cases; the
 * mean of both is the reference. idgraph's own anonymous `{ __typename }` is
 * measured before and after too. Uses DATABASE_URL when set, else the
 * embedded PostgreSQL in a temporary folder. BENCH_SECONDS (default 5) and
 * BENCH_CONNECTIONS (default 10). The access log's cost is the anonymous case
 * again at LOG_LEVEL=info (only errors and slow requests written) and at
 * LOG_LEVEL=debug (a line per request), written to a file as in production.
 */
import 'reflect-metadata';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import autocannon from 'autocannon';
import pino from 'pino';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { generateApiToken } from '../src/modules/api-tokens/token-format';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

type Scenario = {
  name: string;
  query: string;
  headers: Record<string, string>;
  path?: string;
  body?: string;
  logLevel?: 'info' | 'debug';
  /** The status every answer must have (200 when absent). */
  status?: number;
  /** Another URL than idgraph's: the ceiling. */
  url?: string;
  /** A fresh Authorization header for each request. */
  authorizationPerRequest?: () => string;
};

/** The ceiling: a bare Apollo Server, as `startStandaloneServer` makes it, answering `{ __typename }`. */
async function startCeiling(): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = new ApolloServer({ typeDefs: 'type Query { ok: Boolean }', resolvers: { Query: { ok: () => true } } });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url, stop: () => server.stop() };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'idgraph-bench-'));
  const config = loadConfig({
    ...process.env,
    IDGRAPH_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    LOGIN_RATE_LIMIT: '100000',
    SIGNUP_RATE_LIMIT: '100000',
    TOKEN_RATE_LIMIT: '100000',
    TOKEN_ENDPOINT_RATE_LIMIT: '100000',
    EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0',
    AUTH_FAILURE_RATE_LIMIT: '100000',
    METRICS_PORT: '0',
  });
  const httpServer = createServer();
  const logFile = pino.destination({ dest: path.join(dataDir, 'access.log'), sync: false });
  const log = createLogger('silent', logFile);
  const app = await createApp(config, log, { httpServer });
  httpServer.on('request', app.handler);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/graphql`;

  const post = async (query: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
    return { body: (await response.json()) as any, setCookie: response.headers.get('set-cookie') ?? '' };
  };
  const email = `bench-${Date.now()}@example.com`;
  const signUp = await post(`mutation { signUp(input: { email: "${email}", password: "correct horse battery", name: "Bench" }) { userKey } }`);
  const userKey: string = signUp.body.data.signUp.userKey;
  const logIn = await post(`mutation { logIn(input: { email: "${email}", password: "correct horse battery" }) { user { id } } }`);
  const cookie = /idgraph_session=[^;]+/.exec(logIn.setCookie)![0];
  const auth = { authorization: `Token ${userKey}` };
  const organizationId: string = (await post(`mutation { createOrganization(input: { name: "Bench" }) { organization { id } } }`, auth)).body.data
    .createOrganization.organization.id;
  const refresh: string = (await post(`mutation { createPersonalAccessToken(input: { name: "bench" }) { refresh } }`, auth)).body.data
    .createPersonalAccessToken.refresh;
  const access: string = (await post(`mutation { refreshAccessToken(input: { refresh: "${refresh}" }) { access } }`)).body.data.refreshAccessToken.access;
  const apiToken: string = (
    await post(`mutation { createApiToken(input: { organizationId: "${organizationId}", name: "bench" }) { token } }`, auth)
  ).body.data.createApiToken.token;

  const ceilingServer = await startCeiling();
  const ceiling: Scenario = { name: 'ceiling: bare Apollo Server, { __typename }', query: '{ __typename }', headers: {}, url: ceilingServer.url };
  const baseline: Scenario = { name: 'idgraph { __typename }, no credential', query: '{ __typename }', headers: {} };
  const scenarios: Scenario[] = [
    // Next to the first baseline, so that the machine's drift weighs least on the access log's cost.
    { ...baseline, name: 'baseline at LOG_LEVEL=info (errors and slow only)', logLevel: 'info' },
    { ...baseline, name: 'baseline at LOG_LEVEL=debug (a line per request)', logLevel: 'debug' },
    { name: '{ viewer { id } } with a user key', query: '{ viewer { id } }', headers: { authorization: `Token ${userKey}` } },
    { name: '{ viewer { id } } with a session cookie', query: '{ viewer { id } }', headers: { cookie } },
    { name: '{ viewer { id } } with a Bearer API token', query: '{ viewer { id } }', headers: { authorization: `Bearer ${apiToken}` } },
    { name: '{ viewer { id } } with a Bearer access JWT', query: '{ viewer { id } }', headers: { authorization: `Bearer ${access}` } },
    { name: 'refresh exchange (POST /api/token/refresh)', query: '', headers: {}, path: '/api/token/refresh', body: JSON.stringify({ refresh }) },
    { name: 'malformed Bearer token (401)', query: '{ viewer { id } }', headers: { authorization: 'Bearer idg_not-a-token' }, status: 401 },
    {
      name: 'unknown well-formed API tokens, a new one each request (401)',
      query: '{ viewer { id } }',
      headers: {},
      status: 401,
      authorizationPerRequest: () => `Bearer ${generateApiToken(config.tokenPrefix)}`,
    },
  ];

  const run = async (scenario: Scenario, duration = SECONDS) => {
    const before = app.queries.count;
    log.level = scenario.logLevel ?? 'silent';
    const perRequest = scenario.authorizationPerRequest;
    const result = await autocannon({
      url: scenario.url ?? (scenario.path ? url.replace('/graphql', scenario.path) : url),
      method: 'POST',
      connections: CONNECTIONS,
      duration,
      headers: { 'content-type': 'application/json', ...scenario.headers },
      body: scenario.body ?? JSON.stringify({ query: scenario.query }),
      // autocannon calls a request's setupRequest before each send; a top-level one is ignored.
      ...(perRequest
        ? {
            requests: [
              {
                setupRequest: (request: autocannon.Request) => ({ ...request, headers: { ...request.headers, authorization: perRequest() } }),
              },
            ],
          }
        : {}),
    });
    log.level = 'silent';
    const expected = scenario.status ?? 200;
    const answered = Object.entries(result.statusCodeStats ?? {}).filter(([status]) => Number(status) !== expected);
    if (answered.length > 0 || result.errors > 0) throw new Error(`${scenario.name}: answers other than ${expected}: ${JSON.stringify(answered)}, ${result.errors} errors`);
    return {
      name: scenario.name,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      sqlPerRequest: (app.queries.count - before) / result.requests.total,
    };
  };

  // Warm-up, so the JIT and the connection pool are the same for every scenario.
  for (const scenario of [ceiling, baseline, ...scenarios]) await run(scenario, 1);
  // The ceiling and idgraph's anonymous case run before and after; the mean of the ceiling's two runs is the reference.
  const ceilingFirst = await run(ceiling);
  const first = await run(baseline);
  const measured = [];
  for (const scenario of scenarios) measured.push(await run(scenario));
  const last = await run(baseline);
  const ceilingLast = await run(ceiling);
  const reference = (ceilingFirst.rps + ceilingLast.rps) / 2;
  const referenceP99 = (ceilingFirst.p99 + ceilingLast.p99) / 2;

  const rows = [ceilingFirst, first, ...measured, last, ceilingLast].map((row) => ({
    scenario: row.name,
    'req/s': row.rps.toFixed(0),
    'p50 ms': row.p50,
    'p99 ms': row.p99,
    'ratio to ceiling': (row.rps / reference).toFixed(2),
    'p99 to ceiling': (row.p99 / referenceP99).toFixed(2),
    // The ceiling is not idgraph: idgraph's statement counter says nothing of it.
    'SQL per request': row.name === ceiling.name ? '-' : row.sqlPerRequest.toFixed(2),
  }));
  console.log(`idgraph bench: ${SECONDS}s per scenario, ${CONNECTIONS} connections, ${os.cpus().length} cores`);
  console.table(rows);

  // The access log's cost again, in alternating one-second runs: a shared machine's drift then falls on each level alike.
  const levels = { silent: baseline, info: scenarios[0]!, debug: scenarios[1]! };
  const served = { silent: 0, info: 0, debug: 0 };
  for (let round = 0; round < SECONDS; round += 1) {
    for (const [level, scenario] of Object.entries(levels) as [keyof typeof levels, Scenario][]) served[level] += (await run(scenario, 1)).rps;
  }
  console.log(
    `access log, { __typename } in ${SECONDS} alternating rounds of 1 s: LOG_LEVEL=info ${(served.info / served.silent).toFixed(2)}, LOG_LEVEL=debug ${(served.debug / served.silent).toFixed(2)} of the throughput with logging off`,
  );

  await ceilingServer.stop();
  await app.close();
  await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  logFile.flushSync();
  logFile.end();
  const written = (await readFile(path.join(dataDir, 'access.log'), 'utf8')).split('\n').filter((line) => line.includes('"msg":"request"')).length;
  console.log(`access log: ${written} request lines written in the whole run (one per request run at LOG_LEVEL=debug)`);
  await rm(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
