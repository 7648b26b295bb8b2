import { randomBytes } from 'node:crypto';
import { accessTokenOf, ALL_RIGHTS, bearer, beyond, rightsInput, rightsList, RIGHTS_FIELDS, ROLE_RIGHTS, type RightName } from './support/ceiling';
import { addMember, createOrganization, createTeam, refusedWithoutChange, signUp, type TestUser } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

/** Regression tests for the seven confirmed findings of issue 9, each written from its reproduction. */

let server: TestServer;
beforeAll(async () => {
  // The expiry notifier runs only when a test asks it to; addMember gets back the limit of a default setup
  // (30 an hour per principal), which the test harness otherwise raises.
  server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0', ADD_MEMBER_RATE_LIMIT: '30' });
});
afterAll(() => server.close());

const CREATE_TOKEN = `mutation ($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token apiToken { id expiresAt rights { ${RIGHTS_FIELDS} } } }
}`;
const UPDATE_TOKEN = `mutation ($input: UpdateApiTokenInput!) {
  updateApiToken(input: $input) { apiToken { id expiresAt rights { ${RIGHTS_FIELDS} } } }
}`;
const REGENERATE = `mutation ($input: RegenerateApiTokenInput!) { regenerateApiToken(input: $input) { token apiToken { id tokenPrefix } } }`;
const ADD_MEMBER = `mutation ($input: AddMemberInput!) { addMember(input: $input) { membership { id role status } } }`;
const UPDATE_ROLE = `mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { membership { role } } }`;
const REMOVE_MEMBER = `mutation ($input: RemoveMemberInput!) { removeMember(input: $input) { removedUserId } }`;
const CREATE_SERVICE_USER = `mutation ($input: CreateServiceUserInput!) { createServiceUser(input: $input) { serviceUser { id role } } }`;
const UPDATE_SERVICE_USER = `mutation ($input: UpdateServiceUserInput!) { updateServiceUser(input: $input) { serviceUser { id role } } }`;
const DELETE_SERVICE_USER = `mutation ($input: DeleteServiceUserInput!) { deleteServiceUser(input: $input) { deletedServiceUserId } }`;
const DELETE_ORG = `mutation ($input: DeleteOrganizationInput!) { deleteOrganization(input: $input) { deletedOrganizationId } }`;
const SET_POLICY = `mutation ($input: SetTokenExpirationPolicyInput!) {
  setTokenExpirationPolicy(input: $input) { policy { requireExpiration } nonCompliantTokens { apiToken { id } } nonCompliantTokenCount }
}`;
const ORGANIZATION = `query ($id: ID!) { organization(id: $id) { id name viewerRole } }`;
const ORG_TOKENS = `query ($id: ID!) {
  organization(id: $id) { apiTokens(state: ALL, first: 100) { edges { node { id isActive revokedAt revokedReason } } } }
}`;
const INTROSPECT = `query ($token: String!) { introspectToken(token: $token) { active subject } }`;
const VIEWER_ID = `{ viewer { id } }`;
const TOKEN_OWNER = `query ($id: ID!) { apiToken(id: $id) { id owner { __typename ... on User { id email } } } }`;
const TOKEN_CREATED_BY = `query ($id: ID!) { apiToken(id: $id) { id createdBy { id email } } }`;
const TOKEN_ORGANIZATION = `query ($id: ID!) { apiToken(id: $id) { id organization { id name } } }`;
const TOKEN_BOT_OWNER = `query ($id: ID!) { apiToken(id: $id) { id owner { ... on ServiceUser { id name } } } }`;
const TOKEN_BOT_OWNER_ORGANIZATION = `query ($id: ID!) { apiToken(id: $id) { id owner { ... on ServiceUser { id organization { name } } } } }`;
const ME_TOKENS = `{ me { id apiTokens { totalCount edges { node { name } } } } }`;
const ME_MEMBERSHIPS = `{ me { id memberships { role organization { id name } } } }`;
const VIEWER_ORGANIZATION = `{ viewer { id organization { id name } } }`;

const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

async function createToken(auth: Record<string, string>, input: Record<string, unknown>) {
  const data = dataOf(await server.gql(CREATE_TOKEN, { input: { name: `t-${randomBytes(3).toString('hex')}`, ...input } }, auth));
  return {
    secret: data.createApiToken.token as string,
    id: data.createApiToken.apiToken.id as string,
    expiresAt: data.createApiToken.apiToken.expiresAt as string | null,
  };
}

async function tokenRow(id: string) {
  const [row] = await server.app.dataSource.query(
    `SELECT "tokenPrefix", "secretDigest", rights, "expiresAt", "revokedAt", "revokedReason" FROM api_tokens WHERE id = $1`,
    [id],
  );
  return row;
}

