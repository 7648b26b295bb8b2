/**
 * The `idgraph` command line, run as operators run it: the bin script of
 * package.json spawned with node, configured by the environment like the
 * server, against a database of its own that a test server shares.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { Client } from 'pg';
import { createTestDatabase } from './support/database';
import { dataOf, startTestServer, type TestServer } from './support/server';

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'idgraph.js');
const COMPILED = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

type Result = { code: number | null; stdout: string; stderr: string };

/** The CLI as a separate process; only what the test gives is in its environment. */
function idgraph(args: string[], env: Record<string, string>, input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** A failure is one line on stderr naming the problem, with no stack trace, and nothing on stdout. */
function expectCleanFailure(result: Result, code: number, message: RegExp): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' });
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function query<T = any>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Row counts of the tables the commands write, to show that a refusal wrote nothing. */
async function counts(url: string): Promise<Record<string, number>> {
  const [row] = await query(
    url,
    `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM organizations) AS organizations,
            (SELECT count(*)::int FROM memberships) AS memberships, (SELECT count(*)::int FROM api_tokens) AS api_tokens,
            (SELECT count(*)::int FROM audit_events) AS audit_events, (SELECT count(*)::int FROM signing_keys) AS signing_keys`,
  );
  return row;
}

// The bin runs dist/ when it is current, else the sources through ts-node; a current build keeps each spawn quick.
beforeAll(async () => {
  const sourceChanged = Math.max(newestSource(path.join(ROOT, 'src')), newestSource(path.join(ROOT, 'migrations')));
  // A migration that is no longer in the sources would still be run from an old build.
  const names = (folder: string, suffix: RegExp) =>
    existsSync(folder) ? readdirSync(folder).filter((name) => suffix.test(name)).map((name) => name.replace(suffix, '')).sort() : [];
  const compiledMigrations = names(path.join(ROOT, 'dist', 'migrations'), /\.js$/);
  const sameMigrations = compiledMigrations.join() === names(path.join(ROOT, 'migrations'), /\.ts$/).join();
  if (!existsSync(COMPILED) || statSync(COMPILED).mtimeMs < sourceChanged || !sameMigrations) {
    rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
  }
}, 300_000);

describe('the command line itself', () => {
  it('answers an unknown command, an unknown option and a missing one with exit code 2 and one line', async () => {
    expectCleanFailure(await idgraph(['frobnicate'], {}), 2, /unknown command 'frobnicate'/);
    expectCleanFailure(await idgraph(['migrate', '--bogus'], {}), 2, /unknown option '--bogus'/);
    expectCleanFailure(await idgraph(['bootstrap', '--name', 'A', '--org', 'B'], {}), 2, /required option '--email <email>' not specified/);
    expectCleanFailure(await idgraph(['migrate'], { DATABASE_URL: 'mysql://nope' }), 1, /^idgraph: invalid configuration: DATABASE_URL: must start with postgres:\/\//);
  }, 120_000);

  it('runs from the TypeScript sources too (a checkout without a build)', async () => {
    const result = await idgraph(['--version'], { IDGRAPH_CLI_FROM_SOURCE: '1' });
    expect(result).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  }, 120_000);
});

describe('on one install, from an empty database on', () => {
  let url: string;
  let drop: () => Promise<void>;
  let server: TestServer | undefined;
  let env: Record<string, string>;
  let owner: { userKey: string; userId: string; organizationId: string };

  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase({ empty: true }));
    env = { DATABASE_URL: url };
  });

  afterAll(async () => {
    await server?.close();
    await drop();
  });

  it('migrate --check lists what is pending and exits 1, changing nothing; migrate applies it; then --check exits 0', async () => {
    const check = await idgraph(['migrate', '--check', '--json'], env);
    expect(check.code).toBe(1);
    const { pending } = JSON.parse(check.stdout) as { pending: string[] };
    expect(pending.length).toBeGreaterThan(3);
    expect(pending[0]).toMatch(/^Initial\d+$/);
    expect(await query(url, `SELECT to_regclass('public.users') AS users, to_regclass('public.migrations') AS migrations`)).toEqual([{ users: null, migrations: null }]);

    const text = await idgraph(['migrate', '--check'], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toBe(`pending migrations:\n${pending.map((name) => `  ${name}`).join('\n')}\n`);

    const applied = await idgraph(['migrate', '--json'], env);
    expect({ code: applied.code, stdout: JSON.parse(applied.stdout) }).toEqual({ code: 0, stdout: { applied: pending } });
    expect(await idgraph(['migrate', '--check', '--json'], env)).toEqual({ code: 0, stdout: '{"pending":[]}\n', stderr: '' });
    expect(await idgraph(['migrate'], env)).toEqual({ code: 0, stdout: 'no pending migrations: nothing applied\n', stderr: '' });
  }, 180_000);

  it('bootstrap refuses bad input with exit code 2 and writes nothing', async () => {
    const before = await counts(url);
    const valid = ['bootstrap', '--name', 'Ada', '--org', 'Acme'];
    expectCleanFailure(await idgraph([...valid, '--email', 'not-an-email', '--password', 'long enough password'], env), 2, /^idgraph: email: must be a valid email address$/m);
    expectCleanFailure(await idgraph([...valid, '--email', 'ada@example.com', '--password', 'short'], env), 2, /password: must be at least 10 characters/);
    expectCleanFailure(await idgraph(['bootstrap', '--name', ' ', '--org', 'Acme', '--email', 'ada@example.com', '--password', 'long enough password'], env), 2, /name: must not be empty/);
    expectCleanFailure(await idgraph([...valid, '--email', 'ada@example.com', '--slug', '-bad-', '--password', 'long enough password'], env), 2, /slug: must be/);
    expectCleanFailure(await idgraph([...valid, '--email', 'ada@example.com'], env), 2, /a password is needed/);
    expectCleanFailure(
      await idgraph([...valid, '--email', 'ada@example.com', '--password', 'long enough password'], { ...env, IDGRAPH_BOOTSTRAP_PASSWORD: 'long enough password' }),
      2,
      /give the password one way only/,
    );
    expect(await counts(url)).toEqual(before);
  }, 180_000);

  it('bootstrap creates the first user, OWNER of a new organization, and prints exactly the user key and ids as JSON', async () => {
    const result = await idgraph(['bootstrap', '--email', 'Ada@Example.com', '--name', 'Ada', '--org', 'Acme Inc', '--password-stdin', '--json'], env, 'long enough password\n');
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    owner = JSON.parse(result.stdout);
    expect(Object.keys(owner).sort()).toEqual(['organizationId', 'userId', 'userKey']);
    expect(owner.userKey).toMatch(/^[0-9a-f]{40}$/);
    expect(await query(url, `SELECT u.email, m.role, o.slug FROM users u JOIN memberships m ON m."userId" = u.id JOIN organizations o ON o.id = m."organizationId"`)).toEqual([
      { email: 'ada@example.com', role: 'OWNER', slug: 'acme-inc' },
    ]);
    expect(JSON.stringify(await query(url, 'SELECT * FROM users'))).not.toContain(owner.userKey);

    // The key and the password work on a server of the same database.
    server = await startTestServer({ SIGNING_KEY_RELOAD_SECONDS: '1' }, url);
    const viewer = await server.gql(`{ organization(id: "${owner.organizationId}") { slug viewerRole } }`, undefined, { authorization: `Token ${owner.userKey}` });
    expect(dataOf(viewer)).toEqual({ organization: { slug: 'acme-inc', viewerRole: 'OWNER' } });
    const login = await server.gql(`mutation { logIn(input: { email: "ada@example.com", password: "long enough password" }) { user { id } } }`);
    expect(dataOf(login).logIn.user.id).toBe(owner.userId);
  }, 180_000);

  it('bootstrap refuses once any user exists, writing nothing', async () => {
    const before = await counts(url);
    const result = await idgraph(['bootstrap', '--email', 'eve@example.com', '--name', 'Eve', '--org', 'Evil'], { ...env, IDGRAPH_BOOTSTRAP_PASSWORD: 'long enough password' });
    expectCleanFailure(result, 1, /^idgraph: refused: this install already has users/);
    expect(await counts(url)).toEqual(before);
  }, 120_000);

  let serviceUserId: string;
  let token: { secret: string; id: string; prefix: string };

  it('service-token creates a service user\'s API token within its role and prints the secret once', async () => {
    const created = await server!.gql(
      `mutation { createServiceUser(input: { organizationId: "${owner.organizationId}", name: "ci-bot", role: MEMBER }) { serviceUser { id } } }`,
      undefined,
      { authorization: `Token ${owner.userKey}` },
    );
    serviceUserId = dataOf(created).createServiceUser.serviceUser.id;

    const result = await idgraph(['service-token', '--org', 'acme-inc', '--service-user', 'ci-bot', '--rights', 'organization.read,members.read,apiTokens.*', '--name', 'deploys', '--expires-in-days', '30', '--json'], env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const output = JSON.parse(result.stdout);
    expect(output).toEqual({
      token: expect.stringMatching(/^idg_[A-Za-z0-9]+$/),
      apiToken: {
        id: expect.any(String),
        tokenPrefix: output.token.slice(0, 12),
        organizationId: owner.organizationId,
        serviceUserId,
        name: 'deploys',
        rights: ['organization.read', 'members.read', 'apiTokens.read', 'apiTokens.create', 'apiTokens.update', 'apiTokens.delete'],
        expiresAt: expect.any(String),
      },
    });
    expect(Date.parse(output.apiToken.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    token = { secret: output.token, id: output.apiToken.id, prefix: output.apiToken.tokenPrefix };

    // It authenticates as the service user, with exactly those rights.
    const rights = await server!.gql(`{ organization(id: "${owner.organizationId}") { viewerRights { members { read update } } } }`, undefined, { authorization: `Bearer ${token.secret}` });
    expect(dataOf(rights).organization.viewerRights.members).toEqual({ read: true, update: false });
    const [event] = await query(url, `SELECT "actorKind", "actorId", changes FROM audit_events WHERE "eventType" = 'api_token.created' AND "targetId" = $1`, [token.id]);
    expect(event).toEqual({ actorKind: 'OPERATOR', actorId: null, changes: expect.objectContaining({ ownerServiceUserId: serviceUserId }) });
    expect(JSON.stringify(await query(url, 'SELECT * FROM api_tokens'))).not.toContain(token.secret);

    // `all` is the role's ceiling; the text output shows the secret once too.
    const all = await idgraph(['service-token', '--org', owner.organizationId, '--service-user', serviceUserId, '--rights', 'all'], env);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^rights: organization\.read, members\.read, apiTokens\.read, apiTokens\.create, apiTokens\.update, apiTokens\.delete$/m);
    expect(all.stdout.match(/idg_[A-Za-z0-9]{36}/g)).toHaveLength(1);
  }, 180_000);

  it('service-token refuses rights above the role, unknown rights, an unknown organization or service user, writing nothing', async () => {
    const before = await counts(url);
    const base = ['service-token', '--org', 'acme-inc', '--service-user', 'ci-bot'];
    expectCleanFailure(await idgraph([...base, '--rights', 'members.read,members.update'], env), 1, /^idgraph: --rights: members\.update exceeds what the service user's role MEMBER allows$/m);
    expectCleanFailure(await idgraph([...base, '--rights', 'members.fly'], env), 2, /unknown right "members\.fly"/);
    expectCleanFailure(await idgraph([...base, '--rights', ''], env), 2, /--rights: give `all` or a comma-separated list/);
    expectCleanFailure(await idgraph([...base, '--rights', 'all', '--expires-in-days', 'soon'], env), 2, /--expires-in-days: must be a whole number/);
    expectCleanFailure(await idgraph(['service-token', '--org', 'no-such-org', '--service-user', 'ci-bot', '--rights', 'all'], env), 1, /organization not found: no-such-org/);
    expectCleanFailure(await idgraph(['service-token', '--org', 'acme-inc', '--service-user', 'nobody-bot', '--rights', 'all'], env), 1, /service user not found in this organization: nobody-bot/);
    expectCleanFailure(await idgraph(['service-token', '--org', 'acme-inc', '--rights', 'all', '--json'], env), 2, /required option '--service-user <id-or-name>' not specified/);
    expect(await counts(url)).toEqual(before);
  }, 180_000);

  it('revoke-token refuses an unknown, short or ambiguous prefix, writing nothing', async () => {
    const before = await counts(url);
    expectCleanFailure(await idgraph(['revoke-token', 'idg_zzzzzzzzzzzzzzzzzzzzzz'], env), 1, /^idgraph: no API token has the prefix idg_zzzzzzzz$/m);
    expectCleanFailure(await idgraph(['revoke-token', '00000000-0000-4000-8000-000000000000'], env), 1, /no API token has the id/);
    expectCleanFailure(await idgraph(['revoke-token', 'idg_'], env), 2, /give the token's id or its whole prefix of 12 characters/);
    expectCleanFailure(await idgraph(['revoke-token'], env), 2, /missing required argument/);
    // Prefixes are 8 random characters: a shared one is rare, so the test makes one.
    const [other] = await query(url, `SELECT id, "tokenPrefix" FROM api_tokens WHERE id <> $1`, [token.id]);
    await query(url, `UPDATE api_tokens SET "tokenPrefix" = $1 WHERE id = $2`, [token.prefix, other.id]);
    const ambiguous = await idgraph(['revoke-token', token.prefix, '--json'], env);
    expect({ code: ambiguous.code, stdout: ambiguous.stdout }).toEqual({ code: 1, stdout: '' });
    expect(JSON.parse(ambiguous.stderr)).toEqual({
      error: { code: 'AMBIGUOUS', message: `ambiguous: 2 API tokens have the prefix ${token.prefix}: ${[token.id, other.id].join(', ')}; give the id` },
    });
    await query(url, `UPDATE api_tokens SET "tokenPrefix" = $1 WHERE id = $2`, [other.tokenPrefix, other.id]);
    expect(await counts(url)).toEqual(before);
    expect(await query(url, `SELECT count(*)::int AS revoked FROM api_tokens WHERE "revokedAt" IS NOT NULL`)).toEqual([{ revoked: 0 }]);
  }, 180_000);

  it('revoke-token revokes by prefix, audited as an OPERATOR, and the running server refuses the token at once', async () => {
    const result = await idgraph(['revoke-token', token.prefix, '--json'], env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({
      apiToken: { id: token.id, tokenPrefix: token.prefix, organizationId: owner.organizationId, revokedAt: expect.any(String), alreadyRevoked: false },
    });
    const refused = await server!.gql('{ __typename }', undefined, { authorization: `Bearer ${token.secret}` });
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const events = await server!.gql(
      `{ organization(id: "${owner.organizationId}") { auditEvents(eventType: "api_token.revoked") { edges { node { actorKind actorId targetId userAgent changes } } } } }`,
      undefined,
      { authorization: `Token ${owner.userKey}` },
    );
    expect(dataOf(events).organization.auditEvents.edges).toEqual([
      { node: { actorKind: 'OPERATOR', actorId: null, targetId: token.id, userAgent: expect.stringMatching(/^idgraph-cli \(os user .+\)$/), changes: { reason: 'revoked', tokenPrefix: token.prefix } } },
    ]);

    // Again, by id: nothing more to do, nothing more written.
    const before = await counts(url);
    const again = await idgraph(['revoke-token', token.id], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/was already revoked/);
    expect(await counts(url)).toEqual(before);
  }, 180_000);

  it('rotate-signing-key: a running server signs with the new key and still verifies tokens of the old one', async () => {
    const auth = { authorization: `Token ${owner.userKey}` };
    const created = await server!.gql(`mutation { createPersonalAccessToken(input: { name: "laptop" }) { refresh } }`, undefined, auth);
    const { refresh } = dataOf(created).createPersonalAccessToken;
    const exchange = async () => {
      const response = await fetch(`${server!.url}/api/token/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh }) });
      expect(response.status).toBe(200);
      return ((await response.json()) as { access: string }).access;
    };
    const oldKid = decodeProtectedHeader(refresh).kid;
    const oldAccess = await exchange();
    expect(decodeProtectedHeader(oldAccess).kid).toBe(oldKid);

    const result = await idgraph(['rotate-signing-key', '--json'], env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const rotation = JSON.parse(result.stdout);
    expect(rotation).toEqual({ kid: expect.any(String), retired: [oldKid], removed: [], reloadSeconds: 60 });
    expect(rotation.kid).not.toBe(oldKid);

    // The server rereads its keys every SIGNING_KEY_RELOAD_SECONDS (1 s here): poll, bounded, until it signs with the new one.
    let newAccess = await exchange();
    for (let attempt = 0; attempt < 100 && decodeProtectedHeader(newAccess).kid !== rotation.kid; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      newAccess = await exchange();
    }
    expect(decodeProtectedHeader(newAccess).kid).toBe(rotation.kid);
    // The PAT signed with the old key was just exchanged; an access token of the old key still authenticates, as does one of the new.
    for (const access of [oldAccess, newAccess]) {
      const viewer = await server!.gql(`{ organization(id: "${owner.organizationId}") { viewerRole } }`, undefined, { authorization: `Bearer ${access}` });
      expect(dataOf(viewer).organization.viewerRole).toBe('OWNER');
    }
    const jwks = (await (await fetch(`${server!.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual([rotation.kid, oldKid]);

    // Retired a day ago: the old key goes only once no live PAT it signed remains.
    await query(url, `UPDATE signing_keys SET "createdAt" = now() - interval '3 days', "retiredAt" = now() - interval '1 day' WHERE kid = $1`, [oldKid]);
    await query(url, `UPDATE personal_access_tokens SET "createdAt" = now() - interval '2 days'`);
    const second = JSON.parse((await idgraph(['rotate-signing-key', '--json'], env)).stdout);
    expect(second).toEqual({ kid: expect.any(String), retired: [rotation.kid], removed: [], reloadSeconds: 60 });
    await query(url, `UPDATE personal_access_tokens SET "revokedAt" = now()`);
    const third = JSON.parse((await idgraph(['rotate-signing-key', '--json'], env)).stdout);
    expect(third).toEqual({ kid: expect.any(String), retired: [second.kid], removed: [oldKid], reloadSeconds: 60 });
    expect((await query(url, 'SELECT kid FROM signing_keys ORDER BY "createdAt"')).map((row) => row.kid)).toEqual([rotation.kid, second.kid, third.kid]);
  }, 180_000);

  it('rotate-signing-key refuses when the keys come from JWT_PRIVATE_KEYS, writing nothing', async () => {
    const before = await counts(url);
    expectCleanFailure(await idgraph(['rotate-signing-key'], { ...env, JWT_PRIVATE_KEYS: '{"keys":[]}' }), 1, /rotate by changing that setting: put the new key first/);
    expect(await counts(url)).toEqual(before);
  }, 120_000);

  it('doctor reports every check ok on a working install, as text and as JSON', async () => {
    const text = await idgraph(['doctor'], env);
    expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' });
    expect(text.stdout.trim().split('\n').map((line) => line.split(/\s{2,}/).slice(0, 2))).toEqual([
      ['ok', 'configuration'],
      ['ok', 'database'],
      ['ok', 'migrations'],
      ['ok', 'signing keys'],
      ['ok', 'smtp'],
    ]);
    const json = await idgraph(['doctor', '--json'], env);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.ok).toBe(true);
    expect(report.checks.map((item: { name: string; ok: boolean }) => [item.name, item.ok])).toEqual([
      ['configuration', true],
      ['database', true],
      ['migrations', true],
      ['signing keys', true],
      ['smtp', true],
    ]);
    expect(report.checks[3].detail).toMatch(/^3 key\(s\) in the database; signing with /);
  }, 120_000);
});

describe('doctor on a broken install', () => {
  it('reports the unreachable database (and what it could not check) and exits 1, naming no password', async () => {
    const port = await closedPort();
    const result = await idgraph(['doctor', '--json'], { DATABASE_URL: `postgres://idgraph:hunter2secret@127.0.0.1:${port}/idgraph` });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.checks).toEqual([
      { name: 'configuration', ok: true, detail: `DATABASE_URL points at 127.0.0.1:${port}/idgraph` },
      { name: 'database', ok: false, detail: expect.stringContaining('ECONNREFUSED') },
      { name: 'migrations', ok: false, detail: 'not checked: the database is unreachable' },
      { name: 'signing keys', ok: false, detail: 'not checked: the database is unreachable' },
      { name: 'smtp', ok: true, detail: expect.stringContaining('SMTP_URL is not set') },
    ]);
    expect(result.stdout + result.stderr).not.toContain('hunter2secret');

    const text = await idgraph(['doctor'], { DATABASE_URL: `postgres://127.0.0.1:${port}/idgraph`, SMTP_URL: `smtp://127.0.0.1:${port}` });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^problem\s+database\s+.*ECONNREFUSED/m);
    expect(text.stdout).toMatch(/^problem\s+smtp\s+.*ECONNREFUSED/m);
  }, 120_000);

  it('on a data folder that holds no install, says so and creates nothing; only migrate sets one up', async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'idgraph-cli-none-'));
    const dataDir = path.join(parent, 'typo');
    try {
      const result = await idgraph(['doctor', '--json'], { IDGRAPH_DATA_DIR: dataDir });
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout).checks[1]).toEqual({ name: 'database', ok: false, detail: expect.stringContaining(`no idgraph install in ${dataDir}`) });
      expectCleanFailure(await idgraph(['revoke-token', 'idg_abcdefgh'], { IDGRAPH_DATA_DIR: dataDir }), 1, /^idgraph: no idgraph install in /);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }, 120_000);

  it('reports an invalid configuration and exits 1', async () => {
    const result = await idgraph(['doctor', '--json'], { DATABASE_URL: 'postgres://127.0.0.1:5432/x', PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ ok: false, checks: [{ name: 'configuration', ok: false, detail: expect.stringMatching(/^invalid configuration: PORT: /) }] });
  }, 120_000);
});
