import { randomBytes } from 'node:crypto';
import { accessTokenOf, bearer, ROLE_RIGHTS, type RightName } from './support/ceiling';
import { acceptMembership, addMember, createOrganization, createTeam, refusedWithoutChange, signUp, type TestUser } from './support/factories';
import { dataOf, onlyError, startTestServer, type GraphQLResponse, type TestServer } from './support/server';

/**
 * Regression tests for the review of issue 9: a caller's standing is what it is when the write happens (a removal
 * or demotion by another request, or by an earlier field of the same one, is seen); a replaced secret, an expiring
 * credential and an access token produce nothing lasting; invitations last only as long as their inviter's word;
 * declines tell the inviter nothing about the decliner; invitations are bounded per inviting account and per address.
 */

const VIEWER_ID = `{ viewer { id } }`;
const CREATE_TOKEN = `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id expiresAt } } }`;
const UPDATE_TOKEN = `mutation ($input: UpdateApiTokenInput!) { updateApiToken(input: $input) { apiToken { id expiresAt } } }`;
const REGENERATE = `mutation ($input: RegenerateApiTokenInput!) { regenerateApiToken(input: $input) { token apiToken { id tokenPrefix } } }`;
const ADD_MEMBER = `mutation ($input: AddMemberInput!) { addMember(input: $input) { membership { id role status } } }`;
const ACCEPT = `mutation ($input: AcceptMembershipInput!) { acceptMembership(input: $input) { membership { role status } } }`;
const DECLINE = `mutation ($input: DeclineMembershipInput!) { declineMembership(input: $input) { ok } }`;
const UPDATE_ROLE = `mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { membership { role status } } }`;
const REMOVE_MEMBER = `mutation ($input: RemoveMemberInput!) { removeMember(input: $input) { removedUserId } }`;
const DELETE_ORG = `mutation ($input: DeleteOrganizationInput!) { deleteOrganization(input: $input) { deletedOrganizationId } }`;
const CREATE_SERVICE_USER = `mutation ($input: CreateServiceUserInput!) { createServiceUser(input: $input) { serviceUser { id role } } }`;
const DELETE_SERVICE_USER = `mutation ($input: DeleteServiceUserInput!) { deleteServiceUser(input: $input) { deletedServiceUserId } }`;
const MEMBERS = `query ($id: ID!) { organization(id: $id) { members(first: 100) { edges { node { role status user { id } } } } } }`;
const MY_MEMBERSHIPS = `{ me { memberships { status role organization { id } } } }`;
const AUDIT = `query ($id: ID!, $eventType: String) {
  organization(id: $id) {
    auditEvents(first: 100, eventType: $eventType) {
      edges { node { eventType actorId actorCredential actorTokenId clientAddress userAgent targetId changes } }
    }
  }
}`;
/** Removes the caller from the organization, then asks for a token there, in one request: the fields run in order. */
const LEAVE_THEN_CREATE = `mutation ($organizationId: ID!, $userId: ID!) {
  gone: removeMember(input: { organizationId: $organizationId, userId: $userId }) { removedUserId }
  made: createApiToken(input: { organizationId: $organizationId, name: "after" }) { token }
}`;
const LEAVE_THEN_CREATE_FOR_SERVICE_USER = `mutation ($organizationId: ID!, $userId: ID!, $serviceUserId: ID!) {
  gone: removeMember(input: { organizationId: $organizationId, userId: $userId }) { removedUserId }
  made: createApiToken(input: { organizationId: $organizationId, name: "after", serviceUserId: $serviceUserId }) { token }
}`;
/** Demote the caller to VIEWER, then act as an ADMIN would, in one request. */
const DEMOTE_THEN_CREATE = `mutation ($organizationId: ID!, $userId: ID!, $serviceUserId: ID!) {
  demoted: updateMemberRole(input: { organizationId: $organizationId, userId: $userId, role: VIEWER }) { membership { role } }
  made: createApiToken(input: { organizationId: $organizationId, name: "after", serviceUserId: $serviceUserId }) { token }
}`;
const DEMOTE_THEN_INVITE = `mutation ($organizationId: ID!, $userId: ID!, $email: String!) {
  demoted: updateMemberRole(input: { organizationId: $organizationId, userId: $userId, role: VIEWER }) { membership { role } }
  invited: addMember(input: { organizationId: $organizationId, email: $email, role: ADMIN }) { membership { id } }
}`;
const DELETE_SELF_THEN_CREATE = `mutation ($organizationId: ID!, $serviceUserId: ID!) {
  gone: deleteServiceUser(input: { id: $serviceUserId }) { deletedServiceUserId }
  made: createApiToken(input: { organizationId: $organizationId, name: "after" }) { token }
}`;

