/**
 * `npm run bench` (after `npm run build`, which `prebench` runs): idgraph's
 * figures for issue 10, each against a ceiling measured in the same run, so
 * the ratios hold on a noisy machine.
 *
 * - Every server runs in a process of its own; autocannon alone runs here.
 *   The ceiling is a bare Apollo Server (bench/ceiling.ts), run before the
 *   first case and after each one; every case is held to the mean of the
 *   ceiling's runs just before and just after it. idgraph
 *   runs as in production (`node dist/src/main.js`, NODE_ENV=production,
 *   LOG_LEVEL=info) on DATABASE_URL when set, else on the embedded PostgreSQL
 *   in a temporary folder, with the rate limits raised for the bench's own
 *   traffic.
 * - SQL statements per request are counted on the wire by a proxy in front of
 *   PostgreSQL (bench/statement-counter.ts), for a second instance of idgraph
 *   that goes through it: the same case is sent to it after the measured run,
 *   COUNTED_REQUESTS times after a warm-up, so the proxy never slows the
 *   instance whose throughput is measured. The first use of each credential is
 *   counted on that instance right after its start.
 * - The failed-check limiter's case runs on an instance of its own, through
 *   the counter, with a low AUTH_FAILURE_RATE_LIMIT; the client address it
 *   refuses is sent as X-Forwarded-For (TRUST_PROXY=loopback), so the other
 *   cases' failures, counted for 127.0.0.1, do not weigh on it.
 * - Scale: `{ viewer { id } }` with an API token, with about 1,000 tokens in
 *   the table (as for the main table) and after seeding BENCH_SCALE_TOKENS
 *   (default 1,000,000; 0 skips), each next to a run of the ceiling.
 * - Revocation seen by other instances: three instances on one PostgreSQL.
 *
 * BENCH_SECONDS (default 5) per case, BENCH_CONNECTIONS (default 50).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { embeddedLayout, embeddedUrl } from '../src/db/embedded-postgres';
import { generateApiToken } from '../src/modules/api-tokens/token-format';
import { createCredentials, exchange, createApiToken, logIn, post, type Credentials } from './client';
import { graphql, measure, type Case, type Measured } from './load';
import { startCeiling, startIdgraph, type ServerProcess } from './processes';
import { measureRevocation, percentile } from './revocation';
import { apiTokenCount, removeSeeded, seedApiTokens } from './seed';
import { StatementCounter } from './statement-counter';
import { targetLines, type Target } from './targets';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SCALE_TOKENS = Number(process.env.BENCH_SCALE_TOKENS ?? 1_000_000);
const SMALL_TABLE_TOKENS = 1000;
/** Requests of each case sent to the counted instance, after as many to warm it. */
const COUNTED_REQUESTS = 1000;
const COUNTING_CONNECTIONS = 10;
const REVOCATIONS = 100;
const TOKEN_PREFIX = process.env.TOKEN_PREFIX ?? 'idg_';
/** The limiter's case: its instance refuses an address after this many failed checks. */
const LOW_AUTH_FAILURE_LIMIT = 5;
/** A documentation address (RFC 5737), only ever written in a header. */
const REFUSED_ADDRESS = '203.0.113.7';

/** `beside`: the mean of the ceiling's runs just before and just after the case, which its ratios are of. */
type Row = Measured & { name: string; target?: Target; sql?: number; beside: { rps: number; p99: number } };

