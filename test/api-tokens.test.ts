import { createOrganization, createTeam, signUp, type TestUser } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ TOKEN_RATE_LIMIT: '1000', TOKEN_USAGE_FLUSH_SECONDS: '3600', TRUST_PROXY: 'true' });
});
afterAll(() => server.close());

const TOKEN_FIELDS = `id name description tokenPrefix isActive revokedAt revokedReason expiresAt lastUsedAt lastUsedFrom
  rights { organization { read update } members { read create update delete } apiTokens { read create update delete } auditLog { read } }
  owner { __typename ... on User { id } ... on ServiceUser { id } } createdBy { id } organization { id }`;
const CREATE = `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { ${TOKEN_FIELDS} } } }`;
const UPDATE = `mutation ($input: UpdateApiTokenInput!) { updateApiToken(input: $input) { apiToken { ${TOKEN_FIELDS} } } }`;
const REGENERATE = `mutation ($input: RegenerateApiTokenInput!) { regenerateApiToken(input: $input) { token apiToken { id tokenPrefix } } }`;
const REVOKE = `mutation ($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { apiToken { id isActive revokedAt } } }`;
const LEAKED = `mutation ($input: RevokeLeakedTokenInput!) { revokeLeakedToken(input: $input) { ok } }`;
const VIEWER = `{ viewer { id kind credential organization { id } rights { members { read create } apiTokens { read create } organization { update } } } }`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });


async function createToken(by: TestUser | Record<string, string>, input: Record<string, unknown>) {
  const auth = 'auth' in by ? (by as TestUser).auth : (by as Record<string, string>);
  const data = dataOf(await server.gql(CREATE, { input: { name: 'ci', ...input } }, auth));
  return { secret: data.createApiToken.token as string, token: data.createApiToken.apiToken };
}