/** The answers a request that lost a race may give: never INTERNAL_SERVER_ERROR. */
const RACE_CODES = ['NOT_FOUND', 'FORBIDDEN', 'CONFLICT'];

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
const suffix = () => randomBytes(3).toString('hex');
const codeOf = (response: GraphQLResponse) => onlyError(response).extensions?.code;

async function createToken(server: TestServer, auth: Record<string, string>, input: Record<string, unknown>) {
  const data = dataOf(await server.gql(CREATE_TOKEN, { input: { name: `t-${suffix()}`, ...input } }, auth));
  return { secret: data.createApiToken.token as string, id: data.createApiToken.apiToken.id as string };
}

async function createServiceUser(server: TestServer, by: TestUser, organizationId: string, role: string): Promise<string> {
  const input = { organizationId, name: `bot-${suffix()}`, role };
  return dataOf(await server.gql(CREATE_SERVICE_USER, { input }, by.auth)).createServiceUser.serviceUser.id;
}

/** Tokens in the organization whose owner is `owner` and that still work (not revoked). */
async function liveTokens(server: TestServer, organizationId: string, owner: { userId: string } | { serviceUserId: string }): Promise<number> {
  const [column, id] = 'userId' in owner ? ['ownerUserId', owner.userId] : ['ownerServiceUserId', owner.serviceUserId];
  const [{ count }] = await server.app.dataSource.query(
    `SELECT count(*)::int AS count FROM api_tokens WHERE "organizationId" = $1 AND "${column}" = $2 AND "revokedAt" IS NULL`,
    [organizationId, id],
  );
  return count;
}

async function membershipRow(server: TestServer, organizationId: string, userId: string): Promise<{ role: string; status: string } | undefined> {
  const [row] = await server.app.dataSource.query(`SELECT role, status FROM memberships WHERE "organizationId" = $1 AND "userId" = $2`, [
    organizationId,
    userId,
  ]);
  return row;
}

async function auditEvents(server: TestServer, owner: TestUser, organizationId: string, eventType: string | null): Promise<any[]> {
  const data = dataOf(await server.gql(AUDIT, { id: organizationId, eventType }, owner.auth));
  return data.organization.auditEvents.edges.map((edge: any) => edge.node);
}

const invite = (server: TestServer, auth: Record<string, string>, organizationId: string, email: string, role: string) =>
  server.gql(ADD_MEMBER, { input: { organizationId, email, role } }, auth);
const accept = (server: TestServer, auth: Record<string, string>, organizationId: string) => server.gql(ACCEPT, { input: { organizationId } }, auth);
const removeMember = (server: TestServer, auth: Record<string, string>, organizationId: string, userId: string) =>
  server.gql(REMOVE_MEMBER, { input: { organizationId, userId } }, auth);
const updateRole = (server: TestServer, auth: Record<string, string>, organizationId: string, userId: string, role: string) =>
  server.gql(UPDATE_ROLE, { input: { organizationId, userId, role } }, auth);

