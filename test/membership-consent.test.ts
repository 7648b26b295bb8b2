import { randomBytes } from 'node:crypto';
import { accessTokenOf, bearer } from './support/ceiling';
import { createOrganization, PASSWORD, refusedWithoutChange, signUp, tableCounts, type TestUser } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';
import { startSmtp } from './support/smtp';

/** Membership with consent (issue 9): addMember invites; the person accepts or declines; an invitation grants nothing. */

const ADD_MEMBER = `mutation ($input: AddMemberInput!) {
  addMember(input: $input) { membership { id role status user { id } organization { id } } }
}`;
const ACCEPT = `mutation ($input: AcceptMembershipInput!) {
  acceptMembership(input: $input) { membership { id role status organization { id name } } }
}`;
const DECLINE = `mutation ($input: DeclineMembershipInput!) { declineMembership(input: $input) { ok } }`;
const MEMBERS = `query ($id: ID!) { organization(id: $id) { members(first: 100) { totalCount edges { node { role status user { id } } } } } }`;
const ORGANIZATION = `query ($id: ID!) { organization(id: $id) { id viewerRole } }`;
const MY_MEMBERSHIPS = `{ me { memberships { status role organization { id name } } } }`;
const CREATE_TOKEN = `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`;
const UPDATE_ROLE = `mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { membership { role } } }`;
const REMOVE_MEMBER = `mutation ($input: RemoveMemberInput!) { removeMember(input: $input) { removedUserId } }`;
const INTROSPECT = `query ($token: String!) { introspectToken(token: $token) { active subject } }`;
const SET_POLICY = `mutation ($input: SetTokenExpirationPolicyInput!) {
  setTokenExpirationPolicy(input: $input) { policy { notifyDaysBeforeExpiry } }
}`;
const LOG_IN = `mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }`;
/** Every field of an Organization beyond its id, name, slug and creation date. */
const INSIDE_AN_ORGANIZATION = [
  'members { totalCount edges { node { role user { email } } } }',
  'serviceUsers { totalCount edges { node { name } } }',
  'apiTokens { totalCount edges { node { name } } }',
  'auditEvents { totalCount edges { node { eventType } } }',
  'tokenExpirationPolicy { requireExpiration }',
];
const NIL_UUID = '00000000-0000-4000-8000-000000000000';

const invite = (server: TestServer, by: Record<string, string>, organizationId: string, email: string, role: string) =>
  server.gql(ADD_MEMBER, { input: { organizationId, email, role } }, by);

async function membershipRow(server: TestServer, organizationId: string, userId: string): Promise<{ role: string; status: string } | undefined> {
  const [row] = await server.app.dataSource.query(`SELECT role, status FROM memberships WHERE "organizationId" = $1 AND "userId" = $2`, [
    organizationId,
    userId,
  ]);
  return row;
}

async function organizationName(server: TestServer, id: string): Promise<string> {
  const [row] = await server.app.dataSource.query(`SELECT name FROM organizations WHERE id = $1`, [id]);
  return row.name;
}

/** An organization with its OWNER, and a person invited to it (not yet accepted). */
async function invitation(server: TestServer, role = 'ADMIN'): Promise<{ owner: TestUser; invitee: TestUser; org: { id: string; name: string } }> {
  const [owner, invitee] = await Promise.all([signUp(server, 'owner'), signUp(server, 'invitee')]);
  const org = await createOrganization(server, owner!);
  dataOf(await invite(server, owner!.auth, org.id, invitee!.email, role));
  return { owner: owner!, invitee: invitee!, org: { id: org.id, name: await organizationName(server, org.id) } };
}

