import { addMember, createOrganization, signUp } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ TOKEN_RATE_LIMIT: '1000' });
});
afterAll(() => server.close());

const INTROSPECT = `query ($token: String!) { introspectToken(token: $token) { active kind subject subjectKind organizationId expiresAt rights { apiTokens { read } introspection { read } } } }`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function apiToken(auth: Record<string, string>, input: Record<string, unknown>): Promise<string> {
  return dataOf(await server.gql(`mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`, { input: { name: 't', ...input } }, auth)).createApiToken.token;
}

async function accessToken(auth: Record<string, string>): Promise<string> {
  const refresh = dataOf(await server.gql(`mutation { createPersonalAccessToken(input: { name: "p" }) { refresh } }`, {}, auth)).createPersonalAccessToken.refresh;
  return dataOf(await server.gql(`mutation ($refresh: String!) { refreshAccessToken(input: { refresh: $refresh }) { access } }`, { refresh })).refreshAccessToken.access;
}

describe('introspectToken', () => {
  it('answers for every credential kind, to every credential kind that holds introspection.read', async () => {
    const [owner, member] = await Promise.all([signUp(server, 'owner'), signUp(server, 'member')]);
    const org = await createOrganization(server, owner);
    await addMember(server, owner, org.id, member, 'MEMBER');
    const gateway = dataOf(
      await server.gql(`mutation ($input: CreateServiceUserInput!) { createServiceUser(input: $input) { serviceUser { id } } }`, { input: { organizationId: org.id, name: 'gateway', role: 'ADMIN' } }, owner.auth),
    ).createServiceUser.serviceUser;
    const gatewayToken = await apiToken(owner.auth, { organizationId: org.id, serviceUserId: gateway.id, rights: { introspection: { read: true } } });
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const memberToken = await apiToken(member.auth, { organizationId: org.id, expiresAt });
    const memberAccess = await accessToken(member.auth);

    const callers = { 'API token': bearer(gatewayToken), 'user key': owner.auth, 'access token': bearer(await accessToken(owner.auth)) };
    for (const [label, caller] of Object.entries(callers)) {
      const ofApiToken = dataOf(await server.gql(INTROSPECT, { token: memberToken }, caller)).introspectToken;
      expect([label, ofApiToken]).toEqual([
        label,
        { active: true, kind: 'API_TOKEN', subject: member.id, subjectKind: 'USER', organizationId: org.id, expiresAt: new Date(expiresAt).toISOString(), rights: { apiTokens: { read: true }, introspection: { read: false } } },
      ]);
      const ofUserKey = dataOf(await server.gql(INTROSPECT, { token: member.userKey }, caller)).introspectToken;
      expect(ofUserKey).toMatchObject({ active: true, kind: 'USER_KEY', subject: member.id, organizationId: null, expiresAt: null, rights: null });
      const ofAccess = dataOf(await server.gql(INTROSPECT, { token: memberAccess }, caller)).introspectToken;
      expect(ofAccess).toMatchObject({ active: true, kind: 'ACCESS_TOKEN', subject: member.id });
      expect(new Date(ofAccess.expiresAt).getTime()).toBeGreaterThan(Date.now());
    }
  });

  it('answers active: false and nothing else for invalid, revoked and foreign tokens', async () => {
    const [owner, stranger] = await Promise.all([signUp(server, 'owner'), signUp(server, 'stranger')]);
    const org = await createOrganization(server, owner);
    const elsewhere = await createOrganization(server, stranger);
    const revoked = await apiToken(owner.auth, { organizationId: org.id });
    const revokedId = dataOf(await server.gql(`{ me { apiTokens { edges { node { id } } } } }`, {}, owner.auth)).me.apiTokens.edges[0].node.id;
    dataOf(await server.gql(`mutation ($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { id } } }`, { id: revokedId }, owner.auth));
    const foreign = await apiToken(stranger.auth, { organizationId: elsewhere.id });
    const inactive = { active: false, kind: null, subject: null, subjectKind: null, organizationId: null, expiresAt: null, rights: null };
    for (const token of ['garbage', `idg_${'A'.repeat(36)}`, 'a.b.c', revoked, foreign, stranger.userKey, await accessToken(stranger.auth)]) {
      expect(dataOf(await server.gql(INTROSPECT, { token }, owner.auth)).introspectToken).toEqual(inactive);
    }
  });

  it('needs introspection.read', async () => {
    const [owner, member] = await Promise.all([signUp(server, 'owner'), signUp(server, 'member')]);
    const org = await createOrganization(server, owner);
    await addMember(server, owner, org.id, member, 'MEMBER');
    expect(onlyError(await server.gql(INTROSPECT, { token: owner.userKey }, member.auth)).extensions).toMatchObject({ code: 'FORBIDDEN', right: 'introspection.read' });
    const narrow = await apiToken(owner.auth, { organizationId: org.id, rights: { organization: { read: true } } });
    expect(onlyError(await server.gql(INTROSPECT, { token: owner.userKey }, bearer(narrow))).extensions?.code).toBe('FORBIDDEN');
  });
});

