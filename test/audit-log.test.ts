import { addMember, createOrganization, signUp } from './support/factories';
import { dataOf, onlyError, startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ TOKEN_RATE_LIMIT: '1000' });
});
afterAll(() => server.close());

const EVENTS = `query ($id: ID!, $first: Int, $after: String, $eventType: String, $actorId: ID) {
  organization(id: $id) { auditEvents(first: $first, after: $after, eventType: $eventType, actorId: $actorId) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { eventType actorKind actorId actorCredential targetType targetId clientAddress changes createdAt } } } }
}`;

describe('Organization.auditEvents', () => {
  it('lists events newest first, filters by type and actor, and pages', async () => {
    const [owner, admin] = await Promise.all([signUp(server, 'owner'), signUp(server, 'admin')]);
    const org = await createOrganization(server, owner);
    await addMember(server, owner, org.id, admin, 'ADMIN');
    dataOf(await server.gql(`mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`, { input: { organizationId: org.id, name: 'by-admin' } }, admin.auth));

    const all = dataOf(await server.gql(EVENTS, { id: org.id }, owner.auth)).organization.auditEvents;
    expect(all.edges.map((edge: any) => edge.node.eventType)).toEqual(['api_token.created', 'member.joined', 'member.invited', 'organization.created']);
    expect(all.edges[0].node).toMatchObject({ actorKind: 'USER', actorId: admin.id, actorCredential: 'USER_KEY', targetType: 'api_token' });
    expect(all.edges[0].node.changes).toMatchObject({ name: 'by-admin' });

    const byType = dataOf(await server.gql(EVENTS, { id: org.id, eventType: 'member.invited' }, owner.auth)).organization.auditEvents;
    expect(byType.totalCount).toBe(1);
    const byActor = dataOf(await server.gql(EVENTS, { id: org.id, actorId: owner.id }, owner.auth)).organization.auditEvents;
    expect(byActor.edges.map((edge: any) => edge.node.eventType)).toEqual(['member.invited', 'organization.created']);

    const first = dataOf(await server.gql(EVENTS, { id: org.id, first: 2 }, owner.auth)).organization.auditEvents;
    const rest = dataOf(await server.gql(EVENTS, { id: org.id, first: 2, after: first.pageInfo.endCursor }, owner.auth)).organization.auditEvents;
    expect([...first.edges, ...rest.edges].map((edge: any) => edge.node.eventType)).toEqual(all.edges.map((edge: any) => edge.node.eventType));
    expect(rest.pageInfo.hasNextPage).toBe(false);
  });

  it('needs auditLog.read: MEMBER is refused, and a token without the right too', async () => {
    const [owner, member] = await Promise.all([signUp(server, 'owner'), signUp(server, 'member')]);
    const org = await createOrganization(server, owner);
    await addMember(server, owner, org.id, member, 'MEMBER');
    expect(onlyError(await server.gql(EVENTS, { id: org.id }, member.auth)).extensions).toMatchObject({ code: 'FORBIDDEN', right: 'auditLog.read' });
    const { token } = dataOf(
      await server.gql(`mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`, { input: { organizationId: org.id, name: 'narrow', rights: { organization: { read: true } } } }, owner.auth),
    ).createApiToken;
    expect(onlyError(await server.gql(EVENTS, { id: org.id }, { authorization: `Bearer ${token}` })).extensions).toMatchObject({ code: 'FORBIDDEN', right: 'auditLog.read' });
  });
});
