import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Client } from 'pg';
import { databaseFailure } from '../src/db/errors';
import { createTestDatabase } from './support/database';
import { PASSWORD, signUp, type TestUser } from './support/factories';
import { freePort } from './support/processes';
import { dataOf, startTestServer, type TestServer } from './support/server';

jest.setTimeout(120_000);

const ACKNOWLEDGEMENTS = { start: 'started', stop: 'stopped', freeze: 'frozen', thaw: 'thawed' } as const;

/** A PostgreSQL of this test's own (test/support/disposable-postgres.mjs), which it stops and starts. */
class DisposablePostgres {
  private readonly replies: string[] = [];
  private readonly waiting: ((reply: string) => void)[] = [];

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly folder: string,
    readonly url: string,
  ) {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter(line);
      else this.replies.push(line);
    });
  }

  static async create(): Promise<DisposablePostgres> {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'idgraph-outage-'));
    // As root, PostgreSQL runs as the `postgres` user, which must reach the folder.
    await chmod(folder, 0o711);
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(__dirname, 'support', 'disposable-postgres.mjs'), folder, String(port)], { stdio: 'pipe' });
    child.stderr.resume();
    return new DisposablePostgres(child, folder, `postgres://postgres:postgres@127.0.0.1:${port}/idgraph`);
  }

  async command(command: keyof typeof ACKNOWLEDGEMENTS): Promise<void> {
    this.child.stdin.write(`${command}\n`);
    const reply = this.replies.shift() ?? (await new Promise<string>((resolve) => this.waiting.push(resolve)));
    if (reply !== ACKNOWLEDGEMENTS[command]) throw new Error(`postgres ${command}: ${reply}`);
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await exited;
    await rm(this.folder, { recursive: true, force: true });
  }
}

type Kind = 'typename' | 'me' | 'logIn' | 'verify';
const NEEDS_DATABASE: Kind[] = ['me', 'logIn', 'verify'];
type Sample = { kind: Kind; startedAt: number; endedAt: number; status: number | string; retryAfter: string | null; code?: string; message?: string };

