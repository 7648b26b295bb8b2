import { createPublicKey } from 'node:crypto';
import { CompactSign, createRemoteJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type KeyLike } from 'jose';
import { signUp, type TestUser } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

/** The servers' clock: tests move it instead of sleeping. */
let offsetMs = 0;
const now = () => new Date(Date.now() + offsetMs);

let server: TestServer;
let second: TestServer;
let user: TestUser;

beforeAll(async () => {
  server = await startTestServer({}, undefined, { now });
  second = await startTestServer({}, server.databaseUrl, { now });
  user = await signUp(server, 'pat');
});
afterAll(async () => {
  await second.close();
  await server.close();
});
afterEach(() => {
  offsetMs = 0;
});

const CREATE = `mutation ($input: CreatePersonalAccessTokenInput!) { createPersonalAccessToken(input: $input) { refresh personalAccessToken { id name isActive } } }`;
const REFRESH = `mutation ($refresh: String!) { refreshAccessToken(input: { refresh: $refresh }) { access expiresAt } }`;
const VERIFY = `mutation ($token: String!) { verifyAccessToken(input: { token: $token }) { valid reason } }`;
const VIEWER = `{ viewer { id credential } }`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function newPat(name = 'cli') {
  const data = dataOf(await server.gql(CREATE, { input: { name } }, user.auth)).createPersonalAccessToken;
  return { refresh: data.refresh as string, id: data.personalAccessToken.id as string };
}

async function accessFor(refresh: string, on = server) {
  return dataOf(await on.gql(REFRESH, { refresh })).refreshAccessToken as { access: string; expiresAt: string };
}