describe('invitations', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' });
  });
  afterAll(() => server.close());

  it('addMember invites: INVITED in the payload and among the members; the creator is the ACTIVE OWNER at once', async () => {
    const [owner, invitee] = await Promise.all([signUp(server, 'owner'), signUp(server, 'invitee')]);
    const org = await createOrganization(server, owner!);
    const added = dataOf(await invite(server, owner!.auth, org.id, invitee!.email, 'ADMIN')).addMember.membership;
    expect(added).toMatchObject({ role: 'ADMIN', status: 'INVITED', user: { id: invitee!.id }, organization: { id: org.id } });
    expect(await membershipRow(server, org.id, invitee!.id)).toEqual({ role: 'ADMIN', status: 'INVITED' });

    const members = dataOf(await server.gql(MEMBERS, { id: org.id }, owner!.auth)).organization.members;
    expect(members.totalCount).toBe(2);
    const byUser = Object.fromEntries(members.edges.map((edge: any) => [edge.node.user.id, { role: edge.node.role, status: edge.node.status }]));
    expect(byUser).toEqual({ [owner!.id]: { role: 'OWNER', status: 'ACTIVE' }, [invitee!.id]: { role: 'ADMIN', status: 'INVITED' } });
    expect(dataOf(await server.gql(MY_MEMBERSHIPS, {}, owner!.auth)).me.memberships).toEqual([
      { status: 'ACTIVE', role: 'OWNER', organization: { id: org.id, name: await organizationName(server, org.id) } },
    ]);
  });

  it('an invitation grants nothing: the organization is NOT_FOUND, no token can be made for it, nothing can be done in it', async () => {
    const { org, invitee } = await invitation(server, 'OWNER');
    expect(onlyError(await server.gql(ORGANIZATION, { id: org.id }, invitee.auth))).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    await refusedWithoutChange(
      server,
      () => server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'early' } }, invitee.auth),
      'NOT_FOUND',
    );
    const stranger = await signUp(server, 'stranger');
    await refusedWithoutChange(server, () => invite(server, invitee.auth, org.id, stranger.email, 'VIEWER'), 'NOT_FOUND');
    expect(await membershipRow(server, org.id, stranger.id)).toBeUndefined();
  });

  it('me.memberships shows one’s own invitation with the organization’s name', async () => {
    const { org, invitee } = await invitation(server, 'MEMBER');
    expect(dataOf(await server.gql(MY_MEMBERSHIPS, {}, invitee.auth)).me.memberships).toEqual([
      { status: 'INVITED', role: 'MEMBER', organization: org },
    ]);
  });

  it('an invitation names the organization and shows nothing else of it', async () => {
    const { org, owner, invitee } = await invitation(server, 'ADMIN');
    dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'owners-secret-token' } }, owner.auth));
    for (const field of INSIDE_AN_ORGANIZATION) {
      const response = await server.gql(`{ me { memberships { organization { id name ${field} } } } }`, {}, invitee.auth);
      const codes = (response.body.errors ?? []).map((error) => error.extensions?.code);
      expect([field, codes.length > 0 && codes.every((code) => code === 'NOT_FOUND' || code === 'FORBIDDEN')]).toEqual([field, true]);
      expect(JSON.stringify(response.body)).not.toContain(owner.email);
      expect(JSON.stringify(response.body)).not.toContain('owners-secret-token');
    }
    // The caller's own standing there is none yet: null, which keeps the rest of `me` readable.
    const standing = await server.gql(`{ me { id memberships { status organization { id viewerRole viewerRights { members { read } } } } } }`, {}, invitee.auth);
    expect(standing.body.errors).toBeUndefined();
    expect(dataOf(standing).me.memberships).toEqual([{ status: 'INVITED', organization: { id: org.id, viewerRole: null, viewerRights: null } }]);
  });

  it('an INVITED OWNER does not count as an OWNER: the last ACTIVE OWNER stays until the invitation is accepted', async () => {
    const { org, owner, invitee } = await invitation(server, 'OWNER');
    const leave = () => server.gql(REMOVE_MEMBER, { input: { organizationId: org.id, userId: owner.id } }, owner.auth);
    const demote = () => server.gql(UPDATE_ROLE, { input: { organizationId: org.id, userId: owner.id, role: 'ADMIN' } }, owner.auth);
    for (const attempt of [leave, demote]) {
      expect((await refusedWithoutChange(server, attempt, 'FORBIDDEN')).message).toBe('an organization must keep at least one OWNER');
    }
    dataOf(await server.gql(ACCEPT, { input: { organizationId: org.id } }, invitee.auth));
    expect(dataOf(await leave()).removeMember.removedUserId).toBe(owner.id);
    expect(dataOf(await server.gql(ORGANIZATION, { id: org.id }, invitee.auth)).organization.viewerRole).toBe('OWNER');
  });

  it('introspection counts no invitation, by the invitee or about them, until it is accepted', async () => {
    const { org, owner, invitee } = await invitation(server, 'ADMIN');
    const token = dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'svc' } }, owner.auth)).createApiToken.token;

    // Invited as ADMIN (a role with introspection.read), the invitee may not introspect anything of the organization.
    const refused = onlyError(await server.gql(INTROSPECT, { token }, invitee.auth));
    expect(refused.extensions).toMatchObject({ code: 'FORBIDDEN', right: 'introspection.read' });
    await createOrganization(server, invitee, 'Own');
    expect(dataOf(await server.gql(INTROSPECT, { token }, invitee.auth)).introspectToken).toEqual({ active: false, subject: null });
    // Nor does the inviter learn about the invitee's credentials.
    expect(dataOf(await server.gql(INTROSPECT, { token: invitee.userKey }, owner.auth)).introspectToken).toEqual({ active: false, subject: null });

    dataOf(await server.gql(ACCEPT, { input: { organizationId: org.id } }, invitee.auth));
    expect(dataOf(await server.gql(INTROSPECT, { token }, invitee.auth)).introspectToken).toEqual({ active: true, subject: owner.id });
    expect(dataOf(await server.gql(INTROSPECT, { token: invitee.userKey }, owner.auth)).introspectToken).toEqual({
      active: true,
      subject: invitee.id,
    });
  });

  it('acceptMembership, with an access token, makes the membership ACTIVE with the role it was offered', async () => {
    const { org, invitee } = await invitation(server, 'MEMBER');
    const access = await accessTokenOf(server, invitee.auth);
    const accepted = dataOf(await server.gql(ACCEPT, { input: { organizationId: org.id } }, bearer(access))).acceptMembership.membership;
    expect(accepted).toMatchObject({ role: 'MEMBER', status: 'ACTIVE', organization: org });
    expect(await membershipRow(server, org.id, invitee.id)).toEqual({ role: 'MEMBER', status: 'ACTIVE' });
    expect(dataOf(await server.gql(ORGANIZATION, { id: org.id }, invitee.auth)).organization.viewerRole).toBe('MEMBER');
    expect(dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'now' } }, invitee.auth)).createApiToken.token).toMatch(
      /^idg_/,
    );
    expect(dataOf(await server.gql(MY_MEMBERSHIPS, {}, invitee.auth)).me.memberships).toEqual([
      { status: 'ACTIVE', role: 'MEMBER', organization: org },
    ]);
  });

  it('declineMembership, with a session, removes the invitation; the person can be invited again', async () => {
    const { org, owner, invitee } = await invitation(server, 'VIEWER');
    const logIn = await server.gql(LOG_IN, { input: { email: invitee.email, password: PASSWORD } });
    dataOf(logIn);
    const cookie = (logIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(dataOf(await server.gql(DECLINE, { input: { organizationId: org.id } }, { cookie })).declineMembership).toEqual({ ok: true });
    expect(await membershipRow(server, org.id, invitee.id)).toBeUndefined();
    const members = dataOf(await server.gql(MEMBERS, { id: org.id }, owner.auth)).organization.members;
    expect(members.edges.map((edge: any) => edge.node.user.id)).toEqual([owner.id]);
    expect(dataOf(await server.gql(MY_MEMBERSHIPS, {}, invitee.auth)).me.memberships).toEqual([]);
    expect(onlyError(await server.gql(ORGANIZATION, { id: org.id }, invitee.auth)).extensions?.code).toBe('NOT_FOUND');

    // Nothing left to accept or decline.
    for (const mutation of [ACCEPT, DECLINE]) {
      await refusedWithoutChange(server, () => server.gql(mutation, { input: { organizationId: org.id } }, invitee.auth), 'NOT_FOUND');
    }
    expect(dataOf(await invite(server, owner.auth, org.id, invitee.email, 'VIEWER')).addMember.membership.status).toBe('INVITED');
  });

  it('no invitation is NOT_FOUND; an org-scoped token cannot accept; nobody accepts or declines for someone else', async () => {
    const { org, owner, invitee } = await invitation(server, 'ADMIN');
    await refusedWithoutChange(server, () => server.gql(ACCEPT, { input: { organizationId: NIL_UUID } }, invitee.auth), 'NOT_FOUND');
    await refusedWithoutChange(server, () => server.gql(DECLINE, { input: { organizationId: NIL_UUID } }, invitee.auth), 'NOT_FOUND');
    const other = await createOrganization(server, invitee, 'Mine');
    const token = dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId: other.id, name: 'scoped' } }, invitee.auth)).createApiToken.token;
    for (const mutation of [ACCEPT, DECLINE]) {
      await refusedWithoutChange(server, () => server.gql(mutation, { input: { organizationId: org.id } }, bearer(token)), 'FORBIDDEN');
      const anonymous = await server.gql(mutation, { input: { organizationId: org.id } });
      expect(anonymous.status).toBe(401);
      expect(onlyError(anonymous).extensions?.code).toBe('UNAUTHENTICATED');
    }
    // The OWNER asking about the organization answers for their own ACTIVE membership, never for the invitation:
    // accepting it again changes nothing, and an ACTIVE membership is no invitation to decline.
    const counts = await tableCounts(server);
    const again = dataOf(await server.gql(ACCEPT, { input: { organizationId: org.id } }, owner.auth)).acceptMembership.membership;
    expect(again).toMatchObject({ role: 'OWNER', status: 'ACTIVE', organization: org });
    expect(await tableCounts(server)).toEqual(counts);
    await refusedWithoutChange(server, () => server.gql(DECLINE, { input: { organizationId: org.id } }, owner.auth), 'NOT_FOUND');
    expect(await membershipRow(server, org.id, owner.id)).toEqual({ role: 'OWNER', status: 'ACTIVE' });
    expect(await membershipRow(server, org.id, invitee.id)).toEqual({ role: 'ADMIN', status: 'INVITED' });
  });

  it('expiry notices go to no invitee, and to them once they accept', async () => {
    const { org, owner, invitee } = await invitation(server, 'ADMIN');
    dataOf(await server.gql(SET_POLICY, { input: { organizationId: org.id, requireExpiration: false, notifyDaysBeforeExpiry: 7 } }, owner.auth));
    const expiring = async (name: string) =>
      dataOf(
        await server.gql(
          CREATE_TOKEN,
          { input: { organizationId: org.id, name, expiresAt: new Date(Date.now() + 86_400_000).toISOString() } },
          owner.auth,
        ),
      ).createApiToken.apiToken.id as string;
    const recipients = async (id: string) =>
      (await server.app.dataSource.query(`SELECT recipients FROM token_expiry_notifications WHERE "apiTokenId" = $1`, [id])).map((row: any) =>
        row.recipients.sort(),
      );

    const before = await expiring('before');
    await server.app.notifier.runOnce();
    expect(await recipients(before)).toEqual([[owner.email]]);
    dataOf(await server.gql(ACCEPT, { input: { organizationId: org.id } }, invitee.auth));
    const after = await expiring('after');
    await server.app.notifier.runOnce();
    expect(await recipients(after)).toEqual([[owner.email, invitee.email].sort()]);
  });

  it('without SMTP_URL the invitation notice is logged at info', async () => {
    const [owner, invitee] = await Promise.all([signUp(server, 'owner'), signUp(server, 'invitee')]);
    const org = await createOrganization(server, owner!);
    const from = server.logs.length;
    const membership = dataOf(await invite(server, owner!.auth, org.id, invitee!.email, 'MEMBER')).addMember.membership;
    const line = server.logs.slice(from).find((entry) => /invit/i.test(entry) && entry.includes(org.id));
    expect(line).toBeDefined();
    expect(JSON.parse(line!).level).toBe(30);
    expect(membership.status).toBe('INVITED');
  });
});

