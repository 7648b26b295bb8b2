import { request } from 'node:http';
import { signUp } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function post(body: string, contentType = 'application/json') {
  const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

describe('requests refused before GraphQL runs', () => {
  it.each([
    ['a body that is not JSON', () => post('{bad json'), 400],
    ['a body over 100 kB', () => post(JSON.stringify({ query: `{ __typename }${' '.repeat(150_000)}` })), 413],
    ['a batch of operations', () => post(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }])), 400],
  ])('%s: a JSON error with a code, no stack trace', async (_label, send, status) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.type).toMatch(/application\/json/);
    const body = JSON.parse(response.text);
    expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(response.text).not.toMatch(/node_modules|\bat [\w.]+ \(/);
  });

  it('an unknown path is a JSON 404', async () => {
    const response = await fetch(`${server.url}/nowhere`);
    expect(response.status).toBe(404);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] });
  });

  it('a malformed session cookie leaves the request anonymous', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'idgraph_session=%%%; other=1' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as any;
    expect(body.errors[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('every response carries a request id that its log line repeats', async () => {
    // An error, so that its line is written at the test server's `info` level.
    const response = await fetch(`${server.url}/nowhere`);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(server.logs.some((line) => line.includes(`"requestId":"${requestId}"`))).toBe(true);
  });
});

describe('responses of /graphql and /api/token are per credential: never stored by a cache', () => {
  const graphql = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const token = (path: string, body: string) => fetch(`${server.url}/api/token/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it.each([
    ['a GraphQL answer', () => graphql(JSON.stringify({ query: '{ __typename }' })), 200],
    ['a GraphQL validation error', () => graphql(JSON.stringify({ query: '{ nothing }' })), 400],
    ['a body that is not JSON', () => graphql('{bad json'), 400],
    ['a refused credential', () => graphql(JSON.stringify({ query: '{ me { id } }' }), { authorization: `Token ${'0'.repeat(40)}` }), 401],
    ['a missing credential', () => graphql(JSON.stringify({ query: '{ me { id } }' })), 401],
    ['a blank refresh', () => token('refresh', '{}'), 400],
    ['a refresh token that is not one', () => token('refresh', JSON.stringify({ refresh: 'a.b.c' })), 401],
    ['a token to verify that is not one', () => token('verify', JSON.stringify({ token: 'garbage' })), 401],
    ['a token endpoint body that is not JSON', () => token('verify', '{bad json'), 400],
  ])('%s: Cache-Control no-store', async (_label, send, status) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('/api/token answers 401 with a challenge', () => {
  it.each([
    ['refresh', { refresh: 'a.b.c' }],
    ['verify', { token: 'garbage' }],
  ])('POST /api/token/%s', async (path, body) => {
    const response = await fetch(`${server.url}/api/token/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="idgraph", error="invalid_token"/);
    expect(await response.json()).toEqual({ detail: 'Given token not valid for any token type', code: 'token_not_valid' });
  });
});

describe('the Authorization header separates scheme and credential with spaces only', () => {
  it('a tab between them is a malformed header, a space is fine', async () => {
    const user = await signUp(server, 'tab');
    const me = (authorization: string) => server.gql(`{ me { id } }`, {}, { authorization });
    const tab = await me(`Token\t${user.userKey}`);
    expect(tab.status).toBe(401);
    expect(tab.headers.get('www-authenticate')).toContain('error="invalid_request"');
    expect(onlyError(tab).message).toBe('invalid authorization header: the scheme and the credential are separated by spaces only');
    expect(dataOf(await me(`Token  ${user.userKey}`)).me.id).toBe(user.id);
  });
});