async function roleOf(organizationId: string, userId: string): Promise<string | null> {
  const [row] = await server.app.dataSource.query(`SELECT role FROM memberships WHERE "organizationId" = $1 AND "userId" = $2`, [
    organizationId,
    userId,
  ]);
  return row?.role ?? null;
}

async function organizationName(id: string): Promise<string> {
  const [row] = await server.app.dataSource.query(`SELECT name FROM organizations WHERE id = $1`, [id]);
  return row.name;
}

/** The rights a credential lacks in the organization: what a refusal naming a right may name. */
function lacking(held: readonly RightName[]): RightName[] {
  return beyond(ALL_RIGHTS, held);
}

async function createServiceUser(by: TestUser, organizationId: string, role: string): Promise<string> {
  const input = { organizationId, name: `bot-${randomBytes(3).toString('hex')}`, role };
  return dataOf(await server.gql(CREATE_SERVICE_USER, { input }, by.auth)).createServiceUser.serviceUser.id;
}

describe('finding 1: regenerate is a new credential, within the caller’s effective rights', () => {
  it('an ADMIN’s apiTokens.read+update token cannot regenerate the ADMIN’s wide token, with or without a grace period', async () => {
    const { org, admin } = await createTeam(server);
    const wide = await createToken(admin.auth, { organizationId: org.id, name: 'wide' });
    const narrowRights: RightName[] = ['apiTokens.read', 'apiTokens.update'];
    const narrow = await createToken(admin.auth, { organizationId: org.id, name: 'narrow', rights: rightsInput(narrowRights) });

    // As in the report: the narrow token itself may neither add members nor create tokens.
    const stranger = await signUp(server, 'stranger');
    const add = () => server.gql(ADD_MEMBER, { input: { organizationId: org.id, email: stranger.email, role: 'ADMIN' } }, bearer(narrow.secret));
    expect((await refusedWithoutChange(server, add, 'FORBIDDEN')).extensions?.right).toBe('members.create');
    await refusedWithoutChange(
      server,
      () => server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'x' } }, bearer(narrow.secret)),
      'FORBIDDEN',
    );

    const before = await tokenRow(wide.id);
    for (const gracePeriodSeconds of [604_800, 0]) {
      const regenerate = () => server.gql(REGENERATE, { input: { id: wide.id, gracePeriodSeconds } }, bearer(narrow.secret));
      const error = await refusedWithoutChange(server, regenerate, 'FORBIDDEN');
      expect(lacking(narrowRights)).toContain(error.extensions?.right);
    }
    expect(await tokenRow(wide.id)).toEqual(before);
    expect(dataOf(await server.gql(VIEWER_ID, {}, bearer(wide.secret))).viewer.id).toBe(admin.id);
    expect(await roleOf(org.id, stranger.id)).toBeNull();
  });

  it('nor the token of an ADMIN service user', async () => {
    const { org, owner, admin } = await createTeam(server);
    const botId = await createServiceUser(owner, org.id, 'ADMIN');
    const botToken = await createToken(admin.auth, { organizationId: org.id, serviceUserId: botId });
    const narrow = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['apiTokens.read', 'apiTokens.update']) });
    const before = await tokenRow(botToken.id);
    const regenerate = () => server.gql(REGENERATE, { input: { id: botToken.id, gracePeriodSeconds: 604_800 } }, bearer(narrow.secret));
    const error = await refusedWithoutChange(server, regenerate, 'FORBIDDEN');
    expect(lacking(['apiTokens.read', 'apiTokens.update'])).toContain(error.extensions?.right);
    expect(await tokenRow(botToken.id)).toEqual(before);
  });

  it('nor a MEMBER’s wider token of their own', async () => {
    const { org, member } = await createTeam(server);
    const wide = await createToken(member.auth, { organizationId: org.id });
    const narrow = await createToken(member.auth, { organizationId: org.id, rights: rightsInput(['apiTokens.read', 'apiTokens.update']) });
    const before = await tokenRow(wide.id);
    const error = await refusedWithoutChange(server, () => server.gql(REGENERATE, { input: { id: wide.id } }, bearer(narrow.secret)), 'FORBIDDEN');
    expect(lacking(['apiTokens.read', 'apiTokens.update'])).toContain(error.extensions?.right);
    expect(await tokenRow(wide.id)).toEqual(before);
  });

  it('a token regenerates a token of no more power; a grace period over an hour needs apiTokens.delete', async () => {
    const { org, admin } = await createTeam(server);
    const caller = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['apiTokens.read', 'apiTokens.update']) });
    const target = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['apiTokens.read']) });
    const before = await tokenRow(target.id);
    const long = () => server.gql(REGENERATE, { input: { id: target.id, gracePeriodSeconds: 7200 } }, bearer(caller.secret));
    expect((await refusedWithoutChange(server, long, 'FORBIDDEN')).extensions?.right).toBe('apiTokens.delete');
    expect(await tokenRow(target.id)).toEqual(before);

    const regenerated = dataOf(
      await server.gql(REGENERATE, { input: { id: target.id, gracePeriodSeconds: 3600 } }, bearer(caller.secret)),
    ).regenerateApiToken;
    expect(dataOf(await server.gql(VIEWER_ID, {}, bearer(regenerated.token))).viewer.id).toBe(admin.id);

    const withDelete = await createToken(admin.auth, {
      organizationId: org.id,
      rights: rightsInput(['apiTokens.read', 'apiTokens.update', 'apiTokens.delete']),
    });
    const other = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['apiTokens.read']) });
    dataOf(await server.gql(REGENERATE, { input: { id: other.id, gracePeriodSeconds: 7200 } }, bearer(withDelete.secret)));
  });

  it('an API token with all the rights of an OWNER regenerates itself, audited with that token as the credential', async () => {
    const { org, owner } = await createTeam(server);
    const full = await createToken(owner.auth, { organizationId: org.id });
    const regenerated = dataOf(
      await server.gql(REGENERATE, { input: { id: full.id, gracePeriodSeconds: 604_800 } }, bearer(full.secret)),
    ).regenerateApiToken;
    expect(regenerated.apiToken.id).toBe(full.id);
    expect(dataOf(await server.gql(VIEWER_ID, {}, bearer(regenerated.token))).viewer.id).toBe(owner.id);
    const events = await server.app.dataSource.query(
      `SELECT "actorId", "actorCredential", "actorTokenId" FROM audit_events WHERE "targetId" = $1 AND "eventType" = 'api_token.regenerated'`,
      [full.id],
    );
    expect(events).toEqual([{ actorId: owner.id, actorCredential: 'API_TOKEN', actorTokenId: full.id }]);
  });
});