async function main(): Promise<void> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'idgraph-bench-'));
  const servers: ServerProcess[] = [];
  const closers: (() => Promise<void>)[] = [];
  const started = async (server: Promise<ServerProcess>) => {
    const running = await server;
    servers.push(running);
    return running;
  };
  const stop = async (server: ServerProcess) => {
    servers.splice(servers.indexOf(server), 1);
    await server.stop();
  };
  try {
    const dataDir = path.join(folder, 'data');
    const idgraph = await started(startIdgraph('idgraph', process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : { dataDir }, folder));
    // The embedded PostgreSQL listens on a socket only; every other instance and the bench's own SQL go there too.
    const databaseUrl =
      process.env.DATABASE_URL ??
      embeddedUrl(embeddedLayout(dataDir).socketDir, (await readFile(embeddedLayout(dataDir).passwordFile, 'utf8')).trim(), 'idgraph');
    const sql = new Client({ connectionString: databaseUrl });
    sql.on('error', () => undefined);
    await sql.connect();
    closers.push(() => sql.end());
    const serverVersion = (await sql.query('SHOW server_version')).rows[0].server_version as string;

    const removed = await removeSeeded(sql);
    const credentials = await createCredentials(idgraph.origin);
    const scaleOrganization = await createScaleOrganization(idgraph.origin, credentials);

    const counter = await StatementCounter.start(databaseUrl);
    closers.push(() => counter.close());
    const counted = await started(startIdgraph('idgraph-counted', { url: counter.url }, folder));
    const firstUse = await countFirstUse(idgraph, counted, counter, credentials);
    const small = await seedApiTokens(sql, SMALL_TABLE_TOKENS, scaleOrganization, credentials.userId);
    const limited = await started(
      startIdgraph('idgraph-limited', { url: counter.url }, folder, {
        AUTH_FAILURE_RATE_LIMIT: String(LOW_AUTH_FAILURE_LIMIT),
        AUTH_FAILURE_RATE_WINDOW_SECONDS: '3600',
        TRUST_PROXY: 'loopback',
      }),
    );
    const ceiling = await started(startCeiling(folder));

    const anonymous: Case = { name: 'idgraph anonymous { __typename }', target: 'anonymous', body: graphql('{ __typename }') };
    const viewer = graphql('{ viewer { id } }');
    const apiTokenCase: Case = { name: '{ viewer { id } }, Bearer idg_ API token', target: 'credential', body: viewer, headers: { authorization: `Bearer ${credentials.apiToken}` } };
    const cases: Case[] = [
      { name: '{ viewer { id } }, user key', target: 'credential', body: viewer, headers: { authorization: `Token ${credentials.userKey}` } },
      { name: '{ viewer { id } }, session cookie', target: 'credential', body: viewer, headers: { cookie: credentials.cookie } },
      apiTokenCase,
      { name: '{ viewer { id } }, Bearer access JWT', target: 'credential', body: viewer, headers: { authorization: `Bearer ${credentials.access}` } },
      { name: 'refresh exchange, POST /api/token/refresh', target: 'refresh', path: '/api/token/refresh', body: JSON.stringify({ refresh: credentials.refresh }) },
      { name: 'malformed Bearer (401)', target: 'malformed', body: viewer, headers: { authorization: `Bearer ${TOKEN_PREFIX}not-a-token` }, status: 401 },
      {
        name: 'unknown well-formed API tokens, a new one each (401)',
        target: 'unknown',
        body: viewer,
        status: 401,
        authorizationPerRequest: () => `Bearer ${generateApiToken(TOKEN_PREFIX)}`,
      },
    ];
    const limiterCase: Case = {
      name: 'failed-check limiter, address past its limit (429)',
      target: 'limiter',
      body: viewer,
      headers: { 'x-forwarded-for': REFUSED_ADDRESS },
      status: 429,
      authorizationPerRequest: () => `Bearer ${generateApiToken(TOKEN_PREFIX)}`,
    };
    await tripLimiter(limited, limiterCase);

    const run = (server: ServerProcess, load: Case, seconds = SECONDS) => measure(server.origin, load, { connections: CONNECTIONS, seconds });
    // Warm-up, so the JIT and the connection pools are the same for every case.
    const ceilingCase: Case = { name: 'ceiling: bare Apollo Server 5, { __typename }', path: '/', body: anonymous.body };
    await run(ceiling, ceilingCase, 1);
    for (const load of [anonymous, ...cases]) await run(idgraph, load, 1);
    await run(limited, limiterCase, 1);

    // Every case between two runs of the ceiling, and held to their mean: a shared machine's drift then weighs on both alike.
    const rows: Row[] = [];
    let ceilingBefore = await run(ceiling, ceilingCase);
    const ceilingRuns = [ceilingBefore];
    const beside = async (row: Omit<Row, 'beside'>) => {
      const ceilingAfter = await run(ceiling, ceilingCase);
      ceilingRuns.push(ceilingAfter);
      rows.push({ ...row, beside: { rps: (ceilingBefore.rps + ceilingAfter.rps) / 2, p99: (ceilingBefore.p99 + ceilingAfter.p99) / 2 } });
      ceilingBefore = ceilingAfter;
    };
    for (const load of [anonymous, ...cases]) {
      const measured = await run(idgraph, load);
      await beside({ name: load.name, target: load.target, ...measured, sql: await statementsPerRequest(counted, counter, load) });
    }
    const limiter = await counter.during(() => run(limited, limiterCase));
    await beside({ name: limiterCase.name, target: limiterCase.target, ...limiter.result, sql: limiter.statements / limiter.result.requests });
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const ceilingRow = {
      name: `${ceilingCase.name}, mean of its ${ceilingRuns.length} runs`,
      rps: mean(ceilingRuns.map((r) => r.rps)),
      p50: mean(ceilingRuns.map((r) => r.p50)),
      p99: mean(ceilingRuns.map((r) => r.p99)),
      requests: 0,
    };
    rows.unshift({ ...ceilingRow, beside: { rps: ceilingRow.rps, p99: ceilingRow.p99 } });
    await stop(limited);
    await stop(counted);

    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    console.log(
      `idgraph bench, commit ${commit}: ${SECONDS} s per case, ${CONNECTIONS} connections, ${os.cpus().length} cores, Node ${process.version}, ` +
        `PostgreSQL ${serverVersion} (${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded'}), ${await apiTokenCount(sql)} API tokens in the table` +
        (small.added > 0 ? ` (${small.added} seeded)` : '') +
        (removed > 0 ? `, after removing ${removed} seeded by an earlier run` : ''),
    );
    printTable(rows);
    console.log(
      `SQL per request: statements sent to PostgreSQL, counted on the wire for a second instance after each case (${COUNTED_REQUESTS} requests after ${COUNTED_REQUESTS} to warm it); the limiter's during its run`,
    );
    console.log('every answer of each case had the status its name gives (200 when it names none); a case with any other answer stops the bench');
    console.log(`first use of a credential: ${Object.entries(firstUse).map(([kind, statements]) => `${kind} ${statements}`).join(', ')} statements`);

    // The access log's cost: { __typename } at LOG_LEVEL=info (errors and slow requests only) and at debug (a line per request), in alternating 1 s rounds.
    const verbose = await started(startIdgraph('idgraph-debug', { url: databaseUrl }, folder, { LOG_LEVEL: 'debug' }));
    await run(verbose, anonymous, 1);
    const served = { info: 0, debug: 0 };
    for (let round = 0; round < SECONDS; round += 1) {
      served.info += (await run(idgraph, anonymous, 1)).rps;
      served.debug += (await run(verbose, anonymous, 1)).rps;
    }
    await stop(verbose);
    console.log(
      `access log: { __typename } at LOG_LEVEL=debug (a line per request, written to a file) serves ${(served.debug / served.info).toFixed(2)}× the requests of LOG_LEVEL=info, ${SECONDS} alternating rounds of 1 s`,
    );

    // Revocation seen by other instances: A is the measured instance, B and C two more on the same PostgreSQL.
    const others = [await started(startIdgraph('idgraph-b', { url: databaseUrl }, folder)), await started(startIdgraph('idgraph-c', { url: databaseUrl }, folder))];
    const revocation = await measureRevocation(idgraph, others, credentials, REVOCATIONS);
    for (const other of others) await stop(other);
    const delays = revocation.delays;
    console.log(
      `revocation seen by other instances (${REVOCATIONS} API tokens revoked on A, polled every 2 ms on B and C, ${delays.length} observations): ` +
        `p50 ${percentile(delays, 0.5).toFixed(1)} ms, p99 ${percentile(delays, 0.99).toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms` +
        (revocation.neverRefused > 0 ? `, ${revocation.neverRefused} still accepted after 10 s` : '') +
        `; on A, requests right after the revocation's answer that were not refused: ${revocation.acceptedOnA}`,
    );

    // Scale: the API token case with SMALL_TABLE_TOKENS tokens in the table, and again after seeding it to SCALE_TOKENS,
    // each next to a run of the ceiling, so that the machine's drift shows.
    let scale: { ratio: number; small: number; large: number } | undefined;
    if (SCALE_TOKENS > 0) {
      const smallTokens = await apiTokenCount(sql);
      const ceilingBefore = await run(ceiling, ceilingCase);
      const before = await run(idgraph, apiTokenCase);
      const large = await seedApiTokens(sql, SCALE_TOKENS, scaleOrganization, credentials.userId);
      await run(idgraph, apiTokenCase, 1);
      const after = await run(idgraph, apiTokenCase);
      const ceilingAfter = await run(ceiling, ceilingCase);
      scale = { ratio: after.p99 / before.p99, small: smallTokens, large: await apiTokenCount(sql) };
      console.log(
        `scale: { viewer { id } } with a Bearer API token, p99 ${before.p99} ms with ${smallTokens} API tokens in the table, ` +
          `${after.p99} ms with ${scale.large}: ${scale.ratio.toFixed(2)}× ` +
          `(req/s ${before.rps.toFixed(0)} and ${after.rps.toFixed(0)}; the ceiling's p99 ${ceilingBefore.p99} ms before, ${ceilingAfter.p99} ms after); ` +
          `seeding ${large.added} rows, then VACUUM ANALYZE, took ${large.seconds.toFixed(1)} s`,
      );
      await removeSeeded(sql);
    } else {
      console.log(`scale: skipped (BENCH_SCALE_TOKENS=0)`);
    }
    console.log(`targets of issue 10, in this run:\n${targetLines({ rows, firstUse, revocation, scale }).join('\n')}`);
  } finally {
    // The bench's own connections first: stopping idgraph stops the embedded PostgreSQL under them.
    for (const close of closers.reverse()) await close().catch(() => undefined);
    for (const server of servers.reverse()) await server.stop();
    await rm(folder, { recursive: true, force: true });
  }
}