describe('standing read when the write happens', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' });
  });
  afterAll(() => server.close());

  it('after an API token’s owner leaves, later fields of the same request act with no standing: no rename, no revocation, no policy', async () => {
    const { org, owner, admin } = await createTeam(server);
    const adminToken = bearer((await createToken(server, admin.auth, { organizationId: org.id })).secret);
    const ownersToken = await createToken(server, owner.auth, { organizationId: org.id });
    const response = await server.gql(
      `mutation ($organizationId: ID!, $userId: ID!, $tokenId: ID!) {
        gone: removeMember(input: { organizationId: $organizationId, userId: $userId }) { removedUserId }
        renamed: updateOrganization(input: { id: $organizationId, name: "Renamed after leaving" }) { organization { id } }
        revoked: revokeApiToken(input: { id: $tokenId }) { apiToken { id } }
        policy: setTokenExpirationPolicy(input: { organizationId: $organizationId, requireExpiration: true, maxLifetimeDays: 1 }) { policy { requireExpiration } }
      }`,
      { organizationId: org.id, userId: admin.id, tokenId: ownersToken.id },
      adminToken,
    );
    const codes = (response.body.errors ?? []).map((error) => error.extensions?.code);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.every((code) => code === 'NOT_FOUND' || code === 'FORBIDDEN')).toBe(true);
    expect(await membershipRow(server, org.id, admin.id)).toBeUndefined();
    const [row] = await server.app.dataSource.query(`SELECT name FROM organizations WHERE id = $1`, [org.id]);
    expect(row.name).not.toBe('Renamed after leaving');
    const [token] = await server.app.dataSource.query(`SELECT "revokedAt" FROM api_tokens WHERE id = $1`, [ownersToken.id]);
    expect(token.revokedAt).toBeNull();
    expect(await server.app.dataSource.query(`SELECT 1 FROM token_expiration_policies WHERE "organizationId" = $1`, [org.id])).toEqual([]);
  });

  it('a secret replaced by regeneration, in its grace period, still authenticates but creates, regenerates and grants nothing', async () => {
    const { org, owner, viewer, outsider } = await createTeam(server);
    const full = await createToken(server, owner.auth, { organizationId: org.id });
    const other = await createToken(server, owner.auth, { organizationId: org.id });
    const regenerated = dataOf(await server.gql(REGENERATE, { input: { id: full.id, gracePeriodSeconds: 60 } }, owner.auth)).regenerateApiToken;
    const old = bearer(full.secret);
    expect(dataOf(await server.gql(VIEWER_ID, {}, old)).viewer.id).toBe(owner.id);

    const tokenWrites: [string, () => Promise<GraphQLResponse>][] = [
      ['create', () => server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'persist' } }, old)],
      ['create, expiring soon', () => server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'soon', expiresAt: inMinutes(0.5) } }, old)],
      ['regenerate itself', () => server.gql(REGENERATE, { input: { id: full.id } }, old)],
      ['regenerate another', () => server.gql(REGENERATE, { input: { id: other.id } }, old)],
    ];
    for (const [what, request] of tokenWrites) {
      const error = await refusedWithoutChange(server, request, 'FORBIDDEN');
      expect([what, error.extensions?.field]).toEqual([what, 'credential']);
      expect(error.message).toMatch(/replaced by regeneration cannot create or regenerate a token/);
    }
    const roleGrants: [string, () => Promise<GraphQLResponse>][] = [
      ['addMember', () => invite(server, old, org.id, outsider.email, 'VIEWER')],
      ['updateMemberRole', () => updateRole(server, old, org.id, viewer.id, 'MEMBER')],
      ['createServiceUser', () => server.gql(CREATE_SERVICE_USER, { input: { organizationId: org.id, name: 'b', role: 'VIEWER' } }, old)],
    ];
    for (const [what, request] of roleGrants) {
      const error = await refusedWithoutChange(server, request, 'FORBIDDEN');
      expect([what, error.extensions?.field]).toEqual([what, 'credential']);
      expect(error.message).toMatch(/replaced by regeneration cannot grant a role/);
    }
    expect(await membershipRow(server, org.id, outsider.id)).toBeUndefined();

    // The new secret is the token: it may do all of it.
    const fresh = await server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'new' } }, bearer(regenerated.token));
    expect(dataOf(fresh).createApiToken.token).toMatch(/^idg_/);
  });

  it('createApiToken racing removeMember: no token of the removed ADMIN stays live, nor comes back with a new membership', async () => {
    const { org, owner, admin } = await createTeam(server);
    for (let round = 0; round < 3; round += 1) {
      const own = await createToken(server, admin.auth, { organizationId: org.id, name: `own-${round}` });
      const create = (i: number) =>
        server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: `race-${round}-${i}` } }, i % 2 ? bearer(own.secret) : admin.auth);
      const removal = () => removeMember(server, owner.auth, org.id, admin.id);
      const responses = await Promise.all([create(0), create(1), create(2), create(3), removal(), create(4), create(5), create(6), create(7)]);
      const creates = responses.filter((_, i) => i !== 4);
      expect(dataOf(responses[4]!).removeMember.removedUserId).toBe(admin.id);
      const made: string[] = [];
      for (const response of creates) {
        if (response.body.data?.createApiToken) made.push(response.body.data.createApiToken.token);
        else expect([...RACE_CODES, 'UNAUTHENTICATED']).toContain(codeOf(response));
      }
      expect(await liveTokens(server, org.id, { userId: admin.id })).toBe(0);

      // Let back in, the person gets nothing of what they held or made before.
      await addMember(server, owner, org.id, admin, 'ADMIN');
      for (const secret of [own.secret, ...made]) {
        const response = await server.gql(VIEWER_ID, {}, bearer(secret));
        expect(response.status).toBe(401);
        expect(codeOf(response)).toBe('UNAUTHENTICATED');
      }
    }
  });

  it('removeMember of oneself, then createApiToken, in one request: the second field is refused and no token is left', async () => {
    const { org, admin, member } = await createTeam(server);
    const token = await createToken(server, admin.auth, { organizationId: org.id });
    const callers: [TestUser, Record<string, string>][] = [
      [admin, bearer(token.secret)],
      [member, member.auth],
    ];
    for (const [who, auth] of callers) {
      const response = await server.gql(LEAVE_THEN_CREATE, { organizationId: org.id, userId: who.id }, auth);
      // The payloads are non-null: the failing second field nulls `data`, while the first one's removal stands.
      expect(response.body.data?.made ?? null).toBeNull();
      const error = onlyError(response);
      expect(error.path).toEqual(['made']);
      expect(['NOT_FOUND', 'FORBIDDEN']).toContain(error.extensions?.code);
      expect(await membershipRow(server, org.id, who.id)).toBeUndefined();
      expect(await liveTokens(server, org.id, { userId: who.id })).toBe(0);
    }
  });

  it('an ADMIN’s token removing its owner, then asking for an ADMIN service user’s token, in one request: refused, no token', async () => {
    const { org, owner, admin } = await createTeam(server);
    const bot = await createServiceUser(server, owner, org.id, 'ADMIN');
    const token = await createToken(server, admin.auth, { organizationId: org.id });
    const response = await server.gql(
      LEAVE_THEN_CREATE_FOR_SERVICE_USER,
      { organizationId: org.id, userId: admin.id, serviceUserId: bot },
      bearer(token.secret),
    );
    expect(response.body.data?.made ?? null).toBeNull();
    const error = onlyError(response);
    expect(error.path).toEqual(['made']);
    expect(['NOT_FOUND', 'FORBIDDEN']).toContain(error.extensions?.code);
    expect(await membershipRow(server, org.id, admin.id)).toBeUndefined();
    expect(await liveTokens(server, org.id, { serviceUserId: bot })).toBe(0);
    expect(await liveTokens(server, org.id, { userId: admin.id })).toBe(0);
  });

  it('an ADMIN demoting themselves to VIEWER, then acting as an ADMIN, in one request: the later field is refused', async () => {
    const { org, owner, admin, outsider } = await createTeam(server);
    const bot = await createServiceUser(server, owner, org.id, 'ADMIN');
    const token = bearer((await createToken(server, admin.auth, { organizationId: org.id })).secret);
    const requests: [string, string, Record<string, string>][] = [
      ['made', DEMOTE_THEN_CREATE, { organizationId: org.id, userId: admin.id, serviceUserId: bot }],
      ['invited', DEMOTE_THEN_INVITE, { organizationId: org.id, userId: admin.id, email: outsider.email }],
    ];
    for (const auth of [admin.auth, token]) {
      for (const [field, document, variables] of requests) {
        const error = onlyError(await server.gql(document, variables, auth));
        expect(error.path).toEqual([field]);
        expect(['FORBIDDEN', 'NOT_FOUND']).toContain(error.extensions?.code);
        expect(await membershipRow(server, org.id, admin.id)).toEqual({ role: 'VIEWER', status: 'ACTIVE' });
        expect(await liveTokens(server, org.id, { serviceUserId: bot })).toBe(0);
        expect(await membershipRow(server, org.id, outsider.id)).toBeUndefined();
        dataOf(await updateRole(server, owner.auth, org.id, admin.id, 'ADMIN'));
      }
    }
  });

  it('a service user’s token deleting its service user, then creating a token, in one request: a clear refusal, no token', async () => {
    const { org, owner } = await createTeam(server);
    const bot = await createServiceUser(server, owner, org.id, 'ADMIN');
    const token = await createToken(server, owner.auth, { organizationId: org.id, serviceUserId: bot });
    const response = await server.gql(DELETE_SELF_THEN_CREATE, { organizationId: org.id, serviceUserId: bot }, bearer(token.secret));
    expect(response.body.data?.made ?? null).toBeNull();
    const error = onlyError(response);
    expect(error.path).toEqual(['made']);
    expect(['NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED']).toContain(error.extensions?.code);
    expect(await server.app.dataSource.query(`SELECT id FROM service_users WHERE id = $1`, [bot])).toEqual([]);
    expect(await liveTokens(server, org.id, { serviceUserId: bot })).toBe(0);
    expect((await server.gql(VIEWER_ID, {}, bearer(token.secret))).status).toBe(401);
  });

  it('upper-case organization ids with an API token: addMember, createServiceUser and createApiToken work', async () => {
    const { org, owner, outsider } = await createTeam(server);
    const token = bearer((await createToken(server, owner.auth, { organizationId: org.id })).secret);
    const upper = org.id.toUpperCase();
    expect(upper).not.toBe(org.id);
    expect(dataOf(await invite(server, token, upper, outsider.email, 'VIEWER')).addMember.membership).toMatchObject({ status: 'INVITED' });
    expect(await membershipRow(server, org.id, outsider.id)).toEqual({ role: 'VIEWER', status: 'INVITED' });
    const bot = dataOf(await server.gql(CREATE_SERVICE_USER, { input: { organizationId: upper, name: 'upper', role: 'VIEWER' } }, token));
    expect(bot.createServiceUser.serviceUser.role).toBe('VIEWER');
    const [{ organizationId }] = await server.app.dataSource.query(`SELECT "organizationId" FROM service_users WHERE id = $1`, [
      bot.createServiceUser.serviceUser.id,
    ]);
    expect(organizationId).toBe(org.id);
    const made = dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId: upper, name: 'upper' } }, token)).createApiToken;
    expect(dataOf(await server.gql(VIEWER_ID, {}, bearer(made.token))).viewer.id).toBe(owner.id);
  });
});