describe('introspectToken limits', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ INTROSPECTION_RATE_LIMIT: '4', INTROSPECTION_FAILURE_RATE_LIMIT: '2' });
  });
  afterAll(() => limited.close());

  async function owners(): Promise<{ owner: Awaited<ReturnType<typeof signUp>>; other: Awaited<ReturnType<typeof signUp>> }> {
    const [owner, other] = await Promise.all([signUp(limited, 'owner'), signUp(limited, 'other')]);
    await createOrganization(limited, owner);
    await createOrganization(limited, other);
    return { owner, other };
  }

  it('limits each principal, not the others', async () => {
    const { owner, other } = await owners();
    for (let call = 0; call < 4; call += 1) expect(dataOf(await limited.gql(INTROSPECT, { token: owner.userKey }, owner.auth)).introspectToken.active).toBe(true);
    const refused = onlyError(await limited.gql(INTROSPECT, { token: owner.userKey }, owner.auth));
    expect(refused.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    expect(dataOf(await limited.gql(INTROSPECT, { token: other.userKey }, other.auth)).introspectToken.active).toBe(true);
  });

  it('counts an answer that found no such credential as a failed check of the principal, not of its address; junk counts nothing', async () => {
    const { owner, other } = await owners();
    // Malformed strings reveal nothing and cost no lookup: a resource server passing them on is not slowed down.
    expect(dataOf(await limited.gql(INTROSPECT, { token: 'idg_junk' }, owner.auth)).introspectToken).toEqual(expect.objectContaining({ active: false }));
    const unknown = () => `${'0'.repeat(39)}${Math.floor(Math.random() * 10)}`;
    expect(dataOf(await limited.gql(INTROSPECT, { token: unknown() }, owner.auth)).introspectToken).toEqual(expect.objectContaining({ active: false }));
    expect(dataOf(await limited.gql(INTROSPECT, { token: unknown() }, owner.auth)).introspectToken).toEqual(expect.objectContaining({ active: false }));
    expect(onlyError(await limited.gql(INTROSPECT, { token: unknown() }, owner.auth)).extensions?.code).toBe('RATE_LIMITED');
    // Past the limit a right guess is refused like a wrong one, before it is looked at.
    expect(onlyError(await limited.gql(INTROSPECT, { token: owner.userKey }, owner.auth)).extensions?.code).toBe('RATE_LIMITED');
    // A resource server asking about dead tokens stops itself, not every caller behind its address, nor its own other requests.
    expect(dataOf(await limited.gql(`{ viewer { id } }`, {}, owner.auth)).viewer.id).toBe(owner.id);
    expect(dataOf(await limited.gql(INTROSPECT, { token: unknown() }, other.auth)).introspectToken.active).toBe(false);
  });
});
