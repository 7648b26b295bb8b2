/**
 * The verified-credential cache's safety nets and costs, from outside: the
 * invalidation listener killed and coming back, writers that are no instance
 * (the CLI, a SQL client), expiry checked on cached entries, what a use costs
 * (one statement the first time, none after; always one with the cache off)
 * and last-used tracking fed by cache hits. The assertions marked CACHE hold
 * only with the cache; everything else holds with or without it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Team } from './support/factories';
import { dataOf, startTestServer, type TestServer } from './support/server';
import {
  accepted,
  accessToken,
  createApiToken,
  eventually,
  expectCacheHits,
  LISTENER,
  logIn,
  QUIET,
  refused,
  seenAtOnce,
  seenWithin,
  sessionEnded,
  statementsOf,
  twoInstancesWithATeam,
  untilPast,
  warm,
  withClient,
  type Credential,
} from './support/credential-cache';

let A: TestServer;
let B: TestServer;
let team: Team;
twoInstancesWithATeam((pair) => ({ A, B, team } = pair));


/** The pids of the listener connections open on the test database. */
const listenerPids = () =>
  withClient(A.databaseUrl, async (client) => {
    const { rows } = await client.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, [LISTENER]);
    return rows.map((row: { pid: number }) => row.pid);
  });

/** One credential of each kind, all of `team.member`, made on A. */
async function oneOfEachKind(): Promise<Record<string, Credential>> {
  return {
    'user key': team.member.auth,
    'API token': (await createApiToken(A, team.member.auth, { organizationId: team.org.id })).auth,
    session: await logIn(A, team.member),
    'access token': (await accessToken(A, team.member)).auth,
  };
}

describe('the invalidation listener', () => {
  it('each instance holds one LISTEN connection of its own, named idgraph-credential-listener', async () => {
    await eventually('a listener of each instance', async () => (await listenerPids()).length === 2, 5_000);
  });

  it('killed: a revocation made meanwhile is refused at once; the listener comes back by itself and the cache serves again', async () => {
    const gap = await createApiToken(A, team.owner.auth, { organizationId: team.org.id });
    const later = await createApiToken(A, team.owner.auth, { organizationId: team.org.id });
    const cost = await warm({ B }, gap.auth);
    await eventually('a listener of each instance', async () => (await listenerPids()).length === 2, 5_000);
    const killed = await listenerPids();
    await withClient(A.databaseUrl, (client) => client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, [LISTENER]));
    await eventually('the killed listeners gone', async () => (await listenerPids()).every((pid) => !killed.includes(pid)), 5_000);

    // No notification can reach a dead listener: B must not answer from what it held.
    await withClient(A.databaseUrl, (client) => client.query(`UPDATE api_tokens SET "revokedAt" = now(), "revokedReason" = 'revoked' WHERE id = $1`, [gap.id]));
    await seenAtOnce(B, gap.auth, refused('token revoked'));

    await eventually('a listener of each instance back', async () => (await listenerPids()).filter((pid) => !killed.includes(pid)).length === 2, 5_000);
    // CACHE: once it listens again, B serves a warm credential with no statement.
    await eventually('B caching again', async () => (await warm({ B }, later.auth)).B === 0, 2_000);
    expectCacheHits(cost);
  });
});

describe('a listener that has gone silent', () => {
  it('is given up within about two seconds (its heartbeat marker not heard): a revocation made meanwhile is refused', async () => {
    const token = await createApiToken(A, team.owner.auth, { organizationId: team.org.id });
    const cost = await warm({ B }, token.auth);
    await eventually('a listener of each instance', async () => (await listenerPids()).length === 2, 5_000);
    const silenced = await listenerPids();
    // The connections stay open and say nothing, as behind a network that dropped them without a word.
    for (const pid of silenced) process.kill(pid, 'SIGSTOP');
    try {
      const since = Date.now();
      await withClient(A.databaseUrl, (client) => client.query(`UPDATE api_tokens SET "revokedAt" = now(), "revokedReason" = 'revoked' WHERE id = $1`, [token.id]));
      // The heartbeat's interval and its round trip's limit, one second each, with room for a busy machine.
      await seenWithin(B, token.auth, refused('token revoked'), { since, ms: 3_500 });
    } finally {
      for (const pid of silenced) process.kill(pid, 'SIGCONT');
    }
    expectCacheHits(cost);
  });
});