describe('a role grant is lasting; lengthening a token’s life needs its whole power', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' });
  });
  afterAll(() => server.close());

  it('an ADMIN’s expiring token grants no role; neither does an access token; a token without expiry still invites', async () => {
    const { org, admin, viewer, outsider } = await createTeam(server);
    const expiring = bearer((await createToken(server, admin.auth, { organizationId: org.id, expiresAt: inMinutes(60) })).secret);
    const grants: [string, () => Promise<GraphQLResponse>][] = [
      ['addMember', () => invite(server, expiring, org.id, outsider.email, 'VIEWER')],
      ['updateMemberRole', () => updateRole(server, expiring, org.id, viewer.id, 'MEMBER')],
      ['createServiceUser', () => server.gql(CREATE_SERVICE_USER, { input: { organizationId: org.id, name: 'b', role: 'VIEWER' } }, expiring)],
    ];
    for (const [what, request] of grants) {
      const error = await refusedWithoutChange(server, request, 'FORBIDDEN');
      expect([what, error.extensions?.field]).toEqual([what, 'role']);
    }

    const access = bearer(await accessTokenOf(server, admin.auth));
    const accessGrants = [
      () => invite(server, access, org.id, outsider.email, 'VIEWER'),
      () => updateRole(server, access, org.id, viewer.id, 'MEMBER'),
    ];
    for (const request of accessGrants) {
      expect((await refusedWithoutChange(server, request, 'FORBIDDEN')).extensions?.field).toBe('credential');
    }
    expect(await membershipRow(server, org.id, outsider.id)).toBeUndefined();
    expect(await membershipRow(server, org.id, viewer.id)).toEqual({ role: 'VIEWER', status: 'ACTIVE' });

    const lasting = bearer((await createToken(server, admin.auth, { organizationId: org.id })).secret);
    const invited = dataOf(await invite(server, lasting, org.id, outsider.email, 'VIEWER')).addMember.membership;
    expect(invited).toMatchObject({ role: 'VIEWER', status: 'INVITED' });
  });

  it('a narrow token cannot lengthen the life of its owner’s wider token; it may shorten it', async () => {
    const { org, admin } = await createTeam(server);
    const wide = await createToken(server, admin.auth, { organizationId: org.id, expiresAt: inMinutes(60) });
    const narrowRights: RightName[] = ['apiTokens.read', 'apiTokens.update'];
    const narrowInput = { organizationId: org.id, rights: { apiTokens: { read: true, update: true } } };
    const narrow = bearer((await createToken(server, admin.auth, narrowInput)).secret);
    for (const expiresAt of [null, inMinutes(120)]) {
      const error = await refusedWithoutChange(server, () => server.gql(UPDATE_TOKEN, { input: { id: wide.id, expiresAt } }, narrow), 'FORBIDDEN');
      expect(ROLE_RIGHTS.ADMIN.filter((right) => !narrowRights.includes(right))).toContain(error.extensions?.right);
    }
    const earlier = inMinutes(30);
    const shortened = dataOf(await server.gql(UPDATE_TOKEN, { input: { id: wide.id, expiresAt: earlier } }, narrow)).updateApiToken.apiToken;
    expect(new Date(shortened.expiresAt).getTime()).toBe(new Date(earlier).getTime());
    // With the token's whole power (the ADMIN's user key), lifting the expiry is allowed.
    const lifted = dataOf(await server.gql(UPDATE_TOKEN, { input: { id: wide.id, expiresAt: null } }, admin.auth)).updateApiToken.apiToken;
    expect(lifted.expiresAt).toBeNull();
  });

  it('an ADMIN cannot lengthen the life of an OWNER’s token (organization.delete); the OWNER can', async () => {
    const { org, owner, admin } = await createTeam(server);
    const owners = await createToken(server, owner.auth, { organizationId: org.id, expiresAt: inMinutes(60) });
    for (const expiresAt of [null, inMinutes(120)]) {
      const lengthen = () => server.gql(UPDATE_TOKEN, { input: { id: owners.id, expiresAt } }, admin.auth);
      const error = await refusedWithoutChange(server, lengthen, 'FORBIDDEN');
      expect(error.extensions?.right).toBe('organization.delete');
    }
    const lifted = dataOf(await server.gql(UPDATE_TOKEN, { input: { id: owners.id, expiresAt: null } }, owner.auth)).updateApiToken.apiToken;
    expect(lifted.expiresAt).toBeNull();
  });
});