/** The deployment's own signing key (kept in the database), to forge tokens that only differ in one claim. */
async function signingKey(): Promise<{ kid: string; privateKey: KeyLike; publicJwk: JWK }> {
  const [row] = await server.app.dataSource.query(`SELECT kid, "privateJwk", "publicJwk" FROM signing_keys`);
  return { kid: row.kid, privateKey: (await importJWK(row.privateJwk, 'EdDSA')) as KeyLike, publicJwk: row.publicJwk };
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('personal access tokens and access tokens', () => {
  it('create → refresh → use the access token; the PAT is listed, never shown again', async () => {
    const { refresh, id } = await newPat('laptop');
    const [header, payload] = refresh.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'JWT' });
    expect(typeof header.kid).toBe('string');
    expect(payload).toMatchObject({ token_type: 'refresh', sub: user.id, iss: 'idgraph', aud: 'idgraph' });
    expect(payload.exp).toBeUndefined();

    const { access, expiresAt } = await accessFor(refresh);
    const [accessHeader, accessPayload] = access.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(accessHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: header.kid });
    expect(accessPayload).toMatchObject({ token_type: 'access', sub: user.id, pat: payload.jti });
    expect(accessPayload.exp - accessPayload.iat).toBe(300);
    expect(new Date(expiresAt).getTime()).toBe(accessPayload.exp * 1000);

    expect(dataOf(await server.gql(VIEWER, {}, bearer(access))).viewer).toEqual({ id: user.id, credential: 'ACCESS_TOKEN' });
    const listed = dataOf(await server.gql(`{ me { personalAccessTokens { totalCount edges { node { id name isActive lastUsedAt } } } } }`, {}, user.auth)).me.personalAccessTokens;
    expect(listed.edges.map((edge: any) => edge.node.id)).toContain(id);
    expect(JSON.stringify(listed)).not.toContain(refresh);
    expect(JSON.stringify(await server.app.dataSource.query(`SELECT * FROM personal_access_tokens`))).not.toContain(refresh);
  });

  it('records an exchange as the PAT\'s lastUsedAt with the batched token usage', async () => {
    const { id, refresh } = await newPat('exchanged');
    const lastUsedAt = async () =>
      (dataOf(await server.gql(`{ me { personalAccessTokens(first: 100) { edges { node { id lastUsedAt } } } } }`, {}, user.auth)).me.personalAccessTokens.edges as any[]).find(
        (edge) => edge.node.id === id,
      ).node.lastUsedAt;
    expect(await lastUsedAt()).toBeNull();
    await accessFor(refresh);
    await server.app.services.tokenUsage.flush();
    expect(new Date(await lastUsedAt()).getTime()).toBeGreaterThan(Date.now() - 3_600_000);
  });

  it('an access token expires after its TTL (plus the leeway)', async () => {
    const { access } = await accessFor((await newPat()).refresh);
    // 300 s of life and 30 s of leeway, with a margin for the whole seconds of iat.
    offsetMs = 300_000 + 25_000;
    expect((await server.gql(VIEWER, {}, bearer(access))).status).toBe(200);
    offsetMs = 300_000 + 35_000;
    const expired = await server.gql(VIEWER, {}, bearer(access));
    expect(expired.status).toBe(401);
    expect(onlyError(expired).message).toBe('invalid or expired token: token expired');
  });

  it('a PAT sent as a credential is refused: it must be exchanged first', async () => {
    const { refresh } = await newPat();
    const response = await server.gql(VIEWER, {}, bearer(refresh));
    expect(response.status).toBe(401);
    expect(onlyError(response).message).toBe('a personal access token cannot be used directly: exchange it with refreshAccessToken first');
    expect((await server.gql(VIEWER, {}, { authorization: `Token ${refresh}` })).status).toBe(401);
  });

  it('refresh refuses an access token, a revoked, an expired and a malformed PAT', async () => {
    const { refresh, id } = await newPat();
    const { access } = await accessFor(refresh);
    expect(onlyError(await server.gql(REFRESH, { refresh: access })).message).toBe('refresh refused: an access token cannot be refreshed: send the personal access token');
    expect(onlyError(await server.gql(REFRESH, { refresh: 'not.a.jwt' })).message).toBe('refresh refused: malformed token');
    const expiring = dataOf(await server.gql(CREATE, { input: { name: 'short', expiresAt: new Date(Date.now() + 3_600_000).toISOString() } }, user.auth)).createPersonalAccessToken.refresh;
    offsetMs = 2 * 3_600_000;
    expect(onlyError(await server.gql(REFRESH, { refresh: expiring })).message).toBe('refresh refused: token expired');
    offsetMs = 0;
    dataOf(await server.gql(`mutation ($id: ID!) { revokePersonalAccessToken(input: { id: $id }) { personalAccessToken { isActive } } }`, { id }, user.auth));
    expect(onlyError(await server.gql(REFRESH, { refresh })).message).toBe('refresh refused: personal access token revoked');
  });

  it('revoking the PAT stops its access tokens at once, on another instance too', async () => {
    const { refresh, id } = await newPat();
    const { access } = await accessFor(refresh, second);
    expect((await second.gql(VIEWER, {}, bearer(access))).status).toBe(200);
    dataOf(await server.gql(`mutation ($id: ID!) { revokePersonalAccessToken(input: { id: $id }) { personalAccessToken { isActive } } }`, { id }, user.auth));
    const refused = await second.gql(VIEWER, {}, bearer(access));
    expect(refused.status).toBe(401);
    expect(onlyError(refused).message).toBe('invalid or expired token: personal access token revoked');
    expect(dataOf(await second.gql(VERIFY, { token: access })).verifyAccessToken).toEqual({ valid: false, reason: 'personal access token revoked' });
  });

  it('an access token cannot mint a PAT or replace the user key', async () => {
    const { access } = await accessFor((await newPat()).refresh);
    for (const mutation of [CREATE, `mutation { regenerateUserKey { userKey } }`]) {
      const error = onlyError(await server.gql(mutation, { input: { name: 'escalate' } }, bearer(access)));
      expect(error.extensions?.code).toBe('FORBIDDEN');
      expect(error.message).toMatch(/session or the user key/);
    }
    expect((await server.gql(`{ me { id } }`, {}, user.auth)).status).toBe(200);
  });

  it('audits PAT creation and revocation and user-key regeneration, without the secrets', async () => {
    const { refresh, id } = await newPat('audited');
    dataOf(await server.gql(`mutation ($id: ID!) { revokePersonalAccessToken(input: { id: $id }) { personalAccessToken { id } } }`, { id }, user.auth));
    const events = await server.app.dataSource.query(`SELECT "eventType", "actorId", "organizationId" FROM audit_events WHERE "targetId" = $1 ORDER BY "createdAt"`, [id]);
    expect(events).toEqual([
      { eventType: 'personal_access_token.created', actorId: user.id, organizationId: null },
      { eventType: 'personal_access_token.revoked', actorId: user.id, organizationId: null },
    ]);
    const other = await signUp(server, 'rekey');
    const { userKey } = dataOf(await server.gql(`mutation { regenerateUserKey { userKey } }`, {}, other.auth)).regenerateUserKey;
    const [rekeyed] = await server.app.dataSource.query(`SELECT "eventType" FROM audit_events WHERE "targetId" = $1`, [other.id]);
    expect(rekeyed.eventType).toBe('user_key.regenerated');
    const all = JSON.stringify(await server.app.dataSource.query(`SELECT * FROM audit_events`));
    expect(all).not.toContain(refresh);
    expect(all).not.toContain(userKey);
  });

  it('limits a PAT to PAT_MAX_LIFETIME_DAYS', async () => {
    const error = onlyError(await server.gql(CREATE, { input: { name: 'x', expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() } }, user.auth));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresAt' });
  });
});

