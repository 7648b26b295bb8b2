import { addMember, createOrganization, signUp } from './support/factories';
import { dataOf, startTestServer, type TestServer } from './support/server';
import { startSmtp } from './support/smtp';

describe('token expiry notifications', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let server: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    smtp = await startSmtp();
    const env = { SMTP_URL: smtp.url, SMTP_FROM: 'idgraph <tokens@example.com>', EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' };
    server = await startTestServer(env);
    second = await startTestServer(env, server.databaseUrl);
  });
  afterAll(async () => {
    await second.close();
    await server.close();
    await smtp.close();
  });

  it('mails each expiring token once, to its owner and the admins, even with two instances running the job', async () => {
    const [owner, admin, member, viewer] = await Promise.all(['owner', 'admin', 'member', 'viewer'].map((name) => signUp(server, name)));
    const org = await createOrganization(server, owner!);
    await addMember(server, owner!, org.id, admin!, 'ADMIN');
    await addMember(server, owner!, org.id, member!, 'MEMBER');
    await addMember(server, owner!, org.id, viewer!, 'VIEWER');
    dataOf(
      await server.gql(
        `mutation ($input: SetTokenExpirationPolicyInput!) { setTokenExpirationPolicy(input: $input) { policy { notifyDaysBeforeExpiry } } }`,
        { input: { organizationId: org.id, requireExpiration: true, maxLifetimeDays: 90, notifyDaysBeforeExpiry: 7 } },
        owner!.auth,
      ),
    );
    const create = (name: string, days: number, extra: Record<string, unknown> = {}) =>
      server.gql(
        `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id } } }`,
        { input: { organizationId: org.id, name, expiresAt: new Date(Date.now() + days * 86_400_000).toISOString(), ...extra } },
        member!.auth,
      );
    const soon = dataOf(await create('soon', 3)).createApiToken.apiToken;
    dataOf(await create('later', 30));

    const claimed = await Promise.all([server.app.notifier.runOnce(), second.app.notifier.runOnce(), server.app.notifier.runOnce()]);
    expect(claimed.reduce((sum, n) => sum + n, 0)).toBe(1);
    expect(await second.app.notifier.runOnce()).toBe(0);

    // The members' invitations went through the same SMTP server.
    const notices = smtp.mails.filter((sent) => !sent.data.includes('invited you to join'));
    expect(notices).toHaveLength(1);
    const [mail] = notices;
    expect(mail!.from).toBe('tokens@example.com');
    expect(mail!.to.sort()).toEqual([owner!.email, admin!.email, member!.email].sort());
    expect(mail!.data).toContain('"soon"');
    expect(mail!.data).not.toContain(viewer!.email);

    const [row] = await server.app.dataSource.query(`SELECT "sentAt", recipients FROM token_expiry_notifications WHERE "apiTokenId" = $1`, [soon.id]);
    expect(row.sentAt).not.toBeNull();
    expect(row.recipients.sort()).toEqual(mail!.to.sort());
  });
});

describe('token expiry notifications without SMTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0' });
  });
  afterAll(() => server.close());

  it('records the notice once and logs it, without the recipients’ addresses', async () => {
    const owner = await signUp(server, 'owner');
    const org = await createOrganization(server, owner);
    dataOf(
      await server.gql(
        `mutation ($input: SetTokenExpirationPolicyInput!) { setTokenExpirationPolicy(input: $input) { policy { notifyDaysBeforeExpiry } } }`,
        { input: { organizationId: org.id, requireExpiration: false, notifyDaysBeforeExpiry: 2 } },
        owner.auth,
      ),
    );
    const token = dataOf(
      await server.gql(
        `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { apiToken { id } } }`,
        { input: { organizationId: org.id, name: 'soon', expiresAt: new Date(Date.now() + 86_400_000).toISOString() } },
        owner.auth,
      ),
    ).createApiToken.apiToken;
    expect(await server.app.notifier.runOnce()).toBe(1);
    expect(await server.app.notifier.runOnce()).toBe(0);
    const rows = await server.app.dataSource.query(`SELECT "sentAt", recipients FROM token_expiry_notifications WHERE "apiTokenId" = $1`, [token.id]);
    expect(rows).toEqual([{ sentAt: null, recipients: [owner.email] }]);
    const line = server.logs.find((entry) => entry.includes('token expiry notice recorded'));
    expect(line).toContain(token.id);
    expect(line).not.toContain(owner.email);
  });
});
