import { PASSWORD, signUp } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' });
});
afterAll(() => server.close());

describe('CORS', () => {
  it('answers a preflight from an allowed origin, with credentials, never *', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('gives no CORS headers to any other origin', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { origin: 'https://evil.example.net', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets an allowed origin log in and use the session cookie with credentials', async () => {
    const user = await signUp(server, 'browser');
    const origin = { origin: 'http://localhost:5173', 'content-type': 'application/json' };
    const logIn = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: origin,
      body: JSON.stringify({ query: `mutation { logIn(input: { email: "${user.email}", password: "${PASSWORD}" }) { user { id } } }` }),
    });
    expect(logIn.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(logIn.headers.get('access-control-allow-credentials')).toBe('true');
    const cookie = /idgraph_session=[^;]+/.exec(logIn.headers.get('set-cookie') ?? '')![0];
    const me = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { ...origin, cookie }, body: JSON.stringify({ query: '{ me { id } }' }) });
    expect(((await me.json()) as any).data.me.id).toBe(user.id);
  });

  it("keeps Apollo's CSRF prevention: a simple cross-site GET is refused", async () => {
    const response = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { origin: 'https://evil.example.net' } });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF/);
  });

  it('refuses * in CORS_ORIGINS at start', async () => {
    await expect(startTestServer({ CORS_ORIGINS: '*' })).rejects.toThrow(/CORS_ORIGINS/);
  });
});
