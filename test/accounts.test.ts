import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';
import { PASSWORD, signUp, tableCounts } from './support/factories';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ TRUST_PROXY: 'true' });
});
afterAll(() => server.close());

const ME = `{ me { id email } }`;
const VIEWER = `{ viewer { id kind credential user { id } organization { id } rights { members { read } } } }`;

function sessionCookieOf(setCookie: string | null): string {
  const match = /idgraph_session=([^;]*)/.exec(setCookie ?? '');
  if (!match) throw new Error(`no session cookie in ${setCookie}`);
  return `idgraph_session=${match[1]}`;
}

describe('signUp and the user key', () => {
  it('returns a 40-hex user key that works with the Token scheme, in any case', async () => {
    const user = await signUp(server, 'ada');
    expect(user.userKey).toMatch(/^[0-9a-f]{40}$/);
    for (const scheme of ['Token', 'token', 'TOKEN']) {
      const response = await server.gql(ME, {}, { authorization: `${scheme} ${user.userKey}` });
      expect(response.status).toBe(200);
      expect(dataOf(response).me).toEqual({ id: user.id, email: user.email });
    }
    const viewer = dataOf(await server.gql(VIEWER, {}, user.auth)).viewer;
    expect(viewer).toEqual({ id: user.id, kind: 'USER', credential: 'USER_KEY', user: { id: user.id }, organization: null, rights: null });
  });

  it('stores only the SHA-256 digest of the key and an argon2id hash of the password', async () => {
    const user = await signUp(server, 'grace');
    const [row] = await server.app.dataSource.query(`SELECT * FROM users WHERE id = $1`, [user.id]);
    const { createHash } = await import('node:crypto');
    expect(row.userKeyDigest).toEqual(createHash('sha256').update(user.userKey).digest());
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    const everything = JSON.stringify(await server.app.dataSource.query(`SELECT * FROM users`));
    expect(everything).not.toContain(user.userKey);
    expect(everything).not.toContain(PASSWORD);
  });

  it('regenerateUserKey: the old key is refused at once, the new one works', async () => {
    const user = await signUp(server, 'linus');
    const { userKey } = dataOf(await server.gql(`mutation { regenerateUserKey { userKey } }`, {}, user.auth)).regenerateUserKey;
    expect(userKey).toMatch(/^[0-9a-f]{40}$/);
    expect(userKey).not.toBe(user.userKey);
    const old = await server.gql(ME, {}, user.auth);
    expect(old.status).toBe(401);
    expect(onlyError(old).message).toBe('invalid or expired token');
    expect(dataOf(await server.gql(ME, {}, { authorization: `Token ${userKey}` })).me.id).toBe(user.id);
  });

  it('normalizes the email: a different case is the same account', async () => {
    const user = await signUp(server, 'case');
    const response = await server.gql(`mutation ($input: SignUpInput!) { signUp(input: $input) { userKey } }`, {
      input: { email: user.email.toUpperCase(), password: PASSWORD, name: 'Copy' },
    });
    expect(onlyError(response).extensions?.code).toBe('CONFLICT');
  });
});

