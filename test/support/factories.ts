import { randomBytes } from 'node:crypto';
import { dataOf, type TestServer } from './server';

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

export async function addMember(server: TestServer, by: TestUser, organizationId: string, member: TestUser, role: string): Promise<void> {
  dataOf(
    await server.gql(
      `mutation ($input: AddMemberInput!) { addMember(input: $input) { membership { id } } }`,
      { input: { organizationId, email: member.email, role } },
      by.auth,
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