/** An organization of the bench's user that holds the seeded tokens, apart from the one the measured token belongs to. */
async function createScaleOrganization(origin: string, credentials: Credentials): Promise<string> {
  const answer = await post(origin, `mutation { createOrganization(input: { name: "Bench scale" }) { organization { id } } }`, {
    authorization: `Token ${credentials.userKey}`,
  });
  return answer.body.data.createOrganization.organization.id;
}

/**
 * The statements of a credential's first use on an instance that has just
 * started (after one anonymous request, so that nothing the process does once
 * counts): each kind with a credential it has never seen, made on the other
 * instance (`maker`).
 */
async function countFirstUse(maker: ServerProcess, server: ServerProcess, counter: StatementCounter, credentials: Credentials): Promise<Record<string, number>> {
  await post(server.origin, '{ __typename }');
  const fresh: Record<string, Record<string, string>> = {
    'user key': { authorization: `Token ${credentials.userKey}` },
    session: { cookie: await logIn(maker.origin, credentials.email) },
    'API token': { authorization: `Bearer ${(await createApiToken(maker.origin, credentials.userKey, credentials.organizationId)).token}` },
    'access JWT': { authorization: `Bearer ${await exchange(maker.origin, credentials.refresh)}` },
  };
  const counts: Record<string, number> = {};
  for (const [kind, headers] of Object.entries(fresh)) {
    const { result, statements } = await counter.during(() => post(server.origin, '{ viewer { id } }', headers));
    if (result.status !== 200) throw new Error(`first use of a ${kind}: ${result.status} ${JSON.stringify(result.body)}`);
    counts[kind] = statements;
  }
  return counts;
}

