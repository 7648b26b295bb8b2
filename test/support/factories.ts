import { randomBytes } from 'node:crypto';
import { dataOf, onlyError, type GraphQLResponse, type TestServer } from './server';

export const PASSWORD = 'correct horse battery staple';

export type TestUser = { id: string; email: string; userKey: string; auth: Record<string, string> };

export async function signUp(server: TestServer, name = 'user'): Promise<TestUser> {
  const email = `${name}-${randomBytes(4).toString('hex')}@example.com`;
  const data = dataOf(
    await server.gql(
      `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id email } userKey } }`,
      { input: { email, password: PASSWORD, name } },
    ),
  );
  const userKey: string = data.signUp.userKey;
  return { id: data.signUp.user.id, email, userKey, auth: { authorization: `Token ${userKey}` } };
}

export async function createOrganization(server: TestServer, owner: TestUser, name = 'Acme'): Promise<{ id: string; slug: string }> {
  const data = dataOf(
    await server.gql(
      `mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id slug } } }`,
      { input: { name: `${name} ${randomBytes(3).toString('hex')}` } },
      owner.auth,
    ),
  );
  return data.createOrganization.organization;
}

/** Invites `member` and accepts with their own credential: a member who has said yes. */
export async function addMember(server: TestServer, by: TestUser, organizationId: string, member: TestUser, role: string): Promise<void> {
  dataOf(
    await server.gql(
      `mutation ($input: AddMemberInput!) { addMember(input: $input) { membership { id } } }`,
      { input: { organizationId, email: member.email, role } },
      by.auth,
    ),
  );
  await acceptMembership(server, member, organizationId);
}

export async function acceptMembership(server: TestServer, member: TestUser, organizationId: string): Promise<void> {
  dataOf(
    await server.gql(
      `mutation ($input: AcceptMembershipInput!) { acceptMembership(input: $input) { membership { status } } }`,
      { input: { organizationId } },
      member.auth,
    ),
  );
}

/** Row counts of every table, to show that a refused request changed nothing. */
export async function tableCounts(server: TestServer): Promise<Record<string, number>> {
  const rows: { table_name: string }[] = await server.app.dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('migrations', 'rate_limits') ORDER BY table_name`,
  );
  const counts: Record<string, number> = {};
  for (const { table_name } of rows) {
    const [{ count }] = await server.app.dataSource.query(`SELECT count(*)::int AS count FROM "${table_name}"`);
    counts[table_name] = count;
  }
  return counts;
}

export type Team = { org: { id: string; slug: string }; owner: TestUser; admin: TestUser; member: TestUser; viewer: TestUser; outsider: TestUser };

/** An organization with one user per role, and a user who belongs to none. */
export async function createTeam(server: TestServer): Promise<Team> {
  const [owner, admin, member, viewer, outsider] = await Promise.all(['owner', 'admin', 'member', 'viewer', 'outsider'].map((name) => signUp(server, name)));
  const org = await createOrganization(server, owner!);
  await addMember(server, owner!, org.id, admin!, 'ADMIN');
  await addMember(server, owner!, org.id, member!, 'MEMBER');
  await addMember(server, owner!, org.id, viewer!, 'VIEWER');
  return { org, owner: owner!, admin: admin!, member: member!, viewer: viewer!, outsider: outsider! };
}

/** Runs `request`, expects exactly one error with `code`, and that no table gained or lost a row. */
export async function refusedWithoutChange(server: TestServer, request: () => Promise<GraphQLResponse>, code: string) {
  const before = await tableCounts(server);
  const error = onlyError(await request());
  expect(error.extensions?.code).toBe(code);
  expect(await tableCounts(server)).toEqual(before);
  return error;
}
