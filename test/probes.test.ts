import { Client } from 'pg';
import { startTestServer, type TestServer } from './support/server';

/** A fetch that gives up after 5 s: a probe that hangs fails the test instead of hanging it. */
const probe = async (server: TestServer, path: '/healthz' | '/readyz') => {
  const response = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, cacheControl: response.headers.get('cache-control'), text: await response.text() };
};

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not reached in 100 attempts');
}

/** Nothing an outsider could learn from: no version, host, driver message or setting. */
function expectNothingRevealed(text: string, server: TestServer) {
  const url = new URL(server.databaseUrl);
  for (const secretive of [url.hostname, url.port, url.pathname.slice(1), 'postgres', 'ECONN', 'terminat', 'version', process.version]) {
    expect(text).not.toContain(secretive);
  }
}

describe('health and readiness probes', () => {
  let server: TestServer;
  let admin: Client;
  const database = () => new URL(server.databaseUrl).pathname.slice(1);

  beforeAll(async () => {
    server = await startTestServer();
    admin = new Client({ connectionString: process.env.IDGRAPH_TEST_SERVER_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.query(`ALTER DATABASE ${database()} ALLOW_CONNECTIONS true`);
    await admin.end();
    await server.close();
  });

  it('/healthz answers {"status":"ok"} without a credential and without touching the database', async () => {
    const before = server.app.queries.count;
    const response = await probe(server, '/healthz');
    expect(response.status).toBe(200);
    expect(response.text).toBe('{"status":"ok"}');
    expect(response.cacheControl).toBe('no-store');
    expect(server.app.queries.count).toBe(before);
  });

  it('/readyz answers 200 when the database answers, migrations are applied and keys are loaded', async () => {
    const response = await probe(server, '/readyz');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({ status: 'ok', checks: { database: 'ok', migrations: 'ok', signingKeys: 'ok' } });
    expect(response.cacheControl).toBe('no-store');
  });

  it('/readyz names pending migrations', async () => {
    // TypeORM answers a DELETE with [rows, count].
    const [[last]] = await server.app.dataSource.query(`DELETE FROM migrations WHERE id = (SELECT max(id) FROM migrations) RETURNING id, timestamp, name`);
    try {
      const response = await probe(server, '/readyz');
      expect(response.status).toBe(503);
      expect(JSON.parse(response.text)).toEqual({ status: 'unavailable', checks: { database: 'ok', migrations: 'pending', signingKeys: 'ok' } });
      expect(response.text).not.toContain(last.name);
    } finally {
      await server.app.dataSource.query(`INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)`, [last.id, last.timestamp, last.name]);
    }
    expect((await probe(server, '/readyz')).status).toBe(200);
  });

  it('/readyz answers 503 within its bound while the database hangs, and 200 once it answers again', async () => {
    const locker = new Client({ connectionString: server.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE migrations IN ACCESS EXCLUSIVE MODE');
      // Several probes at once: each answers, and the hanging query is not repeated per probe.
      const responses = await Promise.all([probe(server, '/readyz'), probe(server, '/readyz'), probe(server, '/readyz')]);
      for (const response of responses) {
        expect(response.status).toBe(503);
        expect(JSON.parse(response.text)).toEqual({ status: 'unavailable', checks: { database: 'timeout', migrations: 'unknown', signingKeys: 'ok' } });
      }
      const waiting = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [database()]);
      expect(waiting.rows[0].n).toBe(1);
      expect((await probe(server, '/healthz')).status).toBe(200);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    await waitFor(() => probe(server, '/readyz'), (response) => response.status === 200);
  });

  it('/readyz answers 503 while the database refuses connections, names no cause, and 200 once it is back', async () => {
    await admin.query(`ALTER DATABASE ${database()} ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [database()]);
    const down = await waitFor(() => probe(server, '/readyz'), (response) => response.status === 503);
    expect(JSON.parse(down.text)).toEqual({ status: 'unavailable', checks: { database: 'unreachable', migrations: 'unknown', signingKeys: 'ok' } });
    expect(down.cacheControl).toBe('no-store');
    expectNothingRevealed(down.text, server);
    expect((await probe(server, '/healthz')).status).toBe(200);

    await admin.query(`ALTER DATABASE ${database()} ALLOW_CONNECTIONS true`);
    const up = await waitFor(() => probe(server, '/readyz'), (response) => response.status === 200);
    expect(JSON.parse(up.text).checks.database).toBe('ok');
  });
});
