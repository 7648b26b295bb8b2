import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

export type ServerProcess = {
  url: string;
  port: number;
  /** Every log line the process wrote to stdout, parsed. */
  logs: Record<string, unknown>[];
  /** stderr, as text. */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(name: NodeJS.Signals): void;
  /** Resolves once a log line with this message has been written (rejects if the process exits first). */
  logged(message: string): Promise<Record<string, unknown>>;
};

/**
 * Starts src/main.ts in a process of its own, as `npm start` would (from
 * source, to skip the build), on a free port of 127.0.0.1, and resolves once
 * it listens.
 */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { message: string; resolve: (line: Record<string, unknown>) => void; reject: (error: Error) => void }[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const text of lines) {
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      logs.push(line);
      for (const waiter of waiters.filter((w) => w.message === line.msg)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`the server exited (${code ?? signal}) before logging "${waiter.message}": ${stderr}`));
      resolve({ code, signal });
    }),
  );
  const logged = (message: string) => {
    const seen = logs.find((line) => line.msg === message);
    if (seen) return Promise.resolve(seen);
    if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`the server has exited: ${stderr}`));
    return new Promise<Record<string, unknown>>((resolve, reject) => waiters.push({ message, resolve, reject }));
  };
  const listening = await logged('idgraph is listening');
  const port = listening.port as number;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    logs,
    stderr: () => stderr,
    exited,
    signal: (name) => void child.kill(name),
    logged,
  };
}

/** A raw HTTP/1.1 connection, to send a request in parts and to keep a connection open. */
export class RawConnection {
  private readonly socket: net.Socket;
  private received = '';
  private readonly listeners: (() => void)[] = [];
  readonly closed: Promise<void>;
  readonly connected: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: string) => {
      this.received += chunk;
      for (const listener of this.listeners.splice(0)) listener();
    });
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => {
        for (const listener of this.listeners.splice(0)) listener();
        resolve();
      }),
    );
  }

  write(text: string): void {
    this.socket.write(text);
  }

  get text(): string {
    return this.received;
  }

  /** Resolves once what was received matches, or the connection closed. */
  async until(pattern: RegExp): Promise<string> {
    while (!pattern.test(this.received) && !this.socket.destroyed) {
      await new Promise<void>((resolve) => this.listeners.push(resolve));
    }
    return this.received;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Whether a new TCP connection to the port is refused. */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}