describe('while PostgreSQL is out of reach', () => {
  let postgres: DisposablePostgres;
  let server: TestServer;
  let user: TestUser;
  let access: string;

  beforeAll(async () => {
    postgres = await DisposablePostgres.create();
    await postgres.command('start');
    server = await startTestServer(
      { LOGIN_RATE_LIMIT: '100000', TOKEN_ENDPOINT_RATE_LIMIT: '100000', AUTH_FAILURE_RATE_LIMIT: '100000', EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' },
      postgres.url,
    );
    user = await signUp(server, 'operator');
    const { refresh } = dataOf(
      await server.gql(`mutation { createPersonalAccessToken(input: { name: "ci" }) { refresh } }`, {}, user.auth),
    ).createPersonalAccessToken;
    access = dataOf(await server.gql(`mutation ($refresh: String!) { refreshAccessToken(input: { refresh: $refresh }) { access } }`, { refresh }))
      .refreshAccessToken.access;
  });

  afterAll(async () => {
    await server?.close();
    await postgres?.close();
  });

  async function send(kind: Kind): Promise<Sample> {
    const startedAt = Date.now();
    const request =
      kind === 'verify'
        ? { path: '/api/token/verify', headers: {}, body: { token: access } }
        : kind === 'logIn'
          ? { path: '/graphql', headers: {}, body: { query: 'mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }', variables: { input: { email: user.email, password: PASSWORD } } } }
          : kind === 'me'
            ? { path: '/graphql', headers: user.auth, body: { query: '{ me { id } }' } }
            : { path: '/graphql', headers: {}, body: { query: '{ __typename }' } };
    try {
      const response = await fetch(`${server.url}${request.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...request.headers },
        body: JSON.stringify(request.body),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
      return {
        kind,
        startedAt,
        endedAt: Date.now(),
        // A GraphQL answer of 200 that carries errors is not a success.
        status: response.status === 200 && body.errors?.length ? `200 with ${body.errors[0]!.extensions?.code}` : response.status,
        retryAfter: response.headers.get('retry-after'),
        code: body.errors?.[0]?.extensions?.code,
        message: body.errors?.[0]?.message,
      };
    } catch (error) {
      return { kind, startedAt, endedAt: Date.now(), status: `no answer: ${(error as Error).message}`, retryAfter: null };
    }
  }

  it('answers 503 with Retry-After for what needs the database, 200 for the rest, and recovers without a restart', async () => {
    const samples: Sample[] = [];
    let loading = true;
    // Four clients, each cycling through the kinds of request, one request at a time, paced to at most 40 a second each.
    const kinds: Kind[] = ['typename', 'me', 'logIn', 'verify'];
    const clients = [0, 1, 2, 3].map(async (offset) => {
      for (let i = offset; loading && i < offset + 10_000; i += 1) {
        samples.push(await send(kinds[i % kinds.length]!));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    });
    const phase = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

    await phase(2);
    const stopRequested = Date.now();
    await postgres.command('stop');
    const stopped = Date.now();
    await phase(3);
    const startRequested = Date.now();
    await postgres.command('start');
    const started = Date.now();
    await phase(3);
    loading = false;
    await Promise.all(clients);

    const count = (list: Sample[]) => {
      const counts: Record<string, Record<string, number>> = {};
      for (const sample of list) {
        counts[sample.kind] ??= {};
        counts[sample.kind]![String(sample.status)] = (counts[sample.kind]![String(sample.status)] ?? 0) + 1;
      }
      return counts;
    };
    const before = samples.filter((s) => s.endedAt < stopRequested);
    const outage = samples.filter((s) => s.startedAt > stopped && s.endedAt < startRequested);
    const after = samples.filter((s) => s.startedAt >= started);
    const firstSuccess = after.find((s) => NEEDS_DATABASE.includes(s.kind) && s.status === 200);
    const recoveryMs = firstSuccess ? firstSuccess.endedAt - started : null;
    const slowestOutageMs = Math.max(...outage.map((s) => s.endedAt - s.startedAt));
    process.stdout.write(
      `${JSON.stringify({ before: count(before), outage: count(outage), after: count(after), all: count(samples), recoveryMs, slowestOutageMs }, null, 1)}\n`,
    );

    // Never a 500, a 200 carrying an error, or no answer: only 200 and 503, at any moment.
    expect(new Set(samples.map((s) => s.status))).toEqual(new Set([200, 503]));
    expect(samples.filter((s) => s.kind === 'typename').every((s) => s.status === 200)).toBe(true);
    expect(before.every((s) => s.status === 200)).toBe(true);

    for (const kind of NEEDS_DATABASE) {
      const refused = outage.filter((s) => s.kind === kind);
      expect(refused.length).toBeGreaterThan(0);
      for (const sample of refused) {
        expect(sample).toMatchObject({ status: 503, retryAfter: '5', code: 'SERVICE_UNAVAILABLE' });
        expect(sample.message).not.toMatch(/127\.0\.0\.1|localhost|ECONN|connect|postgres|terminat|\d{4,}/i);
      }
    }
    expect(outage.filter((s) => s.kind === 'typename' && s.status === 200).length).toBeGreaterThan(0);

    expect(recoveryMs).not.toBeNull();
    expect(recoveryMs!).toBeLessThanOrEqual(2000);
    // No restart and no backoff: every request made after PostgreSQL is back succeeds, the first one included.
    expect(after.every((s) => s.status === 200)).toBe(true);

    // Two lines for the outage, not one per request, and no stack trace.
    const messages = server.logs.map((line) => JSON.parse(line).msg as string);
    expect(messages.filter((msg) => msg.startsWith('database unreachable'))).toHaveLength(1);
    expect(messages.filter((msg) => msg === 'database reachable again')).toHaveLength(1);
    expect(messages).not.toContain('internal error');
    expect(server.logs.join('\n')).not.toMatch(/\\n\s+at /);
  });

  it('/healthz keeps answering', async () => {
    await postgres.command('stop');
    try {
      const response = await fetch(`${server.url}/healthz`);
      expect(response.status).toBe(200);
    } finally {
      await postgres.command('start');
    }
  });
});

describe('while PostgreSQL accepts connections and answers nothing', () => {
  let postgres: DisposablePostgres;
  let server: TestServer;
  let user: TestUser;

  beforeAll(async () => {
    postgres = await DisposablePostgres.create();
    await postgres.command('start');
    server = await startTestServer(
      { DATABASE_CONNECT_TIMEOUT_SECONDS: '1', DATABASE_STATEMENT_TIMEOUT_SECONDS: '1', EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' },
      postgres.url,
    );
    user = await signUp(server, 'frozen');
  });

  afterAll(async () => {
    await postgres?.command('thaw').catch(() => undefined);
    await server?.close();
    await postgres?.close();
  });

  it('the pool and query timeouts turn every wait into a 503, and the server serves again once it answers', async () => {
    // Busy and idle pooled connections alike: a few at once, so that the frozen requests meet both. The query reads
    // the database beyond the credential, which a verified credential may not need to (the credential cache).
    const me = () => server.gql('{ me { id memberships { role } } }', {}, user.auth);
    expect((await Promise.all([me(), me(), me()])).map((r) => r.status)).toEqual([200, 200, 200]);
    await postgres.command('freeze');
    try {
      const frozen = await Promise.all([me(), me(), me(), me()]);
      for (const response of frozen) {
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      }
    } finally {
      await postgres.command('thaw');
    }
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt += 1) status = (await me()).status;
    expect(status).toBe(200);
  });
});

describe('telling a database outage from other errors', () => {
  let database: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  async function errorOf(work: (client: Client) => Promise<unknown>, options: Record<string, unknown> = {}): Promise<unknown> {
    const client = new Client({ connectionString: database.url, ...options });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await work(client);
    } catch (error) {
      return error;
    } finally {
      await client.end().catch(() => undefined);
    }
    throw new Error('expected the work to fail');
  }

  it('a refused connection, a terminated session and a statement timeout are the database; a constraint is not', async () => {
    const closedPort = new URL(database.url);
    closedPort.port = String(await freePort());
    const refused = await errorOf(async () => undefined, { connectionString: closedPort.toString() });
    expect(databaseFailure(refused)).toBe('unreachable');

    const terminated = await errorOf((client) => client.query('SELECT pg_terminate_backend(pg_backend_pid())'));
    expect((terminated as { code?: string }).code).toBe('57P01');
    expect(databaseFailure(terminated)).toBe('unreachable');

    const slow = await errorOf((client) => client.query('SELECT pg_sleep(2)'), { statement_timeout: 100 });
    expect(databaseFailure(slow)).toBe('timeout');

    const duplicate = await errorOf((client) => client.query(`SELECT 1/0`));
    expect(databaseFailure(duplicate)).toBeNull();
    expect(databaseFailure(new Error('boom'))).toBeNull();
  });
});