describe('addMember rate limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ADD_MEMBER_RATE_LIMIT: '3' });
  });
  afterAll(() => server.close());

  const unknown = () => `nobody-${randomBytes(4).toString('hex')}@example.com`;

  it('every attempt counts, an unknown address too; past the limit, RATE_LIMITED with retryAfter for every credential of the principal', async () => {
    const [owner, a, b, c] = await Promise.all(['owner', 'a', 'b', 'c'].map((name) => signUp(server, name)));
    const org = await createOrganization(server, owner!);
    const token = dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId: org.id, name: 'admin' } }, owner!.auth)).createApiToken.token;
    expect(dataOf(await invite(server, owner!.auth, org.id, a!.email, 'MEMBER')).addMember.membership.status).toBe('INVITED');
    expect(onlyError(await invite(server, owner!.auth, org.id, unknown(), 'MEMBER')).extensions?.code).toBe('NOT_FOUND');
    expect(dataOf(await invite(server, bearer(token), org.id, b!.email, 'MEMBER')).addMember.membership.status).toBe('INVITED');

    for (const auth of [owner!.auth, bearer(token)]) {
      const limited = await refusedWithoutChange(server, () => invite(server, auth, org.id, c!.email, 'MEMBER'), 'RATE_LIMITED');
      expect(limited.extensions?.retryAfter).toBeGreaterThan(0);
      await refusedWithoutChange(server, () => invite(server, auth, org.id, unknown(), 'MEMBER'), 'RATE_LIMITED');
    }
    expect(await membershipRow(server, org.id, c!.id)).toBeUndefined();

    // Another principal has its own count.
    const [other, d] = await Promise.all([signUp(server, 'other'), signUp(server, 'd')]);
    const otherOrg = await createOrganization(server, other!);
    expect(dataOf(await invite(server, other!.auth, otherOrg.id, d!.email, 'VIEWER')).addMember.membership.status).toBe('INVITED');
  });

  it('probing unknown addresses alone hits the limit', async () => {
    const prober = await signUp(server, 'prober');
    const org = await createOrganization(server, prober);
    const codes: string[] = [];
    for (let i = 0; i < 5; i += 1) codes.push(onlyError(await invite(server, prober.auth, org.id, unknown(), 'VIEWER')).extensions?.code);
    expect(codes).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'RATE_LIMITED', 'RATE_LIMITED']);
  });
});