describe('finding 2: a role is granted, changed or taken away only within the caller’s effective rights', () => {
  it('an ADMIN’s members.create token adds nobody, not even as VIEWER; members.update promotes nobody', async () => {
    const { org, admin, viewer } = await createTeam(server);
    const stranger = await signUp(server, 'stranger');
    const adds = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['members.create']) });
    for (const role of ['ADMIN', 'VIEWER']) {
      const add = () => server.gql(ADD_MEMBER, { input: { organizationId: org.id, email: stranger.email, role } }, bearer(adds.secret));
      expect((await refusedWithoutChange(server, add, 'FORBIDDEN')).extensions?.right).toBe('organization.read');
    }
    expect(await roleOf(org.id, stranger.id)).toBeNull();

    const promotes = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['members.update']) });
    const promote = () => server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: viewer.id, role: 'ADMIN' } }, bearer(promotes.secret));
    expect((await refusedWithoutChange(server, promote, 'FORBIDDEN')).extensions?.right).toBe('organization.read');
    expect(await roleOf(org.id, viewer.id)).toBe('VIEWER');
  });

  it('an OWNER’s members.create token cannot add an OWNER, who could then delete the organization', async () => {
    const { org, owner } = await createTeam(server);
    const stranger = await signUp(server, 'stranger');
    const adds = await createToken(owner.auth, { organizationId: org.id, rights: rightsInput(['members.create']) });
    const add = () => server.gql(ADD_MEMBER, { input: { organizationId: org.id, email: stranger.email, role: 'OWNER' } }, bearer(adds.secret));
    expect((await refusedWithoutChange(server, add, 'FORBIDDEN')).extensions?.right).toBe('organization.read');
    expect(await roleOf(org.id, stranger.id)).toBeNull();
    await refusedWithoutChange(server, () => server.gql(DELETE_ORG, { input: { id: org.id } }, stranger.auth), 'NOT_FOUND');
    expect(dataOf(await server.gql(ORGANIZATION, { id: org.id }, owner.auth)).organization.id).toBe(org.id);
  });

  it('the allowed paths: a full ADMIN adds a MEMBER, a token holding VIEWER’s rights adds a VIEWER, only an OWNER adds an OWNER', async () => {
    const { org, owner, admin } = await createTeam(server);
    const [first, second, third, fourth] = await Promise.all(['first', 'second', 'third', 'fourth'].map((name) => signUp(server, name)));
    const add = (auth: Record<string, string>, user: TestUser, role: string) =>
      server.gql(ADD_MEMBER, { input: { organizationId: org.id, email: user.email, role } }, auth);

    expect(dataOf(await add(admin.auth, first!, 'MEMBER')).addMember.membership.role).toBe('MEMBER');
    const viewerGranter = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput([...ROLE_RIGHTS.VIEWER, 'members.create']) });
    expect(dataOf(await add(bearer(viewerGranter.secret), second!, 'VIEWER')).addMember.membership.role).toBe('VIEWER');
    const refused = await refusedWithoutChange(server, () => add(bearer(viewerGranter.secret), third!, 'MEMBER'), 'FORBIDDEN');
    expect(refused.extensions?.right).toBe('apiTokens.create');

    // An ADMIN lacks one right of OWNER, and that is the right named.
    expect((await refusedWithoutChange(server, () => add(admin.auth, third!, 'OWNER'), 'FORBIDDEN')).extensions?.right).toBe('organization.delete');
    expect(dataOf(await add(owner.auth, fourth!, 'OWNER')).addMember.membership.role).toBe('OWNER');
  });

  it('a narrow token neither demotes nor removes a member whose role it does not cover', async () => {
    const { org, admin, member } = await createTeam(server);
    const demotes = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['members.update', ...ROLE_RIGHTS.VIEWER]) });
    // MEMBER → VIEWER takes away MEMBER, whose apiTokens.create the token lacks.
    const demote = () => server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: member.id, role: 'VIEWER' } }, bearer(demotes.secret));
    expect((await refusedWithoutChange(server, demote, 'FORBIDDEN')).extensions?.right).toBe('apiTokens.create');
    const removes = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['members.delete']) });
    const remove = () => server.gql(REMOVE_MEMBER, { input: { organizationId: org.id, userId: member.id } }, bearer(removes.secret));
    expect((await refusedWithoutChange(server, remove, 'FORBIDDEN')).extensions?.right).toBe('organization.read');
    expect(await roleOf(org.id, member.id)).toBe('MEMBER');
    // A member still leaves with their own account credential.
    expect(
      dataOf(await server.gql(REMOVE_MEMBER, { input: { organizationId: org.id, userId: member.id } }, member.auth)).removeMember.removedUserId,
    ).toBe(member.id);
  });

  it('service users: a serviceUsers.create token makes none; an ADMIN makes an ADMIN one but no OWNER one', async () => {
    const { org, admin } = await createTeam(server);
    const makes = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['serviceUsers.create']) });
    const input = (role: string) => ({ input: { organizationId: org.id, name: `bot-${role}-${randomBytes(2).toString('hex')}`, role } });
    expect(
      (await refusedWithoutChange(server, () => server.gql(CREATE_SERVICE_USER, input('VIEWER'), bearer(makes.secret)), 'FORBIDDEN')).extensions
        ?.right,
    ).toBe('organization.read');
    expect(dataOf(await server.gql(CREATE_SERVICE_USER, input('ADMIN'), admin.auth)).createServiceUser.serviceUser.role).toBe('ADMIN');
    expect(
      (await refusedWithoutChange(server, () => server.gql(CREATE_SERVICE_USER, input('OWNER'), admin.auth), 'FORBIDDEN')).extensions?.right,
    ).toBe('organization.delete');
  });

  it('service users: a narrow token neither changes nor deletes one whose role it does not cover, nor makes its tokens', async () => {
    const { org, owner, admin } = await createTeam(server);
    const botId = await createServiceUser(owner, org.id, 'VIEWER');
    const narrow = await createToken(admin.auth, {
      organizationId: org.id,
      rights: rightsInput(['serviceUsers.read', 'serviceUsers.update', 'serviceUsers.delete', 'apiTokens.create']),
    });
    const before = await server.app.dataSource.query(`SELECT name, role FROM service_users WHERE id = $1`, [botId]);
    const attempts = [
      () => server.gql(UPDATE_SERVICE_USER, { input: { id: botId, name: 'renamed' } }, bearer(narrow.secret)),
      () => server.gql(UPDATE_SERVICE_USER, { input: { id: botId, role: 'VIEWER' } }, bearer(narrow.secret)),
      () => server.gql(DELETE_SERVICE_USER, { input: { id: botId } }, bearer(narrow.secret)),
      () => server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'as-bot', serviceUserId: botId, rights: {} } }, bearer(narrow.secret)),
    ];
    for (const attempt of attempts) expect((await refusedWithoutChange(server, attempt, 'FORBIDDEN')).extensions?.right).toBe('organization.read');
    expect(await server.app.dataSource.query(`SELECT name, role FROM service_users WHERE id = $1`, [botId])).toEqual(before);
    // The ADMIN's user key does all of it.
    expect(
      dataOf(await server.gql(UPDATE_SERVICE_USER, { input: { id: botId, role: 'MEMBER' } }, admin.auth)).updateServiceUser.serviceUser.role,
    ).toBe('MEMBER');
  });
});