/** SQL statements per request of `load` on the counted instance, in steady state. */
async function statementsPerRequest(server: ServerProcess, counter: StatementCounter, load: Case): Promise<number> {
  const options = { connections: COUNTING_CONNECTIONS, amount: COUNTED_REQUESTS };
  await measure(server.origin, load, options);
  const { result, statements } = await counter.during(() => measure(server.origin, load, options));
  return statements / result.requests;
}

/** Sends failing credentials from the limiter case's address until the limited instance refuses it. */
async function tripLimiter(server: ServerProcess, load: Case): Promise<void> {
  for (let attempt = 0; attempt <= LOW_AUTH_FAILURE_LIMIT + 1; attempt += 1) {
    const answer = await post(server.origin, '{ viewer { id } }', { ...load.headers, authorization: load.authorizationPerRequest!() });
    if (answer.status === 429) return;
  }
  throw new Error(`the limited instance did not refuse ${REFUSED_ADDRESS} after ${LOW_AUTH_FAILURE_LIMIT + 2} failed checks`);
}

function printTable(rows: Row[]): void {
  const header = ['case', 'req/s', 'p50 ms', 'p99 ms', 'SQL/req', 'req/s ratio', 'p99 ratio'];
  const lines = rows.map((row) => [
    row.name,
    row.rps.toFixed(0),
    String(row.p50),
    String(row.p99),
    row.sql === undefined ? '-' : row.sql.toFixed(2),
    (row.rps / row.beside.rps).toFixed(2),
    (row.p99 / row.beside.p99).toFixed(2),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((width, column) => (column === 0 ? `${'-'.repeat(width + 1)}-` : `${'-'.repeat(width + 1)}:`)).join('|')}|`);
  for (const line of lines) console.log(format(line));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
