import { composeServices } from '@apollo/composition';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createSchema } from '../src/schema';
import { addMember, createOrganization, signUp, type TestUser } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

/** A second subgraph, written for the test: courses whose author is an idgraph User, and User extended with courses. */
const COURSES_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Course @key(fields: "id") { id: ID! title: String! author: User! }
  type User @key(fields: "id") { id: ID! courses: [Course!]! }
  type Query { course(id: ID!): Course courses: [Course!]! }
`;

function coursesSchema(authorId: () => string) {
  const course = () => ({ id: 'c1', title: 'Identity 101', author: { __typename: 'User', id: authorId() } });
  return buildSubgraphSchema([
    {
      typeDefs: parse(COURSES_SDL),
      resolvers: {
        Query: { course: () => course(), courses: () => [course()] },
        User: { courses: (user: { id: string }) => (user.id === authorId() ? [course()] : []) },
      } as any,
    },
  ]);
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ TOKEN_RATE_LIMIT: '1000' });
});
afterAll(() => server.close());

describe('composition', () => {
  it("composes idgraph's SDL with another subgraph without errors or hints of consequence", async () => {
    const { sdl } = await createSchema();
    const result = composeServices([
      { name: 'idgraph', typeDefs: parse(sdl), url: 'http://idgraph' },
      { name: 'courses', typeDefs: parse(COURSES_SDL), url: 'http://courses' },
    ]);
    expect(result.errors).toBeUndefined();
    expect((result.hints ?? []).map((hint) => `${hint.definition.code}: ${hint.message}`)).toEqual([]);
    expect(result.supergraphSdl).toContain('join__type(graph: IDGRAPH, key: "id")');
  });
});

describe('_entities', () => {
  const ENTITIES = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id email } ... on Organization { id name } } }`;

  it('resolves a hundred representations with the same statements as one, and hides what root fields hide', async () => {
    const owner = await signUp(server, 'fed-owner');
    const org = await createOrganization(server, owner);
    const members: TestUser[] = [];
    for (let i = 0; i < 99; i += 1) {
      const member = await signUp(server, `fed-${i}`);
      await addMember(server, owner, org.id, member, 'VIEWER');
      members.push(member);
    }
    const stranger = await signUp(server, 'stranger');
    const count = async (representations: unknown[]) => {
      const before = server.app.queries.count;
      const data = dataOf(await server.gql(ENTITIES, { representations }, owner.auth));
      return { statements: server.app.queries.count - before, entities: data._entities };
    };
    const users = (list: TestUser[]) => list.map((user) => ({ __typename: 'User', id: user.id }));
    const one = await count(users([members[0]!]));
    const hundred = await count(users([owner, ...members]));
    console.log(`_entities statements: 1 User -> ${one.statements}, 100 Users -> ${hundred.statements}`);
    expect(hundred.entities).toHaveLength(100);
    expect(hundred.entities.every((entity: any) => entity?.email)).toBe(true);
    expect(hundred.statements).toBe(one.statements);

    const hidden = await count([{ __typename: 'User', id: stranger.id }, { __typename: 'Organization', id: (await createOrganization(server, stranger)).id }, { __typename: 'Organization', id: org.id }]);
    expect(hidden.entities).toEqual([null, null, { id: org.id, name: expect.any(String) }]);
    // A hundred sign-ups hash a hundred passwords (argon2id): minutes on a busy 2-core machine, not 30 s.
  }, 180_000);

  it('refuses an anonymous caller', async () => {
    const response = await server.gql(`query { _entities(representations: [{ __typename: "Organization", id: "00000000-0000-4000-8000-000000000000" }]) { ... on Organization { id } } }`);
    expect(response.status).toBe(401);
    expect(onlyError(response)).toMatchObject({ message: 'authentication required: missing credentials', extensions: { code: 'UNAUTHENTICATED' } });
  });
});

describe('through an Apollo Gateway in front of idgraph and a courses subgraph', () => {
  let author: TestUser;
  let orgName: string;
  let courses: { url: string; stop: () => Promise<void> };
  let gateway: { url: string; stop: () => Promise<void> };

  beforeAll(async () => {
    author = await signUp(server, 'author');
    const org = await createOrganization(server, author, 'Academy');
    orgName = dataOf(await server.gql(`query ($id: ID!) { organization(id: $id) { name } }`, { id: org.id }, author.auth)).organization.name;

    const coursesServer = new ApolloServer({ schema: coursesSchema(() => author.id) });
    const { url: coursesUrl } = await startStandaloneServer(coursesServer, { listen: { port: 0, host: '127.0.0.1' } });
    courses = { url: coursesUrl, stop: () => coursesServer.stop() };

    const apolloGateway = new ApolloGateway({
      supergraphSdl: new IntrospectAndCompose({
        subgraphs: [
          { name: 'idgraph', url: `${server.url}/graphql` },
          { name: 'courses', url: coursesUrl },
        ],
      }),
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource({
          url,
          willSendRequest({ request, context }) {
            const authorization = (context as { authorization?: string }).authorization;
            if (authorization) request.http?.headers.set('authorization', authorization);
          },
        }),
    });
    const gatewayServer = new ApolloServer({ gateway: apolloGateway });
    const { url } = await startStandaloneServer(gatewayServer, {
      listen: { port: 0, host: '127.0.0.1' },
      context: async ({ req }) => ({ authorization: req.headers.authorization }),
    });
    gateway = { url, stop: () => gatewayServer.stop() };
  });
  afterAll(async () => {
    await gateway.stop();
    await courses.stop();
  });

  const CROSSING = `{ course(id: "c1") { title author { id name email courses { title } memberships { role organization { name } } } } }`;

  async function viaGateway(authorization?: string) {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query: CROSSING }),
    });
    return (await response.json()) as { data?: any; errors?: any[] };
  }

  it.each(['user key', 'API token', 'access token'])('crosses both subgraphs with a %s', async (kind) => {
    let authorization = `Token ${author.userKey}`;
    if (kind === 'API token') {
      const { id } = dataOf(await server.gql(`{ me { memberships { organization { id } } } }`, {}, author.auth)).me.memberships[0].organization;
      authorization = `Bearer ${dataOf(await server.gql(`mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`, { input: { organizationId: id, name: 'gw' } }, author.auth)).createApiToken.token}`;
    } else if (kind === 'access token') {
      const refresh = dataOf(await server.gql(`mutation { createPersonalAccessToken(input: { name: "gw" }) { refresh } }`, {}, author.auth)).createPersonalAccessToken.refresh;
      authorization = `Bearer ${dataOf(await server.gql(`mutation ($refresh: String!) { refreshAccessToken(input: { refresh: $refresh }) { access } }`, { refresh })).refreshAccessToken.access}`;
    }
    const body = await viaGateway(authorization);
    expect(body.errors).toBeUndefined();
    expect(body.data.course).toEqual({
      title: 'Identity 101',
      author: { id: author.id, name: 'author', email: author.email, courses: [{ title: 'Identity 101' }], memberships: [{ role: 'OWNER', organization: { name: orgName } }] },
    });
  });

  it('refuses the identity part without credentials', async () => {
    const body = await viaGateway();
    expect(body.data?.course?.author ?? null).toBeNull();
    expect(body.errors?.map((error) => error.extensions?.code)).toContain('UNAUTHENTICATED');
  });

  it('passes on the error code of a bad credential', async () => {
    const body = await viaGateway('Token 0000000000000000000000000000000000000000');
    expect(body.data?.course?.author ?? null).toBeNull();
    expect(JSON.stringify(body.errors)).toContain('UNAUTHENTICATED');
  });
});