describe('finding 3: an access token mints no lasting credential', () => {
  it('createApiToken and regenerateApiToken with an access token are FORBIDDEN and create nothing; the user key still can', async () => {
    const { org, owner } = await createTeam(server);
    const access = await accessTokenOf(server, owner.auth);
    await refusedWithoutChange(
      server,
      () => server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'forever' } }, bearer(access)),
      'FORBIDDEN',
    );
    const existing = await createToken(owner.auth, { organizationId: org.id });
    const before = await tokenRow(existing.id);
    await refusedWithoutChange(server, () => server.gql(REGENERATE, { input: { id: existing.id } }, bearer(access)), 'FORBIDDEN');
    expect(await tokenRow(existing.id)).toEqual(before);

    // Nor may it lift a token's expiry past its own five minutes.
    for (const expiresAt of [null, inHours(24)]) {
      await refusedWithoutChange(server, () => server.gql(UPDATE_TOKEN, { input: { id: existing.id, expiresAt } }, bearer(access)), 'FORBIDDEN');
    }
    expect(await tokenRow(existing.id)).toEqual(before);

    // It still works for what produces nothing.
    expect(dataOf(await server.gql(ORGANIZATION, { id: org.id }, bearer(access))).organization.viewerRole).toBe('OWNER');
    expect((await createToken(owner.auth, { organizationId: org.id })).secret).toMatch(/^idg_/);
  });
});

