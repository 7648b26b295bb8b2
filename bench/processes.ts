/**
 * The servers the bench measures, each in a process of its own so that none
 * shares an event loop with autocannon: idgraph started as in production
 * (`node dist/src/main.js`, after `npm run build`), and the ceiling, a bare
 * Apollo Server (bench/ceiling.ts). Their output goes to files in the bench's
 * temporary folder, as a production log would, not through the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

export type ServerProcess = {
  name: string;
  /** http://127.0.0.1:PORT, without a path. */
  origin: string;
  logFile: string;
  stop: () => Promise<void>;
};

/** A port nobody listens on now, chosen by the system. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The limits raised for the bench's own traffic, all from one address: the
 * highest limits the settings take, and for the limits a case meets on every
 * request (failed checks, the refresh exchange) a window of one second.
 */
export const RAISED_LIMITS = {
  LOGIN_RATE_LIMIT: '100000',
  SIGNUP_RATE_LIMIT: '100000',
  TOKEN_RATE_LIMIT: '100000',
  TOKEN_ENDPOINT_RATE_LIMIT: '100000',
  TOKEN_ENDPOINT_RATE_WINDOW_SECONDS: '1',
  AUTH_FAILURE_RATE_LIMIT: '100000',
  AUTH_FAILURE_RATE_WINDOW_SECONDS: '1',
  EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0',
};

/**
 * idgraph as production runs it. `database` is a DATABASE_URL, or a folder
 * for the embedded PostgreSQL (IDGRAPH_DATA_DIR). `env` adds or overrides
 * settings (LOG_LEVEL, the limits).
 */
export async function startIdgraph(
  name: string,
  database: { url: string } | { dataDir: string },
  folder: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const settings: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    METRICS_PORT: '0',
    HOST: '127.0.0.1',
    PORT: String(port),
    ...RAISED_LIMITS,
    ...env,
  };
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  delete inherited.IDGRAPH_DATA_DIR;
  const databaseSetting = 'url' in database ? { DATABASE_URL: database.url } : { IDGRAPH_DATA_DIR: database.dataDir };
  const logFile = path.join(folder, `${name}.log`);
  const child = spawnLogged(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], { ...inherited, ...databaseSetting, ...settings }, logFile);
  const origin = `http://127.0.0.1:${port}`;
  await waitUntilReady(name, child, `${origin}/readyz`, logFile);
  return { name, origin, logFile, stop: () => stopProcess(child) };
}

/** The ceiling: bench/ceiling.ts in a process of its own, with idgraph's @apollo/server and graphql, in production mode. */
export async function startCeiling(folder: string): Promise<ServerProcess> {
  const port = await freePort();
  const logFile = path.join(folder, 'ceiling.log');
  const child = spawnLogged(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'ceiling.ts')],
    { ...process.env, NODE_ENV: 'production', PORT: String(port) },
    logFile,
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitUntilReady('ceiling', child, `${origin}/?query=%7B__typename%7D`, logFile, { 'apollo-require-preflight': 'true' });
  return { name: 'ceiling', origin, logFile, stop: () => stopProcess(child) };
}

function spawnLogged(command: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return child;
}

async function waitUntilReady(name: string, child: ChildProcess, url: string, logFile: string, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(logFile)}`);
    }
    try {
      const response = await fetch(url, { headers });
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopProcess(child);
  throw new Error(`${name} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${tail(logFile)}`);
}

/** SIGTERM (idgraph then stops its embedded PostgreSQL too), SIGKILL if it does not end in time. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function tail(logFile: string): string {
  return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
}