describe('invitation mail', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let server: TestServer;
  beforeAll(async () => {
    smtp = await startSmtp();
    server = await startTestServer({ SMTP_URL: smtp.url, SMTP_FROM: 'idgraph <members@example.com>', EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' });
  });
  afterAll(async () => {
    await server.close();
    await smtp.close();
  });

  /** The mails sent to `address`, waiting for the first (delivery may finish after the response). */
  async function mailsTo(address: string) {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const found = smtp.mails.filter((mail) => mail.to.includes(address));
      if (found.length > 0) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return [];
  }

  it('mails the invitee a notice naming the organization, to them alone, from SMTP_FROM', async () => {
    const [owner, invitee] = await Promise.all([signUp(server, 'owner'), signUp(server, 'invitee')]);
    const org = await createOrganization(server, owner!, 'Invitingly');
    const name = await organizationName(server, org.id);
    expect(
      onlyError(await invite(server, owner!.auth, org.id, `nobody-${randomBytes(4).toString('hex')}@example.com`, 'VIEWER')).extensions?.code,
    ).toBe('NOT_FOUND');
    dataOf(await invite(server, owner!.auth, org.id, invitee!.email, 'ADMIN'));
    const mails = await mailsTo(invitee!.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ from: 'members@example.com', to: [invitee!.email] });
    const text = mails[0]!.data.replace(/=\r?\n/g, '');
    expect(text).toContain(name);
    expect(smtp.mails).toHaveLength(1);
  });
});