describe('finding 4: membership needs consent, and probing addresses is bounded', () => {
  it('a stranger added as OWNER is only INVITED: no access, no introspection about them, no expiry notices', async () => {
    const attacker = await signUp(server, 'attacker');
    const victim = await signUp(server, 'victim');
    const org = await createOrganization(server, attacker, 'Billing Department');
    const added = dataOf(
      await server.gql(ADD_MEMBER, { input: { organizationId: org.id, email: victim.email, role: 'OWNER' } }, attacker.auth),
    ).addMember;
    expect(added.membership).toMatchObject({ role: 'OWNER', status: 'INVITED' });

    expect(onlyError(await server.gql(ORGANIZATION, { id: org.id }, victim.auth)).extensions?.code).toBe('NOT_FOUND');
    await refusedWithoutChange(server, () => server.gql(DELETE_ORG, { input: { id: org.id } }, victim.auth), 'NOT_FOUND');
    await refusedWithoutChange(server, () => server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'mine' } }, victim.auth), 'NOT_FOUND');

    // The forced membership widens nothing the attacker may learn about the victim's credentials.
    expect(dataOf(await server.gql(INTROSPECT, { token: victim.userKey }, attacker.auth)).introspectToken).toEqual({ active: false, subject: null });

    const policy = { organizationId: org.id, requireExpiration: false, notifyDaysBeforeExpiry: 7 };
    dataOf(await server.gql(SET_POLICY, { input: policy }, attacker.auth));
    const expiring = await createToken(attacker.auth, { organizationId: org.id, expiresAt: inHours(24) });
    await server.app.notifier.runOnce();
    const notices = await server.app.dataSource.query(`SELECT recipients FROM token_expiry_notifications WHERE "apiTokenId" = $1`, [expiring.id]);
    expect(notices).toEqual([{ recipients: [attacker.email] }]);
  });

  it('sixty probes of unknown addresses: thirty NOT_FOUND, then RATE_LIMITED with retryAfter, known addresses too', async () => {
    const prober = await signUp(server, 'prober');
    const org = await createOrganization(server, prober, 'Probe');
    const known = await signUp(server, 'known');
    const codes: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      const response = await server.gql(
        ADD_MEMBER,
        { input: { organizationId: org.id, email: `nobody-${i}-${randomBytes(3).toString('hex')}@example.com`, role: 'VIEWER' } },
        prober.auth,
      );
      const error = onlyError(response);
      codes.push(error.extensions?.code);
      if (error.extensions?.code === 'RATE_LIMITED') expect(error.extensions?.retryAfter).toBeGreaterThan(0);
    }
    expect(codes.slice(0, 30)).toEqual(Array(30).fill('NOT_FOUND'));
    expect(codes.slice(30)).toEqual(Array(30).fill('RATE_LIMITED'));
    const add = () => server.gql(ADD_MEMBER, { input: { organizationId: org.id, email: known.email, role: 'VIEWER' } }, prober.auth);
    await refusedWithoutChange(server, add, 'RATE_LIMITED');
    expect(await roleOf(org.id, known.id)).toBeNull();
  });
});