describe('forged access tokens are refused', () => {
  async function forge(change: { header?: Record<string, unknown>; claims?: Record<string, unknown>; drop?: string[] }) {
    const key = await signingKey();
    const { refresh } = await newPat();
    const { access } = await accessFor(refresh);
    const claims = { ...JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString()), ...change.claims };
    for (const name of change.drop ?? []) delete claims[name];
    return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt', ...change.header } as any).sign(key.privateKey);
  }

  async function expectRefused(token: string, reason: string | RegExp) {
    const response = await server.gql(VIEWER, {}, bearer(token));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(onlyError(response).message).toMatch(reason);
  }

  it.each(['none', 'None', 'NONE', 'nOnE'])('alg %s', async (alg) => {
    const { access } = await accessFor((await newPat()).refresh);
    const [, payload] = access.split('.');
    await expectRefused(`${b64({ alg, typ: 'at+jwt', kid: (await signingKey()).kid })}.${payload}.`, /unexpected signing algorithm|malformed/);
  });

  it('HS256 signed with the public key', async () => {
    const key = await signingKey();
    const { access } = await accessFor((await newPat()).refresh);
    const claims = JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString());
    const secret = new TextEncoder().encode(JSON.stringify(key.publicJwk));
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' }).sign(secret);
    await expectRefused(forged, 'unexpected signing algorithm');
  });

  it('an unknown kid, and a key of its own in jku or jwk', async () => {
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const { access } = await accessFor((await newPat()).refresh);
    const claims = JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString());
    await expectRefused(await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'attacker', typ: 'at+jwt' }).sign(other.privateKey), 'unknown signing key');
    await expectRefused(await forge({ header: { jku: 'http://127.0.0.1:1/jwks.json' } }), 'untrusted key reference in the token header');
    await expectRefused(await forge({ header: { jwk: await exportJWK(other.publicKey) } }), 'untrusted key reference in the token header');
  });

  it('a flipped signature bit, 2 and 4 segments, a payload that is not JSON', async () => {
    const { access } = await accessFor((await newPat()).refresh);
    const [header, payload, signature] = access.split('.') as [string, string, string];
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] ^= 1;
    await expectRefused(`${header}.${payload}.${bytes.toString('base64url')}`, 'invalid signature');
    await expectRefused(`${header}.${payload}`, /invalid token format|malformed/);
    await expectRefused(`${header}.${payload}.${signature}.${signature}`, /invalid token format|malformed/);
    const key = await signingKey();
    const notJson = await new CompactSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
    await expectRefused(notJson, 'malformed token');
  });

  it.each([
    ['a wrong iss', { claims: { iss: 'someone-else' } }, 'invalid iss claim'],
    ['a wrong aud', { claims: { aud: 'another-api' } }, 'invalid aud claim'],
    ['a wrong typ', { header: { typ: 'JWT' } }, 'invalid typ header'],
    ['a missing exp', { drop: ['exp'] }, 'missing exp claim'],
    ['a missing sub', { drop: ['sub'] }, 'invalid sub claim'],
    ['a missing jti', { drop: ['jti'] }, 'invalid jti claim'],
    ['a future nbf', { claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }, 'invalid nbf claim'],
    ['a lifetime of ten years', { claims: { iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 10 * 365 * 86_400 } }, 'invalid exp claim'],
    ['an iat in the future', { claims: { iat: Math.floor(Date.now() / 1000) + 3600, exp: Math.floor(Date.now() / 1000) + 3600 + 300 } }, 'invalid iat claim'],
  ])('%s', async (_label, change, reason) => {
    await expectRefused(await forge(change as any), reason);
  });

  it('a lifetime is bounded by ACCESS_TOKEN_TTL_SECONDS plus the leeway (300 + 30 s)', async () => {
    const iat = Math.floor(Date.now() / 1000);
    const longest = await forge({ claims: { iat, exp: iat + 330 } });
    expect(dataOf(await server.gql(VIEWER, {}, bearer(longest))).viewer.id).toBe(user.id);
    await expectRefused(await forge({ claims: { iat, exp: iat + 331 } }), 'invalid exp claim');
  });
});