describe('the API token lifecycle', () => {
  it('create → use → update → regenerate → revoke; the secret is shown once and stored nowhere in clear', async () => {
    const { org, member } = await createTeam(server);
    const { secret, token } = await createToken(member, { organizationId: org.id, name: 'deploy', description: 'CI deploys' });
    expect(secret).toMatch(/^idg_[0-9A-Za-z]{36}$/);
    expect(token).toMatchObject({ name: 'deploy', description: 'CI deploys', tokenPrefix: secret.slice(0, 12), isActive: true, owner: { __typename: 'User', id: member.id }, createdBy: { id: member.id } });
    expect(token.rights.apiTokens).toEqual({ read: true, create: true, update: true, delete: true });
    expect(token.rights.members.create).toBe(false);

    const viewer = dataOf(await server.gql(VIEWER, {}, bearer(secret))).viewer;
    expect(viewer).toMatchObject({ id: member.id, kind: 'USER', credential: 'API_TOKEN', organization: { id: org.id } });
    expect(viewer.rights.members).toEqual({ read: true, create: false });

    const updated = dataOf(await server.gql(UPDATE, { input: { id: token.id, name: 'deploy-2', rights: { organization: { read: true } } } }, member.auth)).updateApiToken.apiToken;
    expect(updated.name).toBe('deploy-2');
    expect(updated.rights.apiTokens.read).toBe(false);
    expect(updated.tokenPrefix).toBe(token.tokenPrefix);

    const regenerated = dataOf(await server.gql(REGENERATE, { input: { id: token.id } }, member.auth)).regenerateApiToken;
    expect(regenerated.apiToken.id).toBe(token.id);
    expect(regenerated.token).not.toBe(secret);
    expect(dataOf(await server.gql(VIEWER, {}, bearer(regenerated.token))).viewer.id).toBe(member.id);

    const revoked = dataOf(await server.gql(REVOKE, { input: { id: token.id } }, member.auth)).revokeApiToken.apiToken;
    expect(revoked.isActive).toBe(false);
    expect(revoked.revokedAt).not.toBeNull();
    const after = await server.gql(VIEWER, {}, bearer(regenerated.token));
    expect(after.status).toBe(401);
    expect(onlyError(after).message).toBe('token revoked');
    const old = await server.gql(VIEWER, {}, bearer(secret));
    expect(old.status).toBe(401);
    expect(onlyError(old).message).toBe('invalid or expired token: this secret was replaced by regeneration');

    const everything = JSON.stringify(
      await Promise.all(['api_tokens', 'api_token_retired_secrets', 'audit_events'].map((table) => server.app.dataSource.query(`SELECT * FROM ${table}`))),
    );
    const list = JSON.stringify((await server.gql(`query ($id: ID!) { apiToken(id: $id) { ${TOKEN_FIELDS} } }`, { id: token.id }, member.auth)).body);
    for (const value of [secret, regenerated.token]) {
      expect(everything).not.toContain(value);
      expect(list).not.toContain(value);
      expect(server.logs.join('\n')).not.toContain(value);
    }
  });

  it('refuses forged tokens with 401 before any query', async () => {
    const { org, owner } = await createTeam(server);
    const { secret } = await createToken(owner, { organizationId: org.id });
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'a' ? 'b' : 'a') + s.slice(at + 1);
    const forged = [flip(secret, 20), secret.replace('idg_', 'ghp_'), secret.slice(0, -1), `${secret}x`, flip(secret, secret.length - 1)];
    for (const token of forged) {
      const before = server.app.queries.count;
      const response = await server.gql(`{ viewer { id } }`, {}, bearer(token));
      expect(server.app.queries.count).toBe(before);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(onlyError(response).message).toBe('invalid token format');
    }
  });

  it('verifies a token in one SQL statement', async () => {
    const { org, owner } = await createTeam(server);
    const { secret } = await createToken(owner, { organizationId: org.id });
    const before = server.app.queries.count;
    dataOf(await server.gql(`{ viewer { id } }`, {}, bearer(secret)));
    expect(server.app.queries.count - before).toBe(1);
  });

  it('keeps lastUsedAt and the last distinct addresses, written in batches', async () => {
    const { org, owner } = await createTeam(server);
    const { secret, token } = await createToken(owner, { organizationId: org.id });
    for (const address of ['192.0.2.1', '192.0.2.2', '192.0.2.1', '192.0.2.3', '192.0.2.4', '192.0.2.5', '192.0.2.6']) {
      dataOf(await server.gql(`{ viewer { id } }`, {}, { ...bearer(secret), 'x-forwarded-for': address }));
    }
    const query = `query ($id: ID!) { apiToken(id: $id) { lastUsedAt lastUsedFrom } }`;
    expect(dataOf(await server.gql(query, { id: token.id }, owner.auth)).apiToken.lastUsedAt).toBeNull();
    await server.app.services.tokenUsage.flush();
    const used = dataOf(await server.gql(query, { id: token.id }, owner.auth)).apiToken;
    expect(used.lastUsedAt).not.toBeNull();
    expect(used.lastUsedFrom).toEqual(['192.0.2.6', '192.0.2.5', '192.0.2.4', '192.0.2.3', '192.0.2.1']);
  });

  it('a row PostgreSQL refuses does not keep the rest of the batch from being written', async () => {
    const { org, owner } = await createTeam(server);
    const first = await createToken(owner, { organizationId: org.id, name: 'first' });
    const second = await createToken(owner, { organizationId: org.id, name: 'second' });
    const usage = server.app.services.tokenUsage;
    usage.record(first.token.id, '192.0.2.31');
    usage.record('not-a-token-id', '192.0.2.32');
    usage.record(second.token.id, 'x'.repeat(60));
    usage.record(second.token.id, '192.0.2.33');
    await usage.flush();
    const rows = await server.app.dataSource.query(`SELECT name, "lastUsedAt", "lastUsedAddresses" FROM api_tokens WHERE id = ANY($1) ORDER BY name`, [[first.token.id, second.token.id]]);
    expect(rows.map((row: any) => [row.name, row.lastUsedAddresses, row.lastUsedAt !== null])).toEqual([
      ['first', ['192.0.2.31'], true],
      ['second', ['192.0.2.33'], true],
    ]);
    expect(server.logs.some((line) => line.includes('not-a-token-id') && line.includes('token usage not recorded'))).toBe(true);
  });

  it('a batch the database cannot take is kept and written at the next flush', async () => {
    const { org, owner } = await createTeam(server);
    const { token } = await createToken(owner, { organizationId: org.id });
    const usage = server.app.services.tokenUsage;
    usage.record(token.id, '192.0.2.41');
    await server.app.dataSource.query(`ALTER TABLE api_tokens RENAME TO api_tokens_away`);
    try {
      await usage.flush();
    } finally {
      await server.app.dataSource.query(`ALTER TABLE api_tokens_away RENAME TO api_tokens`);
    }
    usage.record(token.id, '192.0.2.42');
    await usage.flush();
    const [row] = await server.app.dataSource.query(`SELECT "lastUsedAddresses" FROM api_tokens WHERE id = $1`, [token.id]);
    expect(row.lastUsedAddresses).toEqual(['192.0.2.42', '192.0.2.41']);
  });

  it('refuses a bad name, description, expiry or grace period with BAD_USER_INPUT naming the field', async () => {
    const { org, owner } = await createTeam(server);
    const cases: [Record<string, unknown>, string][] = [
      [{ organizationId: org.id, name: 'x'.repeat(101) }, 'name'],
      [{ organizationId: org.id, name: 'ok', description: 'd'.repeat(501) }, 'description'],
      [{ organizationId: org.id, name: 'ok', expiresAt: new Date(Date.now() - 1000).toISOString() }, 'expiresAt'],
    ];
    for (const [input, field] of cases) {
      expect(onlyError(await server.gql(CREATE, { input }, owner.auth)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const { token } = await createToken(owner, { organizationId: org.id });
    for (const gracePeriodSeconds of [-1, 604_801]) {
      expect(onlyError(await server.gql(REGENERATE, { input: { id: token.id, gracePeriodSeconds } }, owner.auth)).extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'gracePeriodSeconds',
      });
    }
  });
});

describe('expiry, grace periods and reuse detection', () => {
  it('a token works until expiresAt and answers "token expired" from then on', async () => {
    const { org, owner } = await createTeam(server);
    const { secret, token } = await createToken(owner, { organizationId: org.id, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    await server.app.dataSource.query(`UPDATE api_tokens SET "expiresAt" = now() + interval '2 seconds' WHERE id = $1`, [token.id]);
    expect((await server.gql(`{ viewer { id } }`, {}, bearer(secret))).status).toBe(200);
    await server.app.dataSource.query(`UPDATE api_tokens SET "expiresAt" = now() WHERE id = $1`, [token.id]);
    const expired = await server.gql(`{ viewer { id } }`, {}, bearer(secret));
    expect(expired.status).toBe(401);
    expect(onlyError(expired).message).toBe('token expired');
  });

  it('the old secret works during the grace period; used after it, it revokes its successor', async () => {
    const { org, owner } = await createTeam(server);
    const { secret: old, token } = await createToken(owner, { organizationId: org.id });
    const { token: fresh } = dataOf(await server.gql(REGENERATE, { input: { id: token.id, gracePeriodSeconds: 600 } }, owner.auth)).regenerateApiToken;
    expect((await server.gql(`{ viewer { id } }`, {}, bearer(old))).status).toBe(200);
    expect((await server.gql(`{ viewer { id } }`, {}, bearer(fresh))).status).toBe(200);

    await server.app.dataSource.query(`UPDATE api_token_retired_secrets SET "graceEndsAt" = now() WHERE "apiTokenId" = $1`, [token.id]);
    const reused = await server.gql(`{ viewer { id } }`, {}, bearer(old));
    expect(reused.status).toBe(401);
    expect(onlyError(reused).message).toBe('invalid or expired token: this secret was replaced by regeneration');
    const successor = await server.gql(`{ viewer { id } }`, {}, bearer(fresh));
    expect(onlyError(successor).message).toBe('token revoked');
    const [event] = await server.app.dataSource.query(`SELECT "actorKind", changes FROM audit_events WHERE "targetId" = $1 AND "eventType" = 'api_token.reuse_detected'`, [token.id]);
    expect(event).toMatchObject({ actorKind: 'ANONYMOUS', changes: { reason: 'reuse_detected' } });
  });

  it('20 concurrent regenerations of one token: exactly one wins, the others are CONFLICT', async () => {
    const { org, owner } = await createTeam(server);
    const { token } = await createToken(owner, { organizationId: org.id });
    const results = await Promise.all(Array.from({ length: 20 }, () => server.gql(REGENERATE, { input: { id: token.id } }, owner.auth)));
    const winners = results.filter((response) => !response.body.errors);
    expect(winners).toHaveLength(1);
    expect(results.filter((response) => response.body.errors?.[0]?.extensions?.code === 'CONFLICT')).toHaveLength(19);
    expect((await server.gql(`{ viewer { id } }`, {}, bearer(winners[0]!.body.data.regenerateApiToken.token))).status).toBe(200);
    const [{ n }] = await server.app.dataSource.query(`SELECT count(*)::int AS n FROM api_token_retired_secrets WHERE "apiTokenId" = $1`, [token.id]);
    expect(n).toBe(1);
  });
});

describe('rights', () => {
  it('refuses rights above the creator’s, on create and update, naming the right', async () => {
    const { org, member } = await createTeam(server);
    const error = onlyError(await server.gql(CREATE, { input: { organizationId: org.id, name: 'x', rights: { members: { create: true } } } }, member.auth));
    expect(error.extensions).toMatchObject({ code: 'FORBIDDEN', right: 'members.create' });
    const { token } = await createToken(member, { organizationId: org.id });
    const update = onlyError(await server.gql(UPDATE, { input: { id: token.id, rights: { auditLog: { read: true } } } }, member.auth));
    expect(update.extensions).toMatchObject({ code: 'FORBIDDEN', right: 'auditLog.read' });
  });

  it('no token creates a token with more rights than itself', async () => {
    const { org, owner } = await createTeam(server);
    const { secret } = await createToken(owner, { organizationId: org.id, rights: { organization: { read: true }, apiTokens: { create: true, read: true } } });
    const error = onlyError(await server.gql(CREATE, { input: { organizationId: org.id, name: 'wider', rights: { members: { read: true } } } }, bearer(secret)));
    expect(error.extensions).toMatchObject({ code: 'FORBIDDEN', right: 'members.read' });
    const narrow = dataOf(await server.gql(CREATE, { input: { organizationId: org.id, name: 'same' } }, bearer(secret))).createApiToken.apiToken;
    expect(narrow.rights.apiTokens).toEqual({ read: true, create: true, update: false, delete: false });
  });

  it('a role change narrows the token at once; removal from the organization kills it', async () => {
    const { org, owner, admin } = await createTeam(server);
    const { secret } = await createToken(admin, { organizationId: org.id });
    expect(dataOf(await server.gql(VIEWER, {}, bearer(secret))).viewer.rights.members.create).toBe(true);
    dataOf(await server.gql(`mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { membership { role } } }`, { input: { organizationId: org.id, userId: admin.id, role: 'VIEWER' } }, owner.auth));
    const narrowed = dataOf(await server.gql(VIEWER, {}, bearer(secret))).viewer.rights;
    expect(narrowed.members).toEqual({ read: true, create: false });
    const newcomer = await signUp(server, 'late');
    const refused = onlyError(await server.gql(`mutation ($input: AddMemberInput!) { addMember(input: $input) { membership { id } } }`, { input: { organizationId: org.id, email: newcomer.email, role: 'VIEWER' } }, bearer(secret)));
    expect(refused.extensions).toMatchObject({ code: 'FORBIDDEN', right: 'members.create' });
    dataOf(await server.gql(`mutation ($input: RemoveMemberInput!) { removeMember(input: $input) { removedUserId } }`, { input: { organizationId: org.id, userId: admin.id } }, owner.auth));
    const gone = await server.gql(VIEWER, {}, bearer(secret));
    expect(gone.status).toBe(401);
    expect(onlyError(gone).message).toBe('token revoked');
    const [row] = await server.app.dataSource.query(`SELECT "revokedReason" FROM api_tokens WHERE "organizationId" = $1 AND "ownerUserId" = $2`, [org.id, admin.id]);
    expect(row.revokedReason).toBe('member_removed');
  });
});

describe('service users’ tokens', () => {
  it('only OWNER/ADMIN create them; they act as the service user; deleting it revokes them', async () => {
    const { org, admin, member } = await createTeam(server);
    const bot = dataOf(await server.gql(`mutation ($input: CreateServiceUserInput!) { createServiceUser(input: $input) { serviceUser { id } } }`, { input: { organizationId: org.id, name: 'bot', role: 'MEMBER' } }, admin.auth)).createServiceUser.serviceUser;
    expect(onlyError(await server.gql(CREATE, { input: { organizationId: org.id, name: 'x', serviceUserId: bot.id } }, member.auth)).extensions?.code).toBe('FORBIDDEN');
    const { secret, token } = await createToken(admin, { organizationId: org.id, serviceUserId: bot.id });
    expect(token.owner).toEqual({ __typename: 'ServiceUser', id: bot.id });
    expect(token.rights.members.create).toBe(false);
    const viewer = dataOf(await server.gql(`{ me { id } viewer { id kind credential serviceUser { id } } }`, {}, bearer(secret)));
    expect(viewer).toEqual({ me: null, viewer: { id: bot.id, kind: 'SERVICE_USER', credential: 'API_TOKEN', serviceUser: { id: bot.id } } });
    dataOf(await server.gql(`mutation ($input: DeleteServiceUserInput!) { deleteServiceUser(input: $input) { deletedServiceUserId } }`, { input: { id: bot.id } }, admin.auth));
    expect((await server.gql(`{ viewer { id } }`, {}, bearer(secret))).status).toBe(401);
  });
});

describe('organization isolation and who manages which tokens', () => {
  type Actor = 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER' | 'OUTSIDER' | 'OTHER_ORG_TOKEN';
  type Operation = 'list all' | 'read another’s' | 'update another’s' | 'regenerate another’s' | 'revoke another’s' | 'create own' | 'set policy';
  /** What each actor gets for each operation on the OWNER's token of the organization. */
  const EXPECTED: Record<Actor, Record<Operation, string>> = {
    OWNER: { 'list all': 'OK', 'read another’s': 'OK', 'update another’s': 'OK', 'regenerate another’s': 'OK', 'revoke another’s': 'OK', 'create own': 'OK', 'set policy': 'OK' },
    ADMIN: { 'list all': 'OK', 'read another’s': 'OK', 'update another’s': 'OK', 'regenerate another’s': 'FORBIDDEN', 'revoke another’s': 'OK', 'create own': 'OK', 'set policy': 'OK' },
    MEMBER: { 'list all': 'OWN', 'read another’s': 'NOT_FOUND', 'update another’s': 'NOT_FOUND', 'regenerate another’s': 'NOT_FOUND', 'revoke another’s': 'NOT_FOUND', 'create own': 'OK', 'set policy': 'FORBIDDEN' },
    VIEWER: { 'list all': 'OWN', 'read another’s': 'NOT_FOUND', 'update another’s': 'NOT_FOUND', 'regenerate another’s': 'NOT_FOUND', 'revoke another’s': 'NOT_FOUND', 'create own': 'FORBIDDEN', 'set policy': 'FORBIDDEN' },
    OUTSIDER: { 'list all': 'NOT_FOUND', 'read another’s': 'NOT_FOUND', 'update another’s': 'NOT_FOUND', 'regenerate another’s': 'NOT_FOUND', 'revoke another’s': 'NOT_FOUND', 'create own': 'NOT_FOUND', 'set policy': 'NOT_FOUND' },
    OTHER_ORG_TOKEN: { 'list all': 'NOT_FOUND', 'read another’s': 'NOT_FOUND', 'update another’s': 'NOT_FOUND', 'regenerate another’s': 'NOT_FOUND', 'revoke another’s': 'NOT_FOUND', 'create own': 'NOT_FOUND', 'set policy': 'NOT_FOUND' },
  };

  const cases = (Object.keys(EXPECTED) as Actor[]).flatMap((actor) => (Object.keys(EXPECTED[actor]) as Operation[]).map((operation) => [actor, operation, EXPECTED[actor][operation]] as const));

  it.each(cases)('%s: %s → %s', async (actor, operation, expected) => {
    const { org, owner, admin, member, viewer } = await createTeam(server);
    const { token: target } = await createToken(owner, { organizationId: org.id, name: 'target' });
    let auth: Record<string, string>;
    if (actor === 'OUTSIDER') auth = (await signUp(server, 'outsider')).auth;
    else if (actor === 'OTHER_ORG_TOKEN') {
      // The OWNER's own token, but of another organization: it reaches nothing here.
      const other = await createOrganization(server, owner, 'Elsewhere');
      auth = bearer((await createToken(owner, { organizationId: other.id })).secret);
    } else auth = { OWNER: owner, ADMIN: admin, MEMBER: member, VIEWER: viewer }[actor].auth;

    const requests: Record<Operation, () => Promise<any>> = {
      'list all': () => server.gql(`query ($id: ID!) { organization(id: $id) { apiTokens { totalCount edges { node { id } } } } }`, { id: org.id }, auth),
      'read another’s': () => server.gql(`query ($id: ID!) { apiToken(id: $id) { id } }`, { id: target.id }, auth),
      'update another’s': () => server.gql(UPDATE, { input: { id: target.id, name: 'renamed' } }, auth),
      'regenerate another’s': () => server.gql(REGENERATE, { input: { id: target.id } }, auth),
      'revoke another’s': () => server.gql(REVOKE, { input: { id: target.id } }, auth),
      'create own': () => server.gql(CREATE, { input: { organizationId: org.id, name: 'mine' } }, auth),
      'set policy': () => server.gql(`mutation ($input: SetTokenExpirationPolicyInput!) { setTokenExpirationPolicy(input: $input) { policy { requireExpiration } } }`, { input: { organizationId: org.id, requireExpiration: false } }, auth),
    };
    const before = await server.app.dataSource.query(`SELECT name, "tokenPrefix", "revokedAt" FROM api_tokens WHERE id = $1`, [target.id]);
    const response = await requests[operation]();
    if (expected === 'OK') {
      expect(response.body.errors).toBeUndefined();
    } else if (expected === 'OWN') {
      const listed = response.body.data.organization.apiTokens.edges.map((edge: any) => edge.node.id);
      expect(listed).not.toContain(target.id);
    } else {
      expect(onlyError(response).extensions?.code).toBe(expected);
      expect(await server.app.dataSource.query(`SELECT name, "tokenPrefix", "revokedAt" FROM api_tokens WHERE id = $1`, [target.id])).toEqual(before);
    }
  });
});

describe('no way up through another principal’s token', () => {
  it('an ADMIN cannot regenerate (and so hold) another person’s token, only revoke it', async () => {
    const { org, owner, admin, member } = await createTeam(server);
    for (const victim of [owner, member]) {
      const { token } = await createToken(victim, { organizationId: org.id });
      const error = onlyError(await server.gql(REGENERATE, { input: { id: token.id } }, admin.auth));
      expect(error).toMatchObject({ message: "only a token's owner can regenerate it: revoke it instead", extensions: { code: 'FORBIDDEN' } });
      expect(dataOf(await server.gql(REVOKE, { input: { id: token.id } }, admin.auth)).revokeApiToken.apiToken.isActive).toBe(false);
    }
  });

  it('an ADMIN cannot hold a token of a service user whose role is above their own', async () => {
    const { org, owner, admin } = await createTeam(server);
    const createBot = (role: string) =>
      server.gql(`mutation ($input: CreateServiceUserInput!) { createServiceUser(input: $input) { serviceUser { id } } }`, { input: { organizationId: org.id, name: `bot-${role}`, role } }, owner.auth);
    const rootBot = dataOf(await createBot('OWNER')).createServiceUser.serviceUser;
    const error = onlyError(await server.gql(CREATE, { input: { organizationId: org.id, name: 'x', serviceUserId: rootBot.id } }, admin.auth));
    expect(error).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(error.message).toBe('role: OWNER holds organization.delete, which your effective rights lack');
    const { token } = await createToken(owner, { organizationId: org.id, serviceUserId: rootBot.id });
    expect(onlyError(await server.gql(REGENERATE, { input: { id: token.id } }, admin.auth)).extensions?.code).toBe('FORBIDDEN');
    const adminBot = dataOf(await createBot('ADMIN')).createServiceUser.serviceUser;
    const { token: botToken } = await createToken(admin, { organizationId: org.id, serviceUserId: adminBot.id });
    expect(dataOf(await server.gql(REGENERATE, { input: { id: botToken.id } }, admin.auth)).regenerateApiToken.apiToken.id).toBe(botToken.id);
  });

  it('an organization id in upper case names the same organization', async () => {
    const { org, member } = await createTeam(server);
    const { token } = await createToken(member, { organizationId: org.id.toUpperCase() });
    expect(token.rights.apiTokens).toEqual({ read: true, create: true, update: true, delete: true });
  });
});

describe('revocation on every instance', () => {
  it('a token revoked through one instance is refused at once by another', async () => {
    const second = await startTestServer({}, server.databaseUrl);
    try {
      const { org, owner } = await createTeam(server);
      const { secret, token } = await createToken(owner, { organizationId: org.id });
      expect((await second.gql(`{ viewer { id } }`, {}, bearer(secret))).status).toBe(200);
      dataOf(await server.gql(REVOKE, { input: { id: token.id } }, owner.auth));
      const refused = await second.gql(`{ viewer { id } }`, {}, bearer(secret));
      expect(refused.status).toBe(401);
      expect(onlyError(refused).message).toBe('token revoked');
    } finally {
      await second.close();
    }
  });
});

describe('revokeLeakedToken', () => {
  it('kills a live token, answers ok whatever the input, and audits the report without the secret', async () => {
    const { org, owner } = await createTeam(server);
    const { secret, token } = await createToken(owner, { organizationId: org.id });
    for (const input of ['garbage', 'idg_' + 'x'.repeat(36), secret]) {
      expect(dataOf(await server.gql(LEAKED, { input: { token: input } }, { 'x-forwarded-for': '198.51.100.77' })).revokeLeakedToken.ok).toBe(true);
    }
    expect(onlyError(await server.gql(`{ viewer { id } }`, {}, bearer(secret))).message).toBe('token revoked');
    const events = await server.app.dataSource.query(`SELECT * FROM audit_events WHERE "targetId" = $1 AND "eventType" = 'api_token.leak_reported'`, [token.id]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ clientAddress: '198.51.100.77', actorKind: 'ANONYMOUS', organizationId: org.id });
    expect(JSON.stringify(events)).not.toContain(secret);
  });
});

describe('me.apiTokens', () => {
  it('lists the user’s own tokens across organizations', async () => {
    const { org, member } = await createTeam(server);
    const other = await createOrganization(server, member, 'Mine');
    await createToken(member, { organizationId: org.id, name: 'a' });
    await createToken(member, { organizationId: other.id, name: 'b' });
    const mine = dataOf(await server.gql(`{ me { apiTokens { totalCount edges { node { name organization { id } } } } } }`, {}, member.auth)).me.apiTokens;
    expect(mine.totalCount).toBe(2);
    expect(mine.edges.map((edge: any) => edge.node.name)).toEqual(['a', 'b']);
  });
});

describe('expiration policy', () => {
  const SET = `mutation ($input: SetTokenExpirationPolicyInput!) {
    setTokenExpirationPolicy(input: $input) { policy { requireExpiration maxLifetimeDays notifyDaysBeforeExpiry } nonCompliantTokens { apiToken { id } rule reason } }
  }`;

  it('reports the tokens a stricter policy breaks, then refuses them at use and refuses new ones that break it', async () => {
    const { org, owner } = await createTeam(server);
    const { secret: forever, token: foreverToken } = await createToken(owner, { organizationId: org.id, name: 'forever' });
    const { secret: short } = await createToken(owner, { organizationId: org.id, name: 'short', expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    const set = dataOf(await server.gql(SET, { input: { organizationId: org.id, requireExpiration: true, maxLifetimeDays: 30, notifyDaysBeforeExpiry: 7 } }, owner.auth)).setTokenExpirationPolicy;
    expect(set.policy).toEqual({ requireExpiration: true, maxLifetimeDays: 30, notifyDaysBeforeExpiry: 7 });
    expect(set.nonCompliantTokens).toEqual([{ apiToken: { id: foreverToken.id }, rule: 'requireExpiration', reason: 'the organization requires tokens to expire (requireExpiration)' }]);

    expect(onlyError(await server.gql(`{ viewer { id } }`, {}, bearer(forever))).message).toMatch(/organization's policy.*requireExpiration/);
    expect((await server.gql(`{ viewer { id } }`, {}, bearer(short))).status).toBe(200);

    const noExpiry = onlyError(await server.gql(CREATE, { input: { organizationId: org.id, name: 'x' } }, owner.auth));
    expect(noExpiry.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresAt' });
    expect(noExpiry.message).toContain('requireExpiration');
    const tooLong = onlyError(await server.gql(CREATE, { input: { organizationId: org.id, name: 'x', expiresAt: new Date(Date.now() + 31 * 86_400_000).toISOString() } }, owner.auth));
    expect(tooLong.message).toContain('maxLifetimeDays');
    const [{ events }] = await server.app.dataSource.query(`SELECT count(*)::int AS events FROM audit_events WHERE "organizationId" = $1 AND "eventType" = 'token_policy.changed'`, [org.id]);
    expect(events).toBe(1);
  });
});

describe('audit of the token lifecycle', () => {
  it('writes created, updated, regenerated and revoked with actor, address and no secret', async () => {
    const { org, owner } = await createTeam(server);
    const { secret, token } = await createToken(owner, { organizationId: org.id });
    dataOf(await server.gql(UPDATE, { input: { id: token.id, name: 'renamed' } }, owner.auth));
    const { token: fresh } = dataOf(await server.gql(REGENERATE, { input: { id: token.id } }, owner.auth)).regenerateApiToken;
    dataOf(await server.gql(REVOKE, { input: { id: token.id } }, owner.auth));
    const events = await server.app.dataSource.query(`SELECT * FROM audit_events WHERE "targetId" = $1 ORDER BY "createdAt", id`, [token.id]);
    expect(events.map((event: any) => event.eventType)).toEqual(['api_token.created', 'api_token.updated', 'api_token.regenerated', 'api_token.revoked']);
    expect(events.every((event: any) => event.actorId === owner.id && event.clientAddress)).toBe(true);
    expect(JSON.stringify(events)).not.toContain(secret);
    expect(JSON.stringify(events)).not.toContain(fresh);
  });
});
