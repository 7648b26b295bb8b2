import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, rename, unlink } from 'node:fs/promises';
import net from 'node:net';

export type LockRole = 'server' | 'command';

/** What the holder of a data folder's lock says about itself to whoever knocks. */
export type LockHolder = { pid: number | undefined; role: LockRole | undefined; since: string | undefined };

export type DataFolderLock = { path: string; release: () => Promise<void> };

/** Another live process holds the data folder: nothing was changed. */
export class DataFolderInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    const who = holder.role === 'command' ? 'an idgraph command' : 'another idgraph';
    const pid = holder.pid === undefined ? 'pid unknown' : `pid ${holder.pid}`;
    const since = holder.since ? `, running since ${holder.since}` : '';
    super(
      `the data folder ${dataDir} is in use by ${who} (${pid}${since}); ` +
        'stop it first, or give this one its own IDGRAPH_DATA_DIR',
    );
    this.name = 'DataFolderInUseError';
  }
}

const PROBE_TIMEOUT_MS = 2_000;
const ATTEMPTS = 5;

function listen(server: net.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(error);
    server.once('error', fail);
    server.listen(socketPath, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

type Probe = { alive: true; holder: LockHolder } | { alive: false; inode: number | undefined };

/** Knocks on the lock's socket: a live holder answers who it is; a dead one leaves a socket file nobody accepts on. */
async function probe(socketPath: string): Promise<Probe> {
  const inode = await lstat(socketPath).then(
    (stats) => stats.ino,
    () => undefined,
  );
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let answer = '';
    let connected = false;
    const timer = setTimeout(() => socket.destroy(), PROBE_TIMEOUT_MS);
    const holder = (): LockHolder => {
      try {
        const parsed = JSON.parse(answer) as Partial<LockHolder>;
        return {
          pid: typeof parsed.pid === 'number' ? parsed.pid : undefined,
          role: parsed.role === 'server' || parsed.role === 'command' ? parsed.role : undefined,
          since: typeof parsed.since === 'string' ? parsed.since : undefined,
        };
      } catch {
        return { pid: undefined, role: undefined, since: undefined };
      }
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => (connected = true));
    socket.on('data', (chunk: string) => (answer += chunk.slice(0, 1_000)));
    // A socket that neither refuses nor answers in time has a live, busy owner.
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ alive: true, holder: holder() });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (connected) return;
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve({ alive: false, inode });
      else reject(new Error(`cannot check the lock ${socketPath}: ${error.message}`));
    });
  });
}

/**
 * Moves a dead holder's socket file out of the way. Renaming first and
 * comparing inodes makes sure that, when two starts find the same dead lock,
 * the slower one does not delete the socket the faster one has just bound.
 */
async function removeStale(socketPath: string, staleInode: number | undefined): Promise<void> {
  const aside = `${socketPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(socketPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await lstat(aside);
  if (staleInode === undefined || moved.ino !== staleInode) await link(aside, socketPath).catch(() => undefined);
  await unlink(aside);
}

/**
 * Takes the data folder's lock: a Unix socket that this process listens on.
 * The kernel closes it with the process, however the process ends, so a
 * `kill -9` leaves a socket file that nobody accepts on, which the next start
 * recognises and replaces. Throws DataFolderInUseError while a live process
 * holds it.
 */
export async function lockDataFolder(dataDir: string, socketPath: string, role: LockRole): Promise<DataFolderLock> {
  const since = new Date().toISOString();
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const server = net.createServer((socket) => {
      socket.end(`${JSON.stringify({ pid: process.pid, role, since })}\n`);
    });
    try {
      await listen(server, socketPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
        throw new Error(`cannot lock the data folder ${dataDir}: ${(error as Error).message}`);
      }
      const found = await probe(socketPath);
      if (found.alive) throw new DataFolderInUseError(dataDir, found.holder);
      await removeStale(socketPath, found.inode);
      continue;
    }
    // The lock must never keep a finished process alive.
    server.unref();
    await chmod(socketPath, 0o600);
    let released = false;
    return {
      path: socketPath,
      release: async () => {
        if (released) return;
        released = true;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }
  throw new Error(`cannot lock the data folder ${dataDir}: its lock ${socketPath} kept changing hands`);
}
