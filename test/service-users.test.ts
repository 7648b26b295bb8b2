import { randomBytes } from 'node:crypto';
import { createTeam, refusedWithoutChange, type TestUser } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const CREATE = `mutation ($input: CreateServiceUserInput!) {
  createServiceUser(input: $input) { serviceUser { id name role createdAt organization { id name } createdBy { id email } } }
}`;
const UPDATE = `mutation ($input: UpdateServiceUserInput!) { updateServiceUser(input: $input) { serviceUser { id name role } } }`;
const DELETE = `mutation ($input: DeleteServiceUserInput!) { deleteServiceUser(input: $input) { deletedServiceUserId } }`;
const NIL_UUID = '00000000-0000-4000-8000-000000000000';




const create = (by: TestUser, organizationId: string, name: string, role: string) => server.gql(CREATE, { input: { organizationId, name, role } }, by.auth);
const update = (by: TestUser, input: Record<string, unknown>) => server.gql(UPDATE, { input }, by.auth);
const remove = (by: TestUser, id: string) => server.gql(DELETE, { input: { id } }, by.auth);

async function bot(by: TestUser, organizationId: string, name: string, role: string): Promise<{ id: string; name: string; role: string }> {
  return dataOf(await create(by, organizationId, name, role)).createServiceUser.serviceUser;
}

async function row(id: string): Promise<{ name: string; role: string; organizationId: string; createdById: string | null } | undefined> {
  const [found] = await server.app.dataSource.query(`SELECT name, role, "organizationId", "createdById" FROM service_users WHERE id = $1`, [id]);
  return found;
}