describe('one Authorization header per request', () => {
  /** Raw headers, since fetch folds repeated headers into one. */
  const twice = (values: string[]) =>
    new Promise<{ status: number; challenge: string | undefined; body: any }>((resolve, reject) => {
      const body = JSON.stringify({ query: '{ me { id } }' });
      const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
      const sent = request(`${server.url}/graphql`, { method: 'POST', headers }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, challenge: response.headers['www-authenticate'], body: JSON.parse(text) }));
      });
      // An array is sent as one header line per value.
      sent.setHeader('authorization', values);
      sent.on('error', reject);
      sent.end(body);
    });

  it('two are refused as malformed, whichever credential each holds; one is read', async () => {
    const user = await signUp(server, 'twice');
    const refused = await twice([`Token ${user.userKey}`, `Token ${user.userKey}`]);
    expect(refused.status).toBe(401);
    expect(refused.challenge).toContain('error="invalid_request"');
    expect(refused.body.errors[0].message).toBe('invalid authorization header: it is sent more than once');
    expect((await twice([`Token ${user.userKey}`, 'Bearer idg_whatever'])).status).toBe(401);
    const single = await twice([`Token ${user.userKey}`]);
    expect(single.status).toBe(200);
    expect(single.body.data.me.id).toBe(user.id);
  });
});

describe('the paths, encodings and bodies clients send', () => {
  const raw = (path: string, body: Buffer | string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('serves /api/token/refresh/ with a trailing slash (as SimpleJWT and the Label Studio SDK call it) and paths in any case', async () => {
    const refresh = await raw('/api/token/refresh/', JSON.stringify({ refresh: 'a.b.c' }));
    expect(refresh.status).toBe(401);
    expect(await refresh.json()).toEqual({ detail: 'Given token not valid for any token type', code: 'token_not_valid' });
    const graphql = await raw('/GraphQL/', JSON.stringify({ query: '{ __typename }' }));
    expect(graphql.status).toBe(200);
    expect(await graphql.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('reads a body compressed with gzip, deflate or br, and refuses an unknown encoding or one past the limit once decompressed', async () => {
    const { gzipSync, deflateSync, brotliCompressSync } = await import('node:zlib');
    const body = JSON.stringify({ query: '{ __typename }' });
    for (const [encoding, compress] of [['gzip', gzipSync], ['deflate', deflateSync], ['br', brotliCompressSync]] as const) {
      const response = await raw('/graphql', compress(body), { 'content-encoding': encoding });
      expect({ encoding, status: response.status, body: await response.json() }).toEqual({ encoding, status: 200, body: { data: { __typename: 'Query' } } });
    }
    const unknown = await raw('/graphql', body, { 'content-encoding': 'zstd' });
    expect(unknown.status).toBe(415);
    expect(((await unknown.json()) as any).errors[0]).toEqual({ message: 'unsupported content-encoding: zstd (gzip, deflate, br or none)', extensions: { code: 'BAD_REQUEST' } });
    // 1 MB of blanks compresses to about a kilobyte: the limit holds for what it becomes.
    const bomb = await raw('/graphql', gzipSync(JSON.stringify({ query: `{ __typename }${' '.repeat(1_000_000)}` })), { 'content-encoding': 'gzip' });
    expect(bomb.status).toBe(413);
    const broken = await raw('/graphql', 'not gzip at all', { 'content-encoding': 'gzip' });
    expect(broken.status).toBe(400);
  });

  it('refuses a __proto__ key with a message that says so', async () => {
    const response = await raw('/graphql', '{"query":"{ __typename }","__proto__":{"polluted":true}}');
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0]).toEqual({ message: 'the body has a "__proto__" key, which is refused', extensions: { code: 'BAD_REQUEST' } });
  });

  it('answers a path the router cannot read in the JSON error shape', async () => {
    const response = await fetch(`${server.url}/graphql%`);
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it("answers a persisted query whose hash does not match as the client's error, not an internal one", async () => {
    const response = await raw('/graphql', JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0]).toMatchObject({ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } });
    expect(server.logs.join('\n')).not.toContain('provided sha does not match query');
  });

  it('a client that goes away in the middle of its body is no database outage', async () => {
    const { connect } = await import('node:net');
    const { port } = new URL(server.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"q');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
    });
    // Whatever the server does with it, it has done within this pause.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.logs.join('\n')).not.toContain('database unreachable');
  });
});
