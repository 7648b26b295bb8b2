import { createOrganization, PASSWORD, signUp, type TestUser } from './support/factories';
import { dataOf, startTestServer, type TestServer } from './support/server';

type Line = { level: number; msg: string; requestId?: string; [field: string]: unknown };

const INFO = 30;
const DEBUG = 20;

/** The access line of one request, found by the request id the response carried. */
function accessLines(server: TestServer, requestId: string | null): Line[] {
  return server.logs.map((text) => JSON.parse(text) as Line).filter((line) => line.msg === 'request' && line.requestId === requestId);
}

async function send(server: TestServer, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await response.text();
  return { status: response.status, requestId: response.headers.get('x-request-id') };
}

describe('access log', () => {
  let atInfo: TestServer;
  let atDebug: TestServer;
  let allSlow: TestServer;
  let user: TestUser;
  let apiToken: string;

  beforeAll(async () => {
    atInfo = await startTestServer({ LOG_LEVEL: 'info' });
    atDebug = await startTestServer({ LOG_LEVEL: 'debug' }, atInfo.databaseUrl);
    allSlow = await startTestServer({ LOG_LEVEL: 'info', SLOW_REQUEST_MS: '0' }, atInfo.databaseUrl);
    user = await signUp(atInfo, 'logged');
    const organizationId = (await createOrganization(atInfo, user)).id;
    apiToken = dataOf(
      await atInfo.gql(`mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`, { input: { organizationId, name: 'logged' } }, user.auth),
    ).createApiToken.token;
  });
  afterAll(async () => {
    await allSlow.close();
    await atDebug.close();
    await atInfo.close();
  });

  it('at info, a request that succeeds quickly writes no line', async () => {
    const response = await send(atInfo, { query: 'query Who { viewer { id } }' }, user.auth);
    expect(response.status).toBe(200);
    expect(accessLines(atInfo, response.requestId)).toEqual([]);
  });

  it('at info, a refused credential writes one line with its kind, status and error code, never the secret', async () => {
    const wrongKey = 'f'.repeat(40);
    const response = await send(atInfo, { query: 'query Who { viewer { id } }', operationName: 'Who' }, { authorization: `Token ${wrongKey}` });
    expect(response.status).toBe(401);
    const lines = accessLines(atInfo, response.requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: INFO, method: 'POST', path: '/graphql', operation: 'Who', credential: 'user_key', status: 401, errors: ['UNAUTHENTICATED'] });
    expect(typeof lines[0]!.ms).toBe('number');
    expect(lines[0]).not.toHaveProperty('principal');
    expect(atInfo.logs.join('\n')).not.toContain(wrongKey);
  });

  it('at info, GraphQL errors in a 200 response are logged with their codes', async () => {
    const response = await send(atInfo, { query: 'mutation { createOrganization(input: { name: "" }) { organization { id } } }' }, user.auth);
    const lines = accessLines(atInfo, response.requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: INFO, operation: null, credential: 'user_key', principal: { kind: 'USER', id: user.id }, status: response.status });
    expect(lines[0]!.errors).toEqual(['BAD_USER_INPUT']);
  });

  it('at debug, every request writes its line: operation, principal, credential kind, status and duration', async () => {
    const withKey = await send(atDebug, { query: 'query Who { viewer { id } }' }, user.auth);
    const withToken = await send(atDebug, { query: '{ viewer { id } }' }, { authorization: `Bearer ${apiToken}` });
    const logIn = await send(atDebug, { query: `mutation LogIn { logIn(input: { email: "${user.email}", password: "${PASSWORD}" }) { user { id } } }` });
    const probe = await fetch(`${atDebug.url}/healthz`);

    expect(accessLines(atDebug, withKey.requestId)).toEqual([
      expect.objectContaining({ level: DEBUG, operation: 'Who', principal: { kind: 'USER', id: user.id }, credential: 'user_key', status: 200, ms: expect.any(Number) }),
    ]);
    expect(accessLines(atDebug, withToken.requestId)).toEqual([
      expect.objectContaining({ level: DEBUG, operation: null, principal: { kind: 'USER', id: user.id }, credential: 'api_token', status: 200 }),
    ]);
    expect(accessLines(atDebug, withKey.requestId)[0]).not.toHaveProperty('errors');
    expect(accessLines(atDebug, logIn.requestId)).toEqual([expect.objectContaining({ level: DEBUG, operation: 'LogIn', status: 200 })]);
    expect(accessLines(atDebug, probe.headers.get('x-request-id'))).toEqual([expect.objectContaining({ level: DEBUG, method: 'GET', path: '/healthz', status: 200 })]);

    const everything = atDebug.logs.join('\n');
    for (const secret of [user.userKey, apiToken, PASSWORD]) expect(everything).not.toContain(secret);
  });

  it('a request slower than SLOW_REQUEST_MS is written at info even when it succeeds', async () => {
    const response = await send(allSlow, { query: '{ __typename }' });
    expect(response.status).toBe(200);
    expect(accessLines(allSlow, response.requestId)).toEqual([expect.objectContaining({ level: INFO, status: 200, slow: true })]);
  });
});
