import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createTestDatabase } from './support/database';

const ROOT = path.join(__dirname, '..');

/** Starts src/main.ts as `npm start` would (from source, to skip the build) with the given environment. */
function start(env: Record<string, string>) {
  return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    // ts-node compiles the whole server first: slow on a loaded 2-core machine, and not what is under test.
    timeout: 90_000,
  });
}

/** The same, without blocking the test's event loop, so that the test can hold a port meanwhile. */
function startAsync(env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

describe('startup', () => {
  it.each([
    ['PORT', 'not-a-port'],
    ['SESSION_TTL_SECONDS', '0'],
    ['LOG_LEVEL', 'chatty'],
  ])('a wrong %s stops the server with a message naming it', (name, value) => {
    const result = start({ [name]: value });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toContain(name);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('an unreachable database stops the server with one clear line', () => {
    const result = start({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', LOG_LEVEL: 'silent' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^idgraph failed to start: .*ECONNREFUSED/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('a port already taken stops the server with one clear line, and exits', async () => {
    const database = await createTestDatabase();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const result = await startAsync({ DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1', METRICS_PORT: '0', LOG_LEVEL: 'silent' });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^idgraph failed to start: cannot listen on 127\\.0\\.0\\.1:${port} \\(HOST, PORT\\): EADDRINUSE`));
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
      await database.drop();
    }
  }, 120_000);
});