describe('finding 5: a token’s expiry is a ceiling', () => {
  it('a token expiring in an hour neither lifts its own expiry nor mints or regenerates anything that lives longer', async () => {
    const { org, owner } = await createTeam(server);
    const short = await createToken(owner.auth, { organizationId: org.id, name: 'short', expiresAt: inHours(1) });
    const forever = await createToken(owner.auth, { organizationId: org.id, name: 'forever' });
    const shortBefore = await tokenRow(short.id);
    const foreverBefore = await tokenRow(forever.id);

    for (const id of [short.id, forever.id]) {
      for (const expiresAt of [null, inHours(2)]) {
        await refusedWithoutChange(server, () => server.gql(UPDATE_TOKEN, { input: { id, expiresAt } }, bearer(short.secret)), 'FORBIDDEN');
      }
    }
    await refusedWithoutChange(
      server,
      () => server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'later', expiresAt: inHours(2) } }, bearer(short.secret)),
      'FORBIDDEN',
    );
    await refusedWithoutChange(server, () => server.gql(REGENERATE, { input: { id: forever.id } }, bearer(short.secret)), 'FORBIDDEN');
    expect(await tokenRow(short.id)).toEqual(shortBefore);
    expect(await tokenRow(forever.id)).toEqual(foreverBefore);

    // Without expiresAt, the child gets the caller's; an earlier one is kept; the earlier child may be regenerated.
    const inherited = await createToken(bearer(short.secret), { organizationId: org.id, name: 'inherits' });
    expect(inherited.expiresAt).toBe(short.expiresAt);
    const sooner = inHours(0.5);
    const child = await createToken(bearer(short.secret), { organizationId: org.id, name: 'sooner', expiresAt: sooner });
    expect(child.expiresAt).toBe(sooner);
    expect(dataOf(await server.gql(REGENERATE, { input: { id: child.id } }, bearer(short.secret))).regenerateApiToken.apiToken.id).toBe(child.id);

    // Bringing its own expiry closer is allowed.
    const closer = inHours(0.75);
    expect(
      dataOf(await server.gql(UPDATE_TOKEN, { input: { id: short.id, expiresAt: closer } }, bearer(short.secret))).updateApiToken.apiToken.expiresAt,
    ).toBe(closer);
  });
});