describe('invitations last as long as their inviter’s word', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' });
  });
  afterAll(() => server.close());

  it('an ADMIN removed: their invitations are withdrawn, audited as inviter_gone, and cannot be accepted', async () => {
    const { org, owner, admin, outsider } = await createTeam(server);
    expect(dataOf(await invite(server, admin.auth, org.id, outsider.email, 'ADMIN')).addMember.membership.status).toBe('INVITED');
    dataOf(await removeMember(server, owner.auth, org.id, admin.id));

    const members = dataOf(await server.gql(MEMBERS, { id: org.id }, owner.auth)).organization.members.edges.map((edge: any) => edge.node.user.id);
    expect(members).not.toContain(outsider.id);
    expect(members).not.toContain(admin.id);
    expect(dataOf(await server.gql(MY_MEMBERSHIPS, {}, outsider.auth)).me.memberships).toEqual([]);
    await refusedWithoutChange(server, () => accept(server, outsider.auth, org.id), 'NOT_FOUND');
    expect(await membershipRow(server, org.id, outsider.id)).toBeUndefined();

    const withdrawn = (await auditEvents(server, owner, org.id, 'member.removed')).filter((event) => event.targetId === outsider.id);
    expect(withdrawn).toHaveLength(1);
    expect(withdrawn[0].changes).toMatchObject({ role: 'ADMIN', invitation: true, reason: 'inviter_gone' });
  });

  it('an ADMIN who leaves takes their invitations along', async () => {
    const { org, admin, outsider } = await createTeam(server);
    dataOf(await invite(server, admin.auth, org.id, outsider.email, 'MEMBER'));
    dataOf(await removeMember(server, admin.auth, org.id, admin.id));
    await refusedWithoutChange(server, () => accept(server, outsider.auth, org.id), 'NOT_FOUND');
  });

  it('a service user deleted: its invitations are withdrawn', async () => {
    const { org, owner, outsider } = await createTeam(server);
    const bot = await createServiceUser(server, owner, org.id, 'ADMIN');
    const token = bearer((await createToken(server, owner.auth, { organizationId: org.id, serviceUserId: bot })).secret);
    dataOf(await invite(server, token, org.id, outsider.email, 'MEMBER'));
    dataOf(await server.gql(DELETE_SERVICE_USER, { input: { id: bot } }, owner.auth));
    await refusedWithoutChange(server, () => accept(server, outsider.auth, org.id), 'NOT_FOUND');
    const withdrawn = (await auditEvents(server, owner, org.id, 'member.removed')).filter((event) => event.targetId === outsider.id);
    expect(withdrawn.map((event) => event.changes)).toEqual([expect.objectContaining({ role: 'MEMBER', invitation: true, reason: 'inviter_gone' })]);
  });

  it('an inviter demoted below the role offered: the invitation is refused as no longer valid; an OWNER changing it vouches for it', async () => {
    const { org, owner, admin, outsider } = await createTeam(server);
    const other = await signUp(server, 'other');
    dataOf(await invite(server, admin.auth, org.id, outsider.email, 'ADMIN'));
    dataOf(await invite(server, admin.auth, org.id, other.email, 'VIEWER'));
    dataOf(await updateRole(server, owner.auth, org.id, admin.id, 'VIEWER'));

    const refused = await refusedWithoutChange(server, () => accept(server, outsider.auth, org.id), 'FORBIDDEN');
    expect(refused.message).toMatch(/no longer valid/);
    expect(await membershipRow(server, org.id, outsider.id)).toEqual({ role: 'ADMIN', status: 'INVITED' });
    // What the inviter can still grant stands.
    expect(dataOf(await accept(server, other.auth, org.id)).acceptMembership.membership).toEqual({ role: 'VIEWER', status: 'ACTIVE' });

    dataOf(await updateRole(server, owner.auth, org.id, outsider.id, 'MEMBER'));
    expect(dataOf(await accept(server, outsider.auth, org.id)).acceptMembership.membership).toEqual({ role: 'MEMBER', status: 'ACTIVE' });
  });

  it('an invitation older than 14 days has expired; one of 13 days is still good', async () => {
    const { org, owner } = await createTeam(server);
    const [late, early] = await Promise.all([signUp(server, 'late'), signUp(server, 'early')]);
    for (const [who, days] of [
      [late, 15],
      [early, 13],
    ] as const) {
      dataOf(await invite(server, owner.auth, org.id, who.email, 'MEMBER'));
      await server.app.dataSource.query(
        `UPDATE memberships SET "createdAt" = now() - make_interval(days => $3) WHERE "organizationId" = $1 AND "userId" = $2`,
        [org.id, who.id, days],
      );
    }
    const refused = await refusedWithoutChange(server, () => accept(server, late.auth, org.id), 'FORBIDDEN');
    expect(refused.message).toMatch(/expired/);
    expect(await membershipRow(server, org.id, late.id)).toEqual({ role: 'MEMBER', status: 'INVITED' });
    await acceptMembership(server, early, org.id);
    expect(await membershipRow(server, org.id, early.id)).toEqual({ role: 'MEMBER', status: 'ACTIVE' });
    // A dead invitation gives way to a new one, which can be accepted.
    expect(dataOf(await invite(server, owner.auth, org.id, late.email, 'VIEWER')).addMember.membership).toMatchObject({ role: 'VIEWER', status: 'INVITED' });
    await acceptMembership(server, late, org.id);
    expect(await membershipRow(server, org.id, late.id)).toEqual({ role: 'VIEWER', status: 'ACTIVE' });
    // A live one is still CONFLICT.
    const third = await signUp(server, 'third');
    dataOf(await invite(server, owner.auth, org.id, third.email, 'VIEWER'));
    expect(codeOf(await invite(server, owner.auth, org.id, third.email, 'MEMBER'))).toBe('CONFLICT');
  });

  it('a decline is audited without the decliner’s address, user agent or credential', async () => {
    const [owner, invitee] = await Promise.all([signUp(server, 'owner'), signUp(server, 'invitee')]);
    const org = await createOrganization(server, owner);
    dataOf(await invite(server, owner.auth, org.id, invitee.email, 'VIEWER'));
    const declined = await server.gql(DECLINE, { input: { organizationId: org.id } }, { ...invitee.auth, 'user-agent': 'Decliner laptop/1.0' });
    expect(dataOf(declined).declineMembership).toEqual({ ok: true });

    const [event] = await auditEvents(server, owner, org.id, 'member.declined');
    expect(event).toMatchObject({ targetId: invitee.id, clientAddress: null, userAgent: null, actorCredential: null, actorTokenId: null });
    // The organization's own members are audited with where they acted from.
    const [invited] = await auditEvents(server, owner, org.id, 'member.invited');
    expect(invited.clientAddress).not.toBeNull();
    expect(JSON.stringify(await auditEvents(server, owner, org.id, null))).not.toContain('Decliner laptop');
  });
});

