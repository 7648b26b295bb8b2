import { startTestServer, type TestServer } from './support/server';

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