describe('finding 6: nested fields follow the rights of their root fields', () => {
  it('an apiTokens.read token reads neither owners’ and creators’ e-mails nor the organization through a token', async () => {
    const { org, admin, member } = await createTeam(server);
    const name = await organizationName(org.id);
    const memberToken = await createToken(member.auth, { organizationId: org.id, name: 'member-token' });
    const readOnly = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['apiTokens.read']) });
    expect(onlyError(await server.gql(ORGANIZATION, { id: org.id }, bearer(readOnly.secret))).extensions?.code).toBe('FORBIDDEN');

    for (const query of [TOKEN_OWNER, TOKEN_ORGANIZATION]) {
      const response = await server.gql(query, { id: memberToken.id }, bearer(readOnly.secret));
      expect(onlyError(response).extensions?.code).toBe('FORBIDDEN');
      expect(JSON.stringify(response.body)).not.toContain(member.email);
      expect(JSON.stringify(response.body)).not.toContain(name);
    }
    const createdBy = await server.gql(TOKEN_CREATED_BY, { id: memberToken.id }, bearer(readOnly.secret));
    expect(JSON.stringify(createdBy.body)).not.toContain(member.email);
    expect(onlyError(createdBy).extensions?.code).toBe('FORBIDDEN');

    // About itself a token still learns who it is; with members.read and organization.read it reads the rest.
    const own = dataOf(await server.gql(TOKEN_OWNER, { id: readOnly.id }, bearer(readOnly.secret))).apiToken;
    expect(own.owner).toEqual({ __typename: 'User', id: admin.id, email: admin.email });
    const wider = await createToken(admin.auth, {
      organizationId: org.id,
      rights: rightsInput(['apiTokens.read', 'members.read', 'organization.read']),
    });
    expect(dataOf(await server.gql(TOKEN_OWNER, { id: memberToken.id }, bearer(wider.secret))).apiToken.owner.email).toBe(member.email);
    expect(dataOf(await server.gql(TOKEN_CREATED_BY, { id: memberToken.id }, bearer(wider.secret))).apiToken.createdBy.email).toBe(member.email);
    expect(dataOf(await server.gql(TOKEN_ORGANIZATION, { id: memberToken.id }, bearer(wider.secret))).apiToken.organization.name).toBe(name);
  });

  it('a service user owning a token is shown with serviceUsers.read, and its organization with organization.read', async () => {
    const { org, owner, admin } = await createTeam(server);
    const botId = await createServiceUser(owner, org.id, 'MEMBER');
    const botToken = await createToken(admin.auth, { organizationId: org.id, serviceUserId: botId });
    const readOnly = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['apiTokens.read']) });
    const withBots = await createToken(admin.auth, { organizationId: org.id, rights: rightsInput(['apiTokens.read', 'serviceUsers.read']) });
    const botName = dataOf(await server.gql(TOKEN_BOT_OWNER, { id: botToken.id }, owner.auth)).apiToken.owner.name;

    const refused = await server.gql(TOKEN_BOT_OWNER, { id: botToken.id }, bearer(readOnly.secret));
    expect(onlyError(refused).extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(refused.body)).not.toContain(botName);
    expect(dataOf(await server.gql(TOKEN_BOT_OWNER, { id: botToken.id }, bearer(withBots.secret))).apiToken.owner).toEqual({
      id: botId,
      name: botName,
    });
    const organization = await server.gql(TOKEN_BOT_OWNER_ORGANIZATION, { id: botToken.id }, bearer(withBots.secret));
    expect(onlyError(organization).extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(organization.body)).not.toContain(await organizationName(org.id));
  });

  it('an organization.update token sets the policy but the report lists only the tokens it may read', async () => {
    const { org, owner, admin, member } = await createTeam(server);
    const expiring = { organizationId: org.id, expiresAt: inHours(48) };
    await createToken(owner.auth, { organizationId: org.id, name: 'owner-forever' });
    await createToken(member.auth, { organizationId: org.id, name: 'member-forever' });
    const policyOnly = await createToken(admin.auth, { ...expiring, rights: rightsInput(['organization.update']) });
    const [{ n }] = await server.app.dataSource.query(
      `SELECT count(*)::int AS n FROM api_tokens WHERE "organizationId" = $1 AND "revokedAt" IS NULL AND "expiresAt" IS NULL`,
      [org.id],
    );
    expect(n).toBe(2);
    const set = await server.gql(SET_POLICY, { input: { organizationId: org.id, requireExpiration: true } }, bearer(policyOnly.secret));
    expect(dataOf(set).setTokenExpirationPolicy).toEqual({ policy: { requireExpiration: true }, nonCompliantTokens: [], nonCompliantTokenCount: n });

    // With apiTokens.read as well, an ADMIN's token is shown all of them.
    const other = await createTeam(server);
    const owners = await createToken(other.owner.auth, { organizationId: other.org.id, name: 'a' });
    const members = await createToken(other.member.auth, { organizationId: other.org.id, name: 'b' });
    const reader = await createToken(other.admin.auth, {
      organizationId: other.org.id,
      expiresAt: inHours(48),
      rights: rightsInput(['organization.update', 'apiTokens.read']),
    });
    const report = dataOf(await server.gql(SET_POLICY, { input: { organizationId: other.org.id, requireExpiration: true } }, bearer(reader.secret)));
    const listed = report.setTokenExpirationPolicy.nonCompliantTokens.map((entry: any) => entry.apiToken.id).sort();
    expect(listed).toEqual([owners.id, members.id].sort());
    expect(report.setTokenExpirationPolicy.nonCompliantTokenCount).toBe(2);
  });

  it('a token without rights reads neither me.apiTokens nor me.memberships nor viewer.organization', async () => {
    const { org, member } = await createTeam(server);
    await createToken(member.auth, { organizationId: org.id, name: 'member-token' });
    const none = await createToken(member.auth, { organizationId: org.id, name: 'no-rights', rights: {} });
    expect(rightsList(dataOf(await server.gql(`{ viewer { rights { ${RIGHTS_FIELDS} } } }`, {}, bearer(none.secret))).viewer.rights)).toEqual([]);

    const tokens = await server.gql(ME_TOKENS, {}, bearer(none.secret));
    expect(onlyError(tokens).extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(tokens.body)).not.toContain('member-token');
    expect(dataOf(await server.gql(ME_MEMBERSHIPS, {}, bearer(none.secret))).me.memberships).toEqual([]);
    expect(onlyError(await server.gql(VIEWER_ORGANIZATION, {}, bearer(none.secret))).extensions?.code).toBe('FORBIDDEN');

    // The user key reads them all; a token with organization.read sees its own organization's membership only.
    const elsewhere = await createOrganization(server, member, 'Elsewhere');
    expect(
      dataOf(await server.gql(ME_MEMBERSHIPS, {}, member.auth))
        .me.memberships.map((m: any) => m.organization.id)
        .sort(),
    ).toEqual([org.id, elsewhere.id].sort());
    const reader = await createToken(member.auth, { organizationId: org.id, rights: rightsInput(['organization.read', 'apiTokens.read']) });
    expect(dataOf(await server.gql(ME_MEMBERSHIPS, {}, bearer(reader.secret))).me.memberships).toEqual([
      { role: 'MEMBER', organization: { id: org.id, name: await organizationName(org.id) } },
    ]);
    expect(dataOf(await server.gql(ME_TOKENS, {}, bearer(reader.secret))).me.apiTokens.edges.map((e: any) => e.node.name)).toContain('member-token');
  });
});