describe('createServiceUser', () => {
  it('OWNER and ADMIN create service users, with organization and createdBy', async () => {
    const { org, owner, admin } = await createTeam(server);
    const made = dataOf(await create(admin, org.id, 'ci-bot', 'MEMBER')).createServiceUser.serviceUser;
    expect(made).toMatchObject({ name: 'ci-bot', role: 'MEMBER', organization: { id: org.id }, createdBy: { id: admin.id, email: admin.email } });
    expect(await row(made.id)).toEqual({ name: 'ci-bot', role: 'MEMBER', organizationId: org.id, createdById: admin.id });

    const peer = dataOf(await create(admin, org.id, 'admin-bot', 'ADMIN')).createServiceUser.serviceUser;
    expect(peer.role).toBe('ADMIN');
    const owned = dataOf(await create(owner, org.id, '  deployer  ', 'OWNER')).createServiceUser.serviceUser;
    expect(owned).toMatchObject({ name: 'deployer', role: 'OWNER', createdBy: { id: owner.id } });
  });

  it('MEMBER and VIEWER are FORBIDDEN with extensions.right', async () => {
    const { org, member, viewer } = await createTeam(server);
    for (const user of [member, viewer]) {
      const error = await refusedWithoutChange(server, () => create(user, org.id, 'bot', 'VIEWER'), 'FORBIDDEN');
      expect(error.extensions?.right).toBe('serviceUsers.create');
    }
  });

  it('a role above the caller’s own is FORBIDDEN naming role', async () => {
    const { org, admin } = await createTeam(server);
    const error = await refusedWithoutChange(server, () => create(admin, org.id, 'boss-bot', 'OWNER'), 'FORBIDDEN');
    expect(error.message).toBe('role: OWNER holds organization.delete, which your effective rights lack');
  });

  it('a duplicate name in one organization is CONFLICT; the same name in another is fine', async () => {
    const mine = await createTeam(server);
    const theirs = await createTeam(server);
    await bot(mine.admin, mine.org.id, 'twin', 'VIEWER');
    for (const name of ['twin', '  twin ']) {
      const error = await refusedWithoutChange(server, () => create(mine.owner, mine.org.id, name, 'MEMBER'), 'CONFLICT');
      expect(error.message).toMatch(/^name: /);
    }
    expect((await bot(theirs.owner, theirs.org.id, 'twin', 'VIEWER')).name).toBe('twin');
  });

  it.each([
    ['an empty name', ''],
    ['a blank name', '   '],
    ['a name over 100 characters', 'b'.repeat(101)],
  ])('%s is BAD_USER_INPUT naming name', async (_label, name) => {
    const { org, owner } = await createTeam(server);
    const error = await refusedWithoutChange(server, () => create(owner, org.id, name, 'VIEWER'), 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('name');
  });

  it('in an organization the caller is not in, or a malformed id, is NOT_FOUND', async () => {
    const mine = await createTeam(server);
    const theirs = await createTeam(server);
    for (const organizationId of [theirs.org.id, NIL_UUID, 'nope']) {
      expect((await refusedWithoutChange(server, () => create(mine.owner, organizationId, 'intruder', 'VIEWER'), 'NOT_FOUND')).message).toBe('organization not found');
    }
  });
});

describe('updateServiceUser', () => {
  it('renames and changes the role within the caller’s own', async () => {
    const { org, owner, admin } = await createTeam(server);
    const made = await bot(admin, org.id, 'bot', 'VIEWER');
    expect(dataOf(await update(admin, { id: made.id, name: 'robot', role: 'ADMIN' })).updateServiceUser.serviceUser).toEqual({
      id: made.id,
      name: 'robot',
      role: 'ADMIN',
    });
    expect(dataOf(await update(owner, { id: made.id, role: 'OWNER' })).updateServiceUser.serviceUser.role).toBe('OWNER');
    expect(await row(made.id)).toMatchObject({ name: 'robot', role: 'OWNER' });
  });

  it('an ADMIN cannot raise a service user above ADMIN, nor change one that is above them, not even its name', async () => {
    const { org, owner, admin } = await createTeam(server);
    const low = await bot(admin, org.id, 'low-bot', 'MEMBER');
    const high = await bot(owner, org.id, 'root-bot', 'OWNER');
    expect((await refusedWithoutChange(server, () => update(admin, { id: low.id, role: 'OWNER' }), 'FORBIDDEN')).message).toBe(
      'role: OWNER holds organization.delete, which your effective rights lack',
    );
    for (const input of [{ id: high.id, role: 'VIEWER' }, { id: high.id, name: 'renamed-by-admin' }]) {
      expect((await refusedWithoutChange(server, () => update(admin, input), 'FORBIDDEN')).message).toMatch(/^role: /);
    }
    expect(await row(low.id)).toMatchObject({ name: 'low-bot', role: 'MEMBER' });
    expect(await row(high.id)).toMatchObject({ name: 'root-bot', role: 'OWNER' });
    expect(dataOf(await update(owner, { id: high.id, name: 'renamed-by-owner' })).updateServiceUser.serviceUser.name).toBe('renamed-by-owner');
  });

  it('MEMBER is FORBIDDEN; a taken name is CONFLICT; an empty one BAD_USER_INPUT', async () => {
    const { org, owner, member } = await createTeam(server);
    const one = await bot(owner, org.id, 'one', 'VIEWER');
    await bot(owner, org.id, 'two', 'VIEWER');
    expect((await refusedWithoutChange(server, () => update(member, { id: one.id, name: 'mine' }), 'FORBIDDEN')).extensions?.right).toBe('serviceUsers.update');
    expect((await refusedWithoutChange(server, () => update(owner, { id: one.id, name: 'two' }), 'CONFLICT')).message).toMatch(/^name: /);
    expect((await refusedWithoutChange(server, () => update(owner, { id: one.id, name: ' ' }), 'BAD_USER_INPUT')).extensions?.field).toBe('name');
    expect(await row(one.id)).toMatchObject({ name: 'one', role: 'VIEWER' });
  });
});

describe('deleteServiceUser', () => {
  it('deletes the row and, through ON DELETE CASCADE, every token it owned', async () => {
    const { org, owner } = await createTeam(server);
    const made = await bot(owner, org.id, 'token-bot', 'MEMBER');
    await server.app.dataSource.query(
      `INSERT INTO api_tokens ("organizationId", "ownerServiceUserId", name, "tokenPrefix", "secretDigest", rights) VALUES ($1, $2, 'deploy', 'idg_abcdefgh', $3, 0)`,
      [org.id, made.id, randomBytes(32)],
    );
    const issued = dataOf(
      await server.gql(
        `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`,
        { input: { organizationId: org.id, name: 'issued', serviceUserId: made.id } },
        owner.auth,
      ),
    ).createApiToken;
    const bearer = { authorization: `Bearer ${issued.token}` };
    expect(dataOf(await server.gql(`{ viewer { id kind } }`, {}, bearer)).viewer).toEqual({ id: made.id, kind: 'SERVICE_USER' });
    const tokensOf = async () =>
      (await server.app.dataSource.query(`SELECT count(*)::int AS n FROM api_tokens WHERE "ownerServiceUserId" = $1`, [made.id]))[0].n;
    expect(await tokensOf()).toBe(2);

    expect(dataOf(await remove(owner, made.id)).deleteServiceUser.deletedServiceUserId).toBe(made.id);
    expect(await row(made.id)).toBeUndefined();
    expect(await tokensOf()).toBe(0);
    const refused = await server.gql(`{ viewer { id } }`, {}, bearer);
    expect(refused.status).toBe(401);
    expect(onlyError(refused).extensions?.code).toBe('UNAUTHENTICATED');

    // Gone means gone: a second delete is NOT_FOUND.
    expect((await refusedWithoutChange(server, () => remove(owner, made.id), 'NOT_FOUND')).message).toBe('service user not found');
  });

  it('MEMBER is FORBIDDEN, and an ADMIN cannot delete an OWNER service user', async () => {
    const { org, owner, admin, member } = await createTeam(server);
    const low = await bot(owner, org.id, 'low', 'VIEWER');
    const high = await bot(owner, org.id, 'high', 'OWNER');
    expect((await refusedWithoutChange(server, () => remove(member, low.id), 'FORBIDDEN')).extensions?.right).toBe('serviceUsers.delete');
    expect((await refusedWithoutChange(server, () => remove(admin, high.id), 'FORBIDDEN')).message).toBe('role: OWNER holds organization.delete, which your effective rights lack');
    expect(await row(high.id)).toBeDefined();
    expect(dataOf(await remove(admin, low.id)).deleteServiceUser.deletedServiceUserId).toBe(low.id);
  });
});

describe('isolation', () => {
  it("an unknown, malformed or other organization's id is NOT_FOUND for update and delete, and nothing changes", async () => {
    const mine = await createTeam(server);
    const theirs = await createTeam(server);
    const foreign = await bot(theirs.owner, theirs.org.id, 'theirs', 'VIEWER');
    for (const id of [NIL_UUID, 'nope', foreign.id, foreign.id.toUpperCase()]) {
      expect((await refusedWithoutChange(server, () => remove(mine.owner, id), 'NOT_FOUND')).message).toBe('service user not found');
      expect((await refusedWithoutChange(server, () => update(mine.owner, { id, name: 'pwned', role: 'VIEWER' }), 'NOT_FOUND')).message).toBe(
        'service user not found',
      );
    }
    expect(await row(foreign.id)).toMatchObject({ name: 'theirs', role: 'VIEWER', organizationId: theirs.org.id });
  });

  it("another organization's service users are not listed", async () => {
    const mine = await createTeam(server);
    const theirs = await createTeam(server);
    await bot(theirs.owner, theirs.org.id, 'hidden', 'VIEWER');
    const query = `query ($id: ID!) { organization(id: $id) { serviceUsers { totalCount } } }`;
    expect(dataOf(await server.gql(query, { id: mine.org.id }, mine.owner.auth)).organization.serviceUsers.totalCount).toBe(0);
    expect(onlyError(await server.gql(query, { id: theirs.org.id }, mine.owner.auth)).extensions?.code).toBe('NOT_FOUND');
  });
});

describe('Organization.serviceUsers', () => {
  const PAGE = `query ($id: ID!, $first: Int, $after: String) {
    organization(id: $id) {
      serviceUsers(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id name role organization { id } createdBy { id } } }
      }
    }
  }`;

  it('pages through every service user once, oldest first, with organization and createdBy', async () => {
    const { org, owner, admin } = await createTeam(server);
    const made = [];
    for (let i = 0; i < 5; i += 1) made.push(await bot(i % 2 ? admin : owner, org.id, `bot-${i}`, 'VIEWER'));
    const pages: any[] = [];
    let after: string | null = null;
    do {
      const page: any = dataOf(await server.gql(PAGE, { id: org.id, first: 2, after }, admin.auth)).organization.serviceUsers;
      pages.push(page);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(pages.map((page) => page.edges.length)).toEqual([2, 2, 1]);
    expect(pages.map((page) => page.pageInfo.hasNextPage)).toEqual([true, true, false]);
    for (const page of pages) {
      expect(page.totalCount).toBe(5);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
    }
    const nodes = pages.flatMap((page) => page.edges.map((edge: any) => edge.node));
    const listed = await server.app.dataSource.query(`SELECT id FROM service_users WHERE "organizationId" = $1 ORDER BY "createdAt", id`, [org.id]);
    expect(nodes.map((node: any) => node.id)).toEqual(listed.map((found: { id: string }) => found.id));
    expect(nodes.map((node: any) => node.name).sort()).toEqual(made.map((m) => m.name).sort());
    for (const node of nodes) {
      const index = Number(node.name.split('-')[1]);
      expect(node).toMatchObject({ organization: { id: org.id }, createdBy: { id: (index % 2 ? admin : owner).id } });
    }
  });

  it('createdBy is null once the creator’s account is gone; the service user stays', async () => {
    const { org, owner, admin } = await createTeam(server);
    const made = await bot(admin, org.id, 'orphan', 'VIEWER');
    await server.app.dataSource.query(`DELETE FROM users WHERE id = $1`, [admin.id]);
    const node = dataOf(await server.gql(PAGE, { id: org.id }, owner.auth)).organization.serviceUsers.edges[0].node;
    expect(node).toMatchObject({ id: made.id, name: 'orphan', createdBy: null });
  });

  it('is refused to MEMBER (serviceUsers.read) and refuses bad paging arguments', async () => {
    const { org, owner, member } = await createTeam(server);
    expect(onlyError(await server.gql(PAGE, { id: org.id }, member.auth)).extensions).toMatchObject({ code: 'FORBIDDEN', right: 'serviceUsers.read' });
    for (const [args, field] of [
      [{ after: 'garbage' }, 'after'],
      [{ first: 0 }, 'first'],
      [{ first: 101 }, 'first'],
    ] as const) {
      expect(onlyError(await server.gql(PAGE, { id: org.id, ...args }, owner.auth)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });
});

describe('audit log', () => {
  it('records creation, update and deletion with actor, credential and address', async () => {
    const { org, owner, admin } = await createTeam(server);
    const made = await bot(admin, org.id, 'audited', 'VIEWER');
    dataOf(await update(owner, { id: made.id, name: 'audited-2', role: 'MEMBER' }));
    dataOf(await remove(admin, made.id));
    const events = await server.app.dataSource.query(
      `SELECT "eventType", "organizationId", "actorKind", "actorId", "actorCredential", "targetType", "clientAddress", changes
         FROM audit_events WHERE "targetId" = $1 ORDER BY "createdAt", id`,
      [made.id],
    );
    expect(events.map(({ eventType, actorId, changes }: any) => ({ eventType, actorId, changes }))).toEqual([
      { eventType: 'service_user.created', actorId: admin.id, changes: { name: 'audited', role: 'VIEWER' } },
      { eventType: 'service_user.updated', actorId: owner.id, changes: { name: 'audited-2', role: 'MEMBER' } },
      { eventType: 'service_user.deleted', actorId: admin.id, changes: { name: 'audited-2', role: 'MEMBER' } },
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ organizationId: org.id, actorKind: 'USER', actorCredential: 'USER_KEY', targetType: 'service_user' });
      expect(event.clientAddress).toMatch(/127\.0\.0\.1$/);
    }
    const everything = JSON.stringify(events);
    for (const secret of [owner.userKey, admin.userKey]) expect(everything).not.toContain(secret);
  });

  it('a refused change writes no event', async () => {
    const { org, owner, admin } = await createTeam(server);
    const high = await bot(owner, org.id, 'high', 'OWNER');
    await refusedWithoutChange(server, () => update(admin, { id: high.id, name: 'nope' }), 'FORBIDDEN');
    await refusedWithoutChange(server, () => remove(admin, high.id), 'FORBIDDEN');
    const events = await server.app.dataSource.query(`SELECT "eventType" FROM audit_events WHERE "targetId" = $1`, [high.id]);
    expect(events).toEqual([{ eventType: 'service_user.created' }]);
  });
});
