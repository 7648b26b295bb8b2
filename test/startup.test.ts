import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');

/** Starts src/main.ts as `npm start` would (from source, to skip the build) with the given environment. */
function start(env: Record<string, string>) {
  return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
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
  });

  it('an unreachable database stops the server with one clear line', () => {
    const result = start({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', LOG_LEVEL: 'silent' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^idgraph failed to start: .*ECONNREFUSED/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
