import { Client } from 'pg';
import { createTestDatabase } from './support/database';
import { createOrganization, signUp } from './support/factories';
import { connectionRefused, RawConnection, startServerProcess, type ServerProcess } from './support/process';
import { dataOf, startTestServer } from './support/server';

jest.setTimeout(60_000);

const CREATE_TOKEN = `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`;
const VIEWER = '{ viewer { id kind } }';

let database: { url: string; drop: () => Promise<void> };
let token: { id: string; secret: string };
const running: ServerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const setup = await startTestServer({}, database.url);
  try {
    const owner = await signUp(setup, 'owner');
    const org = await createOrganization(setup, owner);
    const created = dataOf(await setup.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'deploy' } }, owner.auth)).createApiToken;
    token = { id: created.apiToken.id, secret: created.token };
  } finally {
    await setup.close();
  }
});

afterEach(async () => {
  for (const server of running.splice(0)) {
    server.signal('SIGKILL');
    await server.exited;
  }
});

afterAll(() => database.drop());

/** The server as `npm start` runs it; usage is written only at shutdown, so what the table shows came from the shutdown. */
async function start(env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServerProcess({ DATABASE_URL: database.url, TOKEN_USAGE_FLUSH_SECONDS: '3600', EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0', ...env });
  running.push(server);
  return server;
}

async function lastUsedAt(): Promise<Date | null> {
  const client = new Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT "lastUsedAt" FROM api_tokens WHERE id = $1', [token.id]);
    return rows[0].lastUsedAt as Date | null;
  } finally {
    await client.end();
  }
}

async function resetUsage(): Promise<void> {
  const client = new Client({ connectionString: database.url });
  await client.connect();
  await client.query(`UPDATE api_tokens SET "lastUsedAt" = NULL, "lastUsedAddresses" = '{}' WHERE id = $1`, [token.id]);
  await client.end();
}

/**
 * A POST /graphql in flight for as long as the test likes: the headers go
 * first, with `Expect: 100-continue`; Node answers `100 Continue` as it hands
 * the request to the application, so once that arrives the request is being
 * served. The body follows with `finish()`.
 */
async function requestInFlight(server: ServerProcess, query: string): Promise<{ connection: RawConnection; finish: () => void }> {
  const body = JSON.stringify({ query });
  const connection = new RawConnection(server.port);
  await connection.connected;
  connection.write(
    [
      'POST /graphql HTTP/1.1',
      `Host: 127.0.0.1:${server.port}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `Authorization: Bearer ${token.secret}`,
      'Expect: 100-continue',
      '',
      '',
    ].join('\r\n'),
  );
  await connection.until(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
  const half = Math.floor(body.length / 2);
  connection.write(body.slice(0, half));
  return { connection, finish: () => connection.write(body.slice(half)) };
}

/** A keep-alive connection that has served one request and now sits idle. */
async function idleKeepAlive(server: ServerProcess): Promise<RawConnection> {
  const connection = new RawConnection(server.port);
  await connection.connected;
  connection.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: keep-alive\r\n\r\n`);
  await connection.until(/\r\n\r\n\{[^}]*\}/);
  return connection;
}

function bodyOf(response: string): any {
  return JSON.parse(response.slice(response.lastIndexOf('\r\n\r\n') + 4));
}

describe('SIGTERM', () => {
  it('stops taking connections, lets requests in flight finish, writes the last token uses, and exits 0', async () => {
    await resetUsage();
    const server = await start();
    const answers = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token.secret}` },
        body: JSON.stringify({ query: VIEWER }),
      });
      expect(response.status).toBe(200);
      answers.push(await response.json());
    }
    expect(answers[0]).toEqual({ data: { viewer: { id: expect.any(String), kind: expect.any(String) } } });
    const idle = await idleKeepAlive(server);
    // A request whose headers are still coming when the signal arrives: not yet in flight.
    const late = new RawConnection(server.port);
    await late.connected;
    late.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\n`);
    const inFlight = await requestInFlight(server, VIEWER);

    const signalledAt = new Date();
    server.signal('SIGTERM');
    await server.logged('shutting down: no new connections, requests in flight finish');
    // The idle keep-alive connection is closed at once, while the request in flight still holds the server open.
    await idle.closed;
    let refused = false;
    for (let attempt = 0; attempt < 50 && !refused; attempt += 1) refused = await connectionRefused(server.port);
    expect(refused).toBe(true);
    const lateBody = JSON.stringify({ query: '{ __typename }' });
    late.write(`Content-Length: ${lateBody.length}\r\n\r\n${lateBody}`);
    await late.closed;
    // Refused with 503 (or, had its first bytes not been read yet, closed unanswered): never served.
    expect(late.text === '' || /^HTTP\/1\.1 503 .*"code":"SERVICE_UNAVAILABLE"/s.test(late.text)).toBe(true);

    inFlight.finish();
    const response = await inFlight.connection.until(/\r\n\r\n\{.*\}$/s);
    expect(response).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(response).toMatch(/\r\nConnection: close\r\n/i);
    expect(bodyOf(response)).toEqual(answers[0]);

    expect(await server.exited).toEqual({ code: 0, signal: null });
    const done = server.logs.find((line) => line.msg === 'shut down');
    expect(done).toMatchObject({ ms: expect.any(Number) });
    expect(server.logs.some((line) => line.msg === 'shutdown step failed')).toBe(false);
    // Written by the shutdown flush alone (the periodic one is an hour away), including the use made after the signal.
    const used = await lastUsedAt();
    expect(used).not.toBeNull();
    expect(used!.getTime()).toBeGreaterThanOrEqual(signalledAt.getTime());
  });

  it('an idle server exits at once, with code 0', async () => {
    const server = await start();
    const idle = await idleKeepAlive(server);
    server.signal('SIGTERM');
    const bound = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 5000).unref());
    expect(await Promise.race([server.exited, bound])).toEqual({ code: 0, signal: null });
    await idle.closed;
  });

  it('SIGINT stops the server the same way', async () => {
    const server = await start();
    server.signal('SIGINT');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs.find((line) => line.msg === 'shutting down: no new connections, requests in flight finish')).toMatchObject({ signal: 'SIGINT' });
  });

  it('a second signal cuts the requests still in flight short; the usage is still written and the exit code is 0', async () => {
    await resetUsage();
    const server = await start({ SHUTDOWN_TIMEOUT_SECONDS: '600' });
    await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.secret}` },
      body: JSON.stringify({ query: VIEWER }),
    });
    const inFlight = await requestInFlight(server, VIEWER);
    server.signal('SIGTERM');
    await server.logged('shutting down: no new connections, requests in flight finish');
    server.signal('SIGTERM');
    await inFlight.connection.closed;
    expect(inFlight.connection.text).not.toMatch(/HTTP\/1\.1 200/);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs.find((line) => line.msg === 'requests still running at the shutdown deadline were cut off')).toMatchObject({ requests: 1 });
    expect(await lastUsedAt()).not.toBeNull();
  });

  it('SHUTDOWN_TIMEOUT_SECONDS bounds the wait for requests in flight', async () => {
    const server = await start({ SHUTDOWN_TIMEOUT_SECONDS: '1' });
    const inFlight = await requestInFlight(server, VIEWER);
    server.signal('SIGTERM');
    await inFlight.connection.closed;
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs.find((line) => line.msg === 'requests still running at the shutdown deadline were cut off')).toMatchObject({ requests: 1 });
  });
});
