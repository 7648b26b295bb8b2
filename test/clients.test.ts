import { ApolloClient, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { ClientError, GraphQLClient } from 'graphql-request';
import { createOrganization, signUp, type TestUser } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
let user: TestUser;
let organizationId: string;

beforeAll(async () => {
  server = await startTestServer({ TOKEN_RATE_LIMIT: '1000' });
  user = await signUp(server, 'client');
  organizationId = (await createOrganization(server, user)).id;
});
afterAll(() => server.close());

/** The API tokens settings page's operations, as a frontend would write them. */
const TOKEN_FIELDS = gql`
  fragment TokenRow on ApiToken {
    id
    name
    tokenPrefix
    isActive
    revokedAt
    lastUsedAt
  }
`;
const LIST = gql`
  ${TOKEN_FIELDS}
  query ApiTokens($organizationId: ID!) {
    organization(id: $organizationId) {
      id
      apiTokens(first: 50) { totalCount edges { cursor node { ...TokenRow } } pageInfo { hasNextPage endCursor } }
    }
  }
`;
const CREATE = gql`
  ${TOKEN_FIELDS}
  mutation CreateApiToken($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { ...TokenRow } } }
`;
const REGENERATE = gql`
  ${TOKEN_FIELDS}
  mutation RegenerateApiToken($input: RegenerateApiTokenInput!) { regenerateApiToken(input: $input) { token apiToken { ...TokenRow } } }
`;
const REVOKE = gql`
  ${TOKEN_FIELDS}
  mutation RevokeApiToken($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { apiToken { ...TokenRow } } }
`;

describe('Apollo Client (HttpLink, InMemoryCache) on the API tokens settings flow', () => {
  it('lists, creates (the secret once), regenerates and revokes, with the cache normalized by __typename and id', async () => {
    const cache = new InMemoryCache();
    const client = new ApolloClient({ link: new HttpLink({ uri: `${server.url}/graphql`, headers: user.auth }), cache });

    const empty = await client.query<any>({ query: LIST, variables: { organizationId } });
    expect(empty.data!.organization.apiTokens.totalCount).toBe(0);

    const created = await client.mutate<any>({ mutation: CREATE, variables: { input: { organizationId, name: 'deploy' } } });
    const secret = created.data!.createApiToken.token as string;
    const tokenId = created.data!.createApiToken.apiToken.id as string;
    expect(secret).toMatch(/^idg_/);
    expect(cache.identify({ __typename: 'ApiToken', id: tokenId })).toBe(`ApiToken:${tokenId}`);
    expect(cache.extract()[`ApiToken:${tokenId}`]).toMatchObject({ name: 'deploy', isActive: true });

    const listed = await client.query<any>({ query: LIST, variables: { organizationId }, fetchPolicy: 'network-only' });
    expect(listed.data!.organization.apiTokens.edges.map((edge: any) => edge.node.id)).toEqual([tokenId]);
    expect(JSON.stringify(listed.data)).not.toContain(secret);

    const regenerated = await client.mutate<any>({ mutation: REGENERATE, variables: { input: { id: tokenId } } });
    expect(regenerated.data!.regenerateApiToken.token).not.toBe(secret);
    expect(cache.extract()[`ApiToken:${tokenId}`]!.tokenPrefix).toBe(regenerated.data!.regenerateApiToken.token.slice(0, 12));

    await client.mutate({ mutation: REVOKE, variables: { input: { id: tokenId } } });
    // The list query, read from the cache alone, sees the revocation: one normalized ApiToken object.
    const fromCache = client.readQuery<any>({ query: LIST, variables: { organizationId } });
    expect(fromCache!.organization.apiTokens.edges[0].node).toMatchObject({ id: tokenId, isActive: false });
    expect(fromCache!.organization.apiTokens.edges[0].node.revokedAt).not.toBeNull();
  });

  it('receives errors with their extensions.code', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: `${server.url}/graphql`, headers: user.auth }), cache: new InMemoryCache() });
    const error = await client
      .mutate({ mutation: CREATE, variables: { input: { organizationId, name: 'x'.repeat(101) } } })
      .then(() => null, (caught: unknown) => caught);
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect((error as CombinedGraphQLErrors).errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
  });
});

describe('graphql-request', () => {
  it('runs the same flow and surfaces error codes, including UNAUTHENTICATED on 401', async () => {
    const client = new GraphQLClient(`${server.url}/graphql`, { headers: user.auth });
    const created: any = await client.request(CREATE, { input: { organizationId, name: 'script' } });
    const id = created.createApiToken.apiToken.id;
    const revoked: any = await client.request(REVOKE, { input: { id } });
    expect(revoked.revokeApiToken.apiToken.isActive).toBe(false);

    const unknown = await client.request(REVOKE, { input: { id: 'not-an-id' } }).catch((caught: unknown) => caught);
    expect(unknown).toBeInstanceOf(ClientError);
    expect((unknown as ClientError).response.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const withRevokedToken = new GraphQLClient(`${server.url}/graphql`, { headers: { authorization: `Bearer ${created.createApiToken.token}` } });
    const refused = await withRevokedToken.request(LIST, { organizationId }).catch((caught: unknown) => caught);
    expect((refused as ClientError).response.status).toBe(401);
    expect((refused as ClientError).response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