describe('JWKS and the Label Studio / SimpleJWT endpoints', () => {
  it('serves the public keys with cache headers, usable by jose.createRemoteJWKSet', async () => {
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const jwks = (await response.json()) as { keys: JWK[] };
    expect(jwks.keys.every((key) => key.d === undefined && key.kid && key.alg === 'EdDSA')).toBe(true);
    const { access } = await accessFor((await newPat()).refresh);
    const { payload, protectedHeader } = await jwtVerify(access, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)), {
      issuer: 'idgraph',
      audience: 'idgraph',
      typ: 'at+jwt',
    });
    expect(payload.sub).toBe(user.id);
    expect(protectedHeader.alg).toBe('EdDSA');
  });

  async function post(path: string, body: string) {
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: response.status, text: await response.text() };
  }

  it('POST /api/token/refresh and /api/token/verify answer the exact JSON those clients expect', async () => {
    const { refresh } = await newPat();
    const refreshed = await post('/api/token/refresh', JSON.stringify({ refresh }));
    expect(refreshed.status).toBe(200);
    const { access } = JSON.parse(refreshed.text);
    expect(Object.keys(JSON.parse(refreshed.text))).toEqual(['access']);
    expect(await post('/api/token/verify', JSON.stringify({ token: access }))).toEqual({ status: 200, text: '{}' });

    const blank = { status: 400, text: '{"refresh":["This field may not be blank."]}' };
    expect(await post('/api/token/refresh', '{}')).toEqual(blank);
    expect(await post('/api/token/refresh', '{"refresh":""}')).toEqual(blank);
    expect(await post('/api/token/verify', '{"token":""}')).toEqual({ status: 400, text: '{"token":["This field may not be blank."]}' });
    const invalid = { status: 401, text: '{"detail":"Given token not valid for any token type","code":"token_not_valid"}' };
    expect(await post('/api/token/refresh', JSON.stringify({ refresh: 'a.b.c' }))).toEqual(invalid);
    expect(await post('/api/token/refresh', JSON.stringify({ refresh: access }))).toEqual(invalid);
    expect(await post('/api/token/verify', JSON.stringify({ token: refresh }))).toEqual(invalid);
    expect(await post('/api/token/verify', JSON.stringify({ token: 'garbage' }))).toEqual(invalid);
  });
});

describe('key rotation', () => {
  it('tokens of the old key verify while it is listed; new tokens use the new key', async () => {
    const jwk = async () => {
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      return exportJWK(privateKey);
    };
    const [oldKey, newKey] = [{ ...(await jwk()), kid: 'k-old' }, { ...(await jwk()), kid: 'k-new' }];
    const before = await startTestServer({ JWT_PRIVATE_KEYS: JSON.stringify({ keys: [oldKey] }) });
    const signedUp = await signUp(before, 'rotating');
    const refresh = dataOf(await before.gql(CREATE, { input: { name: 'r' } }, signedUp.auth)).createPersonalAccessToken.refresh;
    const oldAccess = dataOf(await before.gql(REFRESH, { refresh })).refreshAccessToken.access;
    const after = await startTestServer({ JWT_PRIVATE_KEYS: JSON.stringify({ keys: [newKey, oldKey] }) }, before.databaseUrl);
    try {
      expect(dataOf(await after.gql(VIEWER, {}, bearer(oldAccess))).viewer.id).toBe(signedUp.id);
      const newAccess = dataOf(await after.gql(REFRESH, { refresh })).refreshAccessToken.access;
      expect(JSON.parse(Buffer.from(newAccess.split('.')[0], 'base64url').toString()).kid).toBe('k-new');
      const jwks = (await (await fetch(`${after.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
      expect(jwks.keys.map((key) => key.kid)).toEqual(['k-new', 'k-old']);
      expect(createPublicKey({ key: jwks.keys[0] as any, format: 'jwk' }).asymmetricKeyType).toBe('ed25519');
    } finally {
      await after.close();
      await before.close();
    }
  });
});