describe('writers that are no instance', () => {
  const ROOT = path.join(__dirname, '..');

  /** `idgraph revoke-token <id>` as an operator runs it, from the sources (a concurrent build of dist/ cannot get in the way). */
  function revokeTokenCli(id: string): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'idgraph.js'), 'revoke-token', id, '--json'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', IDGRAPH_CLI_FROM_SOURCE: '1', DATABASE_URL: A.databaseUrl },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output }));
    });
  }

  it('idgraph revoke-token: a token both instances hold is refused by each within the bound', async () => {
    const token = await createApiToken(A, team.owner.auth, { organizationId: team.org.id });
    const cost = await warm({ A, B }, token.auth);
    const result = await revokeTokenCli(token.id);
    expect(result).toMatchObject({ code: 0 });
    expect(JSON.parse(result.output).apiToken).toMatchObject({ id: token.id, alreadyRevoked: false });
    const since = Date.now();
    for (const server of [A, B]) await seenWithin(server, token.auth, refused('token revoked'), { since });
    expectCacheHits(cost);
  }, 120_000);
});

describe('expiry is checked on every use of a cached entry', () => {
  it('an API token used and cached is refused as expired once its expiresAt passes', async () => {
    const expiresAt = new Date(Date.now() + 3_000);
    const token = await createApiToken(A, team.owner.auth, { organizationId: team.org.id, expiresAt: expiresAt.toISOString() });
    const cost = await warm({ A, B }, token.auth);
    await untilPast(expiresAt);
    for (const server of [A, B]) await seenAtOnce(server, token.auth, refused('token expired'));
    expectCacheHits(cost);
  });

  it('a session used and cached is ended once its expiresAt passes', async () => {
    const cookie = await logIn(A, team.member);
    const { rows } = await withClient(A.databaseUrl, (client) =>
      client.query(`UPDATE sessions SET "expiresAt" = now() + interval '3 seconds' WHERE "userId" = $1 RETURNING "expiresAt"`, [team.member.id]),
    );
    const expiresAt: Date = rows[0].expiresAt;
    const cost = await warm({ A, B }, cookie);
    await untilPast(expiresAt);
    for (const server of [A, B]) await seenAtOnce(server, cookie, sessionEnded);
    expectCacheHits(cost);
  });
});

describe('what a use costs', () => {
  it('the first use of each kind of credential on a fresh instance costs one statement; CACHE: the second none', async () => {
    const credentials = await oneOfEachKind();
    const fresh = await startTestServer(QUIET, A.databaseUrl);
    try {
      const costs: Record<string, [number, number]> = {};
      for (const [kind, credential] of Object.entries(credentials)) {
        const first = await statementsOf(fresh, credential);
        const second = await statementsOf(fresh, credential);
        for (const use of [first, second]) expect(accepted(use.response)).toBeNull();
        costs[kind] = [first.statements, second.statements];
      }
      expect(Object.fromEntries(Object.entries(costs).map(([kind, [first]]) => [kind, first]))).toEqual({ 'user key': 1, 'API token': 1, session: 1, 'access token': 1 });
      expectCacheHits(Object.fromEntries(Object.entries(costs).map(([kind, [, second]]) => [kind, second])));
    } finally {
      await fresh.close();
    }
  });

  it('CREDENTIAL_CACHE_MAX=0 turns the cache off: every use costs one statement', async () => {
    const credentials = await oneOfEachKind();
    const uncached = await startTestServer({ ...QUIET, CREDENTIAL_CACHE_MAX: '0' }, A.databaseUrl);
    try {
      for (const [kind, credential] of Object.entries(credentials)) {
        const costs = [];
        for (let use = 0; use < 3; use += 1) {
          const { response, statements } = await statementsOf(uncached, credential);
          expect(accepted(response)).toBeNull();
          costs.push(statements);
        }
        expect({ kind, costs }).toEqual({ kind, costs: [1, 1, 1] });
      }
    } finally {
      await uncached.close();
    }
  });
});

describe('last-used tracking', () => {
  it('uses served from the cache still count: lastUsedAt and the last addresses are written at the next flush', async () => {
    const token = await createApiToken(A, team.owner.auth, { organizationId: team.org.id });
    const started = Date.now();
    const costs: Record<string, number> = {};
    for (const address of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) {
      const { response, statements } = await statementsOf(B, { ...token.auth, 'x-forwarded-for': address });
      expect(accepted(response)).toBeNull();
      costs[address] = statements;
    }
    await B.app.services.tokenUsage.flush();
    const query = `query ($id: ID!) { apiToken(id: $id) { lastUsedAt lastUsedFrom } }`;
    const used = dataOf(await A.gql(query, { id: token.id }, team.owner.auth)).apiToken;
    expect(used.lastUsedFrom).toEqual(['192.0.2.3', '192.0.2.2', '192.0.2.1']);
    expect(new Date(used.lastUsedAt).getTime()).toBeGreaterThanOrEqual(started);
    // CACHE: only the first of the three uses read the database.
    expect(costs).toEqual({ '192.0.2.1': 1, '192.0.2.2': 0, '192.0.2.3': 0 });
  });
});
