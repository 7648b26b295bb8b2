import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/**
 * Compiles the server as `npm run build` does, into a folder of its own under
 * dist/, so that test files building at the same time never read each other's
 * half-written output. Returns the path of main.js and a remover.
 */
export function buildServer(): { main: string; remove: () => Promise<void> } {
  const outDir = path.join(ROOT, 'dist', `.test-build-${randomBytes(4).toString('hex')}`);
  const result = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (result.status !== 0) throw new Error(`build failed: ${result.stdout}${result.stderr}`);
  return { main: path.join(outDir, 'src', 'main.js'), remove: () => rm(outDir, { recursive: true, force: true }) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export type ServerProcess = {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
};

/** `node dist/src/main.js` with the embedded default: no DATABASE_URL. */
export function startServer(main: string, dataDir: string, port: number, extraEnv: Record<string, string> = {}): ServerProcess {
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', IDGRAPH_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, port, output: () => output, exited };
}

/** Polls /healthz until it answers 200; fails early when the process ends. */
export async function waitHealthy(server: ServerProcess, timeoutMs = 90_000): Promise<void> {
  let ended = false;
  void server.exited.then(() => (ended = true));
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    if (ended) throw new Error(`the server exited before serving:\n${server.output()}`);
    const status = await fetch(`http://127.0.0.1:${server.port}/healthz`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
  }
  throw new Error(`the server did not serve within ${timeoutMs} ms:\n${server.output()}`);
}

/** Waits for the process to end, bounded; returns its exit code. */
export async function waitExit(server: ServerProcess, timeoutMs = 60_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the process did not end within ${timeoutMs} ms:\n${server.output()}`)), timeoutMs);
  });
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function graphql<T = Record<string, unknown>>(
  port: number,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: T; errors?: { message: string }[] };
}

/** The processes whose command line runs PostgreSQL with `-D clusterDir`: the postmasters of that cluster. */
export function postmastersOf(clusterDir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = args.indexOf('-D');
      if (at >= 0 && args[at + 1] === clusterDir && path.basename(args[0] ?? '') === 'postgres') found.push(Number(entry));
    } catch {
      // The process ended while being read.
    }
  }
  return found;
}

/** Whether any TCP socket of `pid` is listening (state 0A in /proc/net/tcp and tcp6). */
export function hasTcpListener(pid: number): boolean {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && fields[9] !== undefined && inodes.has(fields[9])) return true;
    }
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends the given processes and every PostgreSQL left on the cluster folder, each wait bounded. */
export async function stopEverything(servers: ServerProcess[], clusterDir: string): Promise<void> {
  for (const server of servers) {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  }
  for (const pid of postmastersOf(clusterDir)) {
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      try {
        process.kill(pid, signal);
      } catch {
        break;
      }
      for (const deadline = Date.now() + 20_000; alive(pid) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
      if (!alive(pid)) break;
    }
  }
}