describe('finding 7: removing a member ends their tokens', () => {
  it('the removed member’s tokens are revoked (member_removed), audited, and stay dead when they come back', async () => {
    const { org, owner, admin, member } = await createTeam(server);
    dataOf(await server.gql(SET_POLICY, { input: { organizationId: org.id, requireExpiration: false, notifyDaysBeforeExpiry: 7 } }, owner.auth));
    const first = await createToken(member.auth, { organizationId: org.id, name: 'first', expiresAt: inHours(24) });
    const second = await createToken(member.auth, { organizationId: org.id, name: 'second' });
    const adminsToken = await createToken(admin.auth, { organizationId: org.id, name: 'admins' });

    dataOf(await server.gql(REMOVE_MEMBER, { input: { organizationId: org.id, userId: member.id } }, owner.auth));
    const listed = dataOf(await server.gql(ORG_TOKENS, { id: org.id }, owner.auth)).organization.apiTokens.edges.map((edge: any) => edge.node);
    for (const token of [first, second]) {
      expect(listed.find((node: any) => node.id === token.id)).toMatchObject({
        isActive: false,
        revokedReason: 'member_removed',
        revokedAt: expect.any(String),
      });
      const events = await server.app.dataSource.query(
        `SELECT changes FROM audit_events WHERE "targetId" = $1 AND "eventType" = 'api_token.revoked'`,
        [token.id],
      );
      expect(events).toHaveLength(1);
      expect(events[0].changes.reason).toBe('member_removed');
    }
    expect(listed.find((node: any) => node.id === adminsToken.id)).toMatchObject({ isActive: true, revokedReason: null });

    // No notice for a revoked token, and none to a person who is no longer a member.
    await server.app.notifier.runOnce();
    const notices = await server.app.dataSource.query(`SELECT recipients FROM token_expiry_notifications WHERE "apiTokenId" = $1`, [first.id]);
    expect(notices).toEqual([]);

    await addMember(server, owner, org.id, member, 'MEMBER');
    for (const token of [first, second]) {
      const response = await server.gql(VIEWER_ID, {}, bearer(token.secret));
      expect(response.status).toBe(401);
      expect(onlyError(response).extensions?.code).toBe('UNAUTHENTICATED');
      expect((await tokenRow(token.id)).revokedReason).toBe('member_removed');
    }
  });

  it('a member who leaves takes their tokens with them, and an ADMIN removed gets no more notices', async () => {
    const { org, owner, admin, member } = await createTeam(server);
    const mine = await createToken(member.auth, { organizationId: org.id, name: 'mine' });
    dataOf(await server.gql(REMOVE_MEMBER, { input: { organizationId: org.id, userId: member.id } }, member.auth));
    expect((await tokenRow(mine.id)).revokedReason).toBe('member_removed');
    expect((await server.gql(VIEWER_ID, {}, bearer(mine.secret))).status).toBe(401);

    dataOf(await server.gql(SET_POLICY, { input: { organizationId: org.id, requireExpiration: false, notifyDaysBeforeExpiry: 7 } }, owner.auth));
    dataOf(await server.gql(REMOVE_MEMBER, { input: { organizationId: org.id, userId: admin.id } }, owner.auth));
    const ownersToken = await createToken(owner.auth, { organizationId: org.id, name: 'soon', expiresAt: inHours(24) });
    await server.app.notifier.runOnce();
    const notices = await server.app.dataSource.query(`SELECT recipients FROM token_expiry_notifications WHERE "apiTokenId" = $1`, [ownersToken.id]);
    expect(notices).toEqual([{ recipients: [owner.email] }]);
  });
});