describe('answering an invitation while it changes', () => {
  let server: TestServer;
  let owner: TestUser;
  let invitee: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' });
    [owner, invitee] = await Promise.all([signUp(server, 'owner'), signUp(server, 'invitee')]);
  });
  afterAll(() => server.close());

  const ROUNDS = 10;
  const answers = { accept: ACCEPT, decline: DECLINE } as const;
  const changes = {
    removeMember: (organizationId: string) => removeMember(server, owner.auth, organizationId, invitee.id),
    updateMemberRole: (organizationId: string) => updateRole(server, owner.auth, organizationId, invitee.id, 'VIEWER'),
    deleteOrganization: (organizationId: string) => server.gql(DELETE_ORG, { input: { id: organizationId } }, owner.auth),
  } as const;
  const pairs: [keyof typeof answers, keyof typeof changes][] = [
    ['accept', 'removeMember'],
    ['accept', 'updateMemberRole'],
    ['accept', 'deleteOrganization'],
    ['decline', 'removeMember'],
    ['decline', 'updateMemberRole'],
    ['decline', 'deleteOrganization'],
  ];

  it.each(pairs)('%s racing %s: every answer is data, NOT_FOUND, FORBIDDEN or CONFLICT, and the outcome is one of them', async (answer, change) => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const org = await createOrganization(server, owner);
      dataOf(await invite(server, owner.auth, org.id, invitee.email, 'MEMBER'));
      const [theirs, ours] = await Promise.all([
        server.gql(answers[answer], { input: { organizationId: org.id } }, invitee.auth),
        changes[change](org.id),
      ]);
      for (const response of [theirs, ours]) {
        if (response.body.errors) expect(RACE_CODES).toContain(codeOf(response));
        else expect(response.body.data).toBeTruthy();
      }
      const row = await membershipRow(server, org.id, invitee.id);
      if (!ours.body.errors && change !== 'updateMemberRole') expect(row).toBeUndefined();
      if (!theirs.body.errors && answer === 'decline') expect(row).toBeUndefined();
      if (!ours.body.errors && change === 'updateMemberRole' && row) expect(row.role).toBe('VIEWER');
      if (!theirs.body.errors && answer === 'accept' && row) expect(row.status).toBe('ACTIVE');
    }
  });
});