describe('bad input changes nothing', () => {
  const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { userKey } }`;

  it.each([
    ['a malformed email', { email: 'not-an-email', password: PASSWORD, name: 'X' }, 'BAD_USER_INPUT', 'email'],
    ['an email with spaces', { email: 'a b@example.com', password: PASSWORD, name: 'X' }, 'BAD_USER_INPUT', 'email'],
    ['a short password', { email: 'short@example.com', password: 'short', name: 'X' }, 'BAD_USER_INPUT', 'password'],
    ['an empty name', { email: 'noname@example.com', password: PASSWORD, name: '   ' }, 'BAD_USER_INPUT', 'name'],
  ])('signUp with %s is %s naming the field', async (_label, input, code, field) => {
    const before = await tableCounts(server);
    const error = onlyError(await server.gql(SIGN_UP, { input }));
    expect(error.extensions).toMatchObject({ code, field });
    expect(error.message).toContain(field);
    expect(await tableCounts(server)).toEqual(before);
  });

  it('a duplicate email is CONFLICT and adds no row', async () => {
    const user = await signUp(server, 'dup');
    const before = await tableCounts(server);
    const error = onlyError(await server.gql(SIGN_UP, { input: { email: user.email, password: PASSWORD, name: 'Again' } }));
    expect(error.extensions?.code).toBe('CONFLICT');
    expect(await tableCounts(server)).toEqual(before);
  });

  it('a missing argument is refused by GraphQL validation without a stack trace', async () => {
    const response = await server.gql(`mutation { signUp(input: { email: "x@example.com", name: "X" }) { userKey } }`);
    expect(response.status).toBe(400);
    const error = onlyError(response);
    expect(error.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(response.body)).not.toContain('stacktrace');
  });
});

describe('logIn, the session cookie and logOut', () => {
  const LOG_IN = `mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }`;

  it('sets an httpOnly SameSite=Lax cookie that authenticates, and logOut kills it', async () => {
    const user = await signUp(server, 'session');
    const response = await server.gql(LOG_IN, { input: { email: user.email.toUpperCase(), password: PASSWORD } });
    expect(dataOf(response).logIn.user.id).toBe(user.id);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i);
    const cookie = sessionCookieOf(setCookie);

    const viewer = dataOf(await server.gql(VIEWER, {}, { cookie })).viewer;
    expect(viewer).toMatchObject({ id: user.id, credential: 'SESSION' });

    const [session] = await server.app.dataSource.query(`SELECT digest FROM sessions WHERE "userId" = $1`, [user.id]);
    expect(session.digest).toBeInstanceOf(Buffer);
    expect(JSON.stringify(await server.app.dataSource.query(`SELECT * FROM sessions`))).not.toContain(cookie.split('=')[1]);

    const logOut = await server.gql(`mutation { logOut { ok } }`, {}, { cookie });
    expect(dataOf(logOut).logOut.ok).toBe(true);
    expect(logOut.headers.get('set-cookie')).toMatch(/idgraph_session=;.*Max-Age=0/i);

    const after = await server.gql(ME, {}, { cookie });
    expect(after.status).toBe(401);
    expect(onlyError(after)).toMatchObject({ message: 'session expired or logged out: log in again', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('marks the cookie Secure when served over https (behind a trusted proxy)', async () => {
    const user = await signUp(server, 'secure');
    const response = await server.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } }, { 'x-forwarded-proto': 'https' });
    expect(response.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
  });

  it('gives one generic error for an unknown email and for a wrong password', async () => {
    const user = await signUp(server, 'generic');
    const wrongPassword = onlyError(await server.gql(LOG_IN, { input: { email: user.email, password: 'wrong password!!' } }));
    const unknownEmail = onlyError(await server.gql(LOG_IN, { input: { email: 'nobody@example.com', password: PASSWORD } }));
    expect(wrongPassword).toEqual(unknownEmail);
    expect(wrongPassword).toMatchObject({ message: 'invalid email or password', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('refuses a deactivated user, by key and by password', async () => {
    const user = await signUp(server, 'inactive');
    await server.app.dataSource.query(`UPDATE users SET "isActive" = false WHERE id = $1`, [user.id]);
    const byKey = await server.gql(ME, {}, user.auth);
    expect(byKey.status).toBe(401);
    expect(onlyError(byKey).message).toBe('invalid token: the user is inactive');
    expect(byKey.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const byPassword = onlyError(await server.gql(LOG_IN, { input: { email: user.email, password: PASSWORD } }));
    expect(byPassword.message).toBe('invalid email or password');
  });
});

describe('authentication failures: 401, WWW-Authenticate and a message that says which', () => {
  const cases: [string, Record<string, string>, string, string][] = [
    ['no credentials', {}, 'authentication required: missing credentials', 'Bearer realm="idgraph"'],
    ['an empty header', { authorization: '' }, 'invalid authorization header: it is empty', 'error="invalid_request"'],
    ['"Token" alone', { authorization: 'Token' }, 'invalid authorization header: no credentials provided after the scheme', 'error="invalid_request"'],
    ['three parts', { authorization: 'Token abc def' }, 'invalid authorization header: the credential must not contain spaces', 'error="invalid_request"'],
    ['an unknown scheme', { authorization: 'Basic dXNlcjpwYXNz' }, 'invalid authorization header: unsupported scheme (use Token or Bearer)', 'error="invalid_request"'],
    ['a key of the wrong shape', { authorization: 'Token 12345' }, 'invalid token format: a user key is 40 lowercase hexadecimal characters', 'error="invalid_token"'],
    ['an unknown key', { authorization: `Token ${'a'.repeat(40)}` }, 'invalid or expired token', 'error="invalid_token"'],
    ['a user key sent as Bearer', { authorization: `Bearer ${'b'.repeat(40)}` }, 'invalid token format: a user key is sent with the Token scheme', 'error="invalid_request"'],
    ['an idg_ token with a wrong checksum', { authorization: `Bearer idg_${'A'.repeat(36)}` }, 'invalid token format', 'error="invalid_token"'],
    ['a JWT of an unknown key', { authorization: 'Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2ln' }, 'invalid or expired token: unknown signing key', 'error="invalid_token"'],
    ['garbage as Bearer', { authorization: 'Bearer !!!' }, 'invalid token format', 'error="invalid_token"'],
  ];

  it.each(cases)('%s', async (_label, headers, message, challenge) => {
    const response = await server.gql(ME, {}, headers);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain(challenge);
    const error = onlyError(response);
    expect(error).toMatchObject({ message, extensions: { code: 'UNAUTHENTICATED' } });
    expect(JSON.stringify(response.body)).not.toMatch(/stacktrace|at .*\.ts:/);
  });

  it('lets public operations through without credentials', async () => {
    const response = await server.gql(`mutation { logIn(input: { email: "nobody@example.com", password: "whatever it is" }) { user { id } } }`);
    expect(response.status).toBe(200);
    expect(onlyError(response).message).toBe('invalid email or password');
  });
});

describe('secrets never reach the logs', () => {
  it('no user key, password or session cookie appears in any log line', async () => {
    const user = await signUp(server, 'logs');
    const response = await server.gql(`mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }`, {
      input: { email: user.email, password: PASSWORD },
    });
    const cookie = sessionCookieOf(response.headers.get('set-cookie'));
    await server.gql(ME, {}, { cookie });
    await server.gql(ME, {}, user.auth);
    const logs = server.logs.join('\n');
    expect(logs).toContain('"path":"/graphql"');
    expect(logs).not.toContain(user.userKey);
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain(cookie.split('=')[1]);
  });
});