describe('invitations bounded per address and per inviting account', () => {
  it('a third invitation of one address by one inviter is RATE_LIMITED, without holding up anyone else’s; an unknown address counts the same', async () => {
    const server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0', INVITATIONS_PER_ADDRESS_LIMIT: '2' });
    try {
      const [a, b, target] = await Promise.all(['a', 'b', 'target'].map((name) => signUp(server, name)));
      const orgs = await Promise.all([a, b].map((owner) => createOrganization(server, owner!)));
      const withdraw = async () =>
        dataOf(await server.gql(`mutation ($input: RemoveMemberInput!) { removeMember(input: $input) { removedUserId } }`, { input: { organizationId: orgs[0]!.id, userId: target!.id } }, a!.auth));
      expect(dataOf(await invite(server, a!.auth, orgs[0]!.id, target!.email, 'VIEWER')).addMember.membership.status).toBe('INVITED');
      await withdraw();
      expect(dataOf(await invite(server, a!.auth, orgs[0]!.id, target!.email, 'VIEWER')).addMember.membership.status).toBe('INVITED');
      await withdraw();
      const limited = await refusedWithoutChange(server, () => invite(server, a!.auth, orgs[0]!.id, target!.email, 'VIEWER'), 'RATE_LIMITED');
      expect(limited.extensions?.retryAfter).toBeGreaterThan(0);
      expect(await membershipRow(server, orgs[0]!.id, target!.id)).toBeUndefined();
      // Another inviter's invitation of the same person goes through.
      expect(dataOf(await invite(server, b!.auth, orgs[1]!.id, target!.email, 'VIEWER')).addMember.membership.status).toBe('INVITED');

      const unknown = `nobody-${suffix()}@example.com`;
      expect(codeOf(await invite(server, b!.auth, orgs[1]!.id, unknown, 'VIEWER'))).toBe('NOT_FOUND');
      expect(codeOf(await invite(server, b!.auth, orgs[1]!.id, unknown, 'VIEWER'))).toBe('NOT_FOUND');
      expect(codeOf(await invite(server, b!.auth, orgs[1]!.id, unknown.toUpperCase(), 'VIEWER'))).toBe('RATE_LIMITED');
      expect(codeOf(await invite(server, a!.auth, orgs[0]!.id, unknown, 'VIEWER'))).toBe('NOT_FOUND');
    } finally {
      await server.close();
    }
  });

  it('a service user made by a service user counts against the person who made the first', async () => {
    const server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0', ADD_MEMBER_RATE_LIMIT: '2' });
    try {
      const [owner, first, second] = await Promise.all(['owner', 'first', 'second'].map((name) => signUp(server, name)));
      const org = await createOrganization(server, owner!);
      const bot = await createServiceUser(server, owner!, org.id, 'ADMIN');
      const botToken = bearer((await createToken(server, owner!.auth, { organizationId: org.id, serviceUserId: bot })).secret);
      const made = dataOf(
        await server.gql(
          `mutation ($input: CreateServiceUserInput!) { createServiceUser(input: $input) { serviceUser { id createdBy { id } } } }`,
          { input: { organizationId: org.id, name: `bot-${suffix()}`, role: 'ADMIN' } },
          botToken,
        ),
      ).createServiceUser.serviceUser;
      expect(made.createdBy).toEqual({ id: owner!.id });
      const grandchild = bearer((await createToken(server, botToken, { organizationId: org.id, serviceUserId: made.id })).secret);
      dataOf(await invite(server, owner!.auth, org.id, first!.email, 'VIEWER'));
      dataOf(await invite(server, grandchild, org.id, second!.email, 'VIEWER'));
      expect(codeOf(await invite(server, botToken, org.id, `nobody-${suffix()}@example.com`, 'VIEWER'))).toBe('RATE_LIMITED');
    } finally {
      await server.close();
    }
  });

  it('service users count against the account that made them', async () => {
    const server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0', ADD_MEMBER_RATE_LIMIT: '3' });
    try {
      const [owner, first, second, third] = await Promise.all(['owner', 'first', 'second', 'third'].map((name) => signUp(server, name)));
      const org = await createOrganization(server, owner!);
      // Service user and its token made before any invitation: their creation spends nothing of the budget.
      const bot = await createServiceUser(server, owner!, org.id, 'ADMIN');
      const token = bearer((await createToken(server, owner!.auth, { organizationId: org.id, serviceUserId: bot })).secret);
      dataOf(await invite(server, owner!.auth, org.id, first!.email, 'VIEWER'));
      expect(codeOf(await invite(server, owner!.auth, org.id, `nobody-${suffix()}@example.com`, 'VIEWER'))).toBe('NOT_FOUND');
      dataOf(await invite(server, token, org.id, second!.email, 'VIEWER'));
      const limited = await refusedWithoutChange(server, () => invite(server, token, org.id, third!.email, 'VIEWER'), 'RATE_LIMITED');
      expect(limited.extensions?.retryAfter).toBeGreaterThan(0);
      expect(await membershipRow(server, org.id, third!.id)).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('the invitation notice (logged without SMTP_URL) carries no format character of the organization’s name', async () => {
    const server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' });
    try {
      const [owner, invitee] = await Promise.all([signUp(server, 'owner'), signUp(server, 'invitee')]);
      const org = await createOrganization(server, owner, 'Acme\u202Eevil\u200B\u2066');
      const [{ name }] = await server.app.dataSource.query(`SELECT name FROM organizations WHERE id = $1`, [org.id]);
      expect(name).toMatch(/\p{Cf}/u);
      dataOf(await invite(server, owner.auth, org.id, invitee.email, 'VIEWER'));
      const notices = server.logs.filter((line) => line.includes(invitee.id) && line.includes('Invitation to the organization'));
      expect(notices.length).toBeGreaterThan(0);
      for (const line of notices) {
        expect(line).toContain('Acme');
        expect(line).not.toMatch(/\p{Cf}/u);
      }
    } finally {
      await server.close();
    }
  });
});
