import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { ALL_RIGHTS, bearer, beyond, rightsInput, rightsList, RIGHTS_FIELDS, ROLE_RIGHTS, ROLES, type RightName, type Role } from './support/ceiling';
import { addMember, createOrganization, signUp, type TestUser } from './support/factories';
import { dataOf, startTestServer, type GraphQLResponse, type TestServer } from './support/server';

/**
 * The ceiling as a property: whatever the caller (a member of any role, acting with its user key, an
 * access token or one of its API tokens with any rights and expiry) and whatever it asks for, nothing
 * that succeeds yields a credential or a role holding a right outside the caller's effective rights,
 * nor a credential outliving an expiring caller. The seed is fixed (FC_SEED overrides it), and
 * fast-check prints the seed and the smallest failing case.
 */

const SEED = Number(process.env.FC_SEED ?? 20_261_129);
const NUM_RUNS = Number(process.env.FC_RUNS ?? 300);

const VIEWER_RIGHTS = `{ viewer { id rights { ${RIGHTS_FIELDS} } } }`;
const ORGANIZATION_RIGHTS = `query ($id: ID!) { organization(id: $id) { viewerRole viewerRights { ${RIGHTS_FIELDS} } } }`;
const CREATE_TOKEN = `mutation ($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token apiToken { id expiresAt rights { ${RIGHTS_FIELDS} } } }
}`;
const UPDATE_TOKEN = `mutation ($input: UpdateApiTokenInput!) {
  updateApiToken(input: $input) { apiToken { id expiresAt rights { ${RIGHTS_FIELDS} } } }
}`;
const REGENERATE = `mutation ($input: RegenerateApiTokenInput!) { regenerateApiToken(input: $input) { token apiToken { id expiresAt } } }`;
const ADD_MEMBER = `mutation ($input: AddMemberInput!) { addMember(input: $input) { membership { role } } }`;
const UPDATE_ROLE = `mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { membership { role } } }`;
const CREATE_SERVICE_USER = `mutation ($input: CreateServiceUserInput!) { createServiceUser(input: $input) { serviceUser { id role } } }`;
const CREATE_PAT = `mutation { createPersonalAccessToken(input: { name: "pat" }) { refresh } }`;
const REFRESH = `mutation ($refresh: String!) { refreshAccessToken(input: { refresh: $refresh }) { access expiresAt } }`;

/** Refusals a random request may meet; anything else (an internal error above all) fails the property. */
const EXPECTED_REFUSALS = ['FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'BAD_USER_INPUT'];

type CredentialKind = 'userKey' | 'accessToken' | 'apiToken';
/** A token of the organization: among the caller's own (and the service users') or among all, by index. */
type TokenPick = { own: boolean; index: number };
type CallerSpec = { role: Role; kind: CredentialKind; rights: RightName[]; expiresInMinutes: number | null };
type Operation =
  | { kind: 'createApiToken'; rights: RightName[] | null; serviceUser: Role | null; expiresInMinutes: number | null }
  | { kind: 'regenerateApiToken'; pick: TokenPick; gracePeriodSeconds: number }
  | { kind: 'updateApiToken'; pick: TokenPick; rights: RightName[]; expiresInMinutes: number | null | undefined }
  | { kind: 'addMember'; pick: number; role: Role }
  | { kind: 'updateMemberRole'; pick: number; role: Role }
  | { kind: 'createServiceUser'; role: Role };

// ----- generators

const roleArb = fc.constantFrom(...ROLES);
/** Random sets of rights, with the shapes that matter over-represented: everything, and a role's rights with extras. */
const rightsArb: fc.Arbitrary<RightName[]> = fc.oneof(
  { arbitrary: fc.constant<RightName[]>([...ALL_RIGHTS]), weight: 1 },
  { arbitrary: fc.subarray(ALL_RIGHTS), weight: 2 },
  {
    arbitrary: fc
      .tuple(roleArb, fc.subarray(ALL_RIGHTS, { maxLength: 3 }))
      .map(([role, extra]) => ALL_RIGHTS.filter((r) => ROLE_RIGHTS[role].includes(r) || extra.includes(r))),
    weight: 3,
  },
);
/** Minutes ahead: a few (inside an access token's five), or up to four days. */
const minutesArb = fc.oneof(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 5, max: 4 * 24 * 60 }));
const callerArb: fc.Arbitrary<CallerSpec> = fc.record({
  role: roleArb,
  kind: fc.constantFrom<CredentialKind>('userKey', 'accessToken', 'apiToken', 'apiToken'),
  rights: rightsArb,
  expiresInMinutes: fc.option(minutesArb, { nil: null }),
});
/** The rights a caller of this spec holds, as the role table and its credential say. */
const expectedEffective = (spec: CallerSpec): RightName[] =>
  ALL_RIGHTS.filter((right) => ROLE_RIGHTS[spec.role].includes(right) && (spec.kind !== 'apiToken' || spec.rights.includes(right)));

/**
 * Operations drawn for one caller: rights asked for are often some of the caller's own (with now and then one
 * more), expiries often inside the caller's, tokens often the caller's own, so that many requests land right
 * at the ceiling, on either side of it.
 */
function operationArb(spec: CallerSpec): fc.Arbitrary<Operation> {
  const held = expectedEffective(spec);
  const askedRights: fc.Arbitrary<RightName[]> = fc.oneof(
    { arbitrary: fc.subarray(held), weight: 3 },
    {
      arbitrary: fc
        .tuple(fc.subarray(held), fc.constantFrom(...ALL_RIGHTS))
        .map(([some, one]) => ALL_RIGHTS.filter((r) => some.includes(r) || r === one)),
      weight: 2,
    },
    { arbitrary: rightsArb, weight: 1 },
  );
  const expiry =
    spec.kind === 'apiToken' && spec.expiresInMinutes !== null
      ? fc.oneof(minutesArb, fc.integer({ min: 2, max: Math.max(2, spec.expiresInMinutes - 1) }))
      : minutesArb;
  const pick = fc.record({ own: fc.boolean(), index: fc.nat() });
  const regenerate = fc.record({
    kind: fc.constant('regenerateApiToken' as const),
    pick,
    gracePeriodSeconds: fc.constantFrom(0, 600, 3600, 3601, 86_400, 604_800),
  });
  const create = fc.record({
    kind: fc.constant('createApiToken' as const),
    rights: fc.option(askedRights, { nil: null, freq: 4 }),
    serviceUser: fc.option(roleArb, { nil: null, freq: 2 }),
    expiresInMinutes: fc.option(expiry, { nil: null, freq: 3 }),
  });
  const update = fc.record({
    kind: fc.constant('updateApiToken' as const),
    pick,
    rights: askedRights,
    expiresInMinutes: fc.oneof(fc.constant(undefined), fc.constant(null), expiry),
  });
  // Token operations are refused more often (other people's tokens, access tokens), so they are drawn more often.
  return fc.oneof(
    { arbitrary: create, weight: 2 },
    { arbitrary: regenerate, weight: 3 },
    { arbitrary: update, weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('addMember' as const), pick: fc.nat(), role: roleArb }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('updateMemberRole' as const), pick: fc.nat(), role: roleArb }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('createServiceUser' as const), role: roleArb }), weight: 1 },
  );
}

// ----- the organization, set up once

let server: TestServer;
let organizationId: string;
/** One member per role, who make the requests; their roles are set back before every run. */
const callers = {} as Record<Role, TestUser>;
/** Further members whose roles the runs change. */
let targets: TestUser[] = [];
/** Accounts that belong to no organization, to be added (their invitation is dropped before each use). */
let newcomers: TestUser[] = [];
const serviceUsers = {} as Record<Role, string>;
const successes: Record<Operation['kind'], number> = {
  createApiToken: 0,
  regenerateApiToken: 0,
  updateApiToken: 0,
  addMember: 0,
  updateMemberRole: 0,
  createServiceUser: 0,
};

beforeAll(async () => {
  server = await startTestServer({ TOKEN_RATE_LIMIT: '100000', ADD_MEMBER_RATE_LIMIT: '100000', TOKEN_ENDPOINT_RATE_LIMIT: '100000' });
  const users = await Promise.all(Array.from({ length: 12 }, (_, i) => signUp(server, `user${i}`)));
  callers.OWNER = users[0]!;
  organizationId = (await createOrganization(server, callers.OWNER, 'Ceiling')).id;
  callers.ADMIN = users[1]!;
  callers.MEMBER = users[2]!;
  callers.VIEWER = users[3]!;
  targets = users.slice(4, 8);
  newcomers = users.slice(8);
  for (const role of ['ADMIN', 'MEMBER', 'VIEWER'] as const) await addMember(server, callers.OWNER, organizationId, callers[role], role);
  for (const [i, target] of targets.entries()) await addMember(server, callers.OWNER, organizationId, target, ROLES[i % ROLES.length]!);
  for (const role of ROLES) {
    const input = { organizationId, name: `bot-${role.toLowerCase()}`, role };
    serviceUsers[role] = dataOf(await server.gql(CREATE_SERVICE_USER, { input }, callers.OWNER.auth)).createServiceUser.serviceUser.id;
  }
  // Tokens to regenerate and update from the first run on: the members' own, and one of each service user.
  for (const role of ['OWNER', 'ADMIN', 'MEMBER'] as const) {
    dataOf(await server.gql(CREATE_TOKEN, { input: { organizationId, name: `own-${role.toLowerCase()}` } }, callers[role].auth));
  }
  for (const role of ROLES) {
    const input = { organizationId, name: `bot-token-${role.toLowerCase()}`, serviceUserId: serviceUsers[role] };
    dataOf(await server.gql(CREATE_TOKEN, { input }, callers.OWNER.auth));
  }
}, 120_000);
afterAll(() => server.close());

// ----- helpers

const query = (sql: string, parameters: unknown[] = []) => server.app.dataSource.query(sql, parameters);
const setRole = (user: TestUser, role: Role) =>
  query(`UPDATE memberships SET role = $3 WHERE "organizationId" = $1 AND "userId" = $2`, [organizationId, user.id, role]);
const minutesAhead = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

type Caller = { spec: CallerSpec; auth: Record<string, string>; expiresAt: Date | null; effective: RightName[] };

/** The caller's credential, and its effective rights as the server answers them. */
async function makeCaller(spec: CallerSpec): Promise<Caller> {
  const user = callers[spec.role];
  for (const role of ROLES) await setRole(callers[role], role);
  let auth = user.auth;
  let expiresAt: Date | null = null;
  if (spec.kind === 'accessToken') {
    const refresh = dataOf(await server.gql(CREATE_PAT, {}, user.auth)).createPersonalAccessToken.refresh;
    const access = dataOf(await server.gql(REFRESH, { refresh })).refreshAccessToken;
    auth = bearer(access.access);
    expiresAt = new Date(access.expiresAt);
  } else if (spec.kind === 'apiToken') {
    // Made while its owner is an OWNER, so its stored rights may exceed the role it then acts with.
    await setRole(user, 'OWNER');
    const input = {
      organizationId,
      name: `caller-${randomBytes(3).toString('hex')}`,
      rights: rightsInput(spec.rights),
      expiresAt: spec.expiresInMinutes === null ? null : minutesAhead(spec.expiresInMinutes),
    };
    const created = dataOf(await server.gql(CREATE_TOKEN, { input }, user.auth)).createApiToken;
    await setRole(user, spec.role);
    auth = bearer(created.token);
    expiresAt = created.apiToken.expiresAt ? new Date(created.apiToken.expiresAt) : null;
  }
  const effective =
    spec.kind === 'apiToken'
      ? rightsList(dataOf(await server.gql(VIEWER_RIGHTS, {}, auth)).viewer.rights)
      : rightsList(dataOf(await server.gql(ORGANIZATION_RIGHTS, { id: organizationId }, auth)).organization.viewerRights);
  // What the rest relies on: effective rights are the credential's rights within the role's.
  expect(effective).toEqual(expectedEffective(spec));
  return { spec, auth, expiresAt, effective };
}

/** The picked token among the live ones. */
async function pickToken(caller: Caller, pick: TokenPick) {
  const all = await liveTokens();
  const own = all.filter((token) => token.ownerUserId === callers[caller.spec.role].id || token.ownerServiceUserId !== null);
  const among = pick.own && own.length > 0 ? own : all;
  return among[pick.index % among.length]!;
}

/** Live tokens of the organization with who owns them, oldest first. */
async function liveTokens(): Promise<{ id: string; ownerUserId: string | null; ownerServiceUserId: string | null; expiresAt: Date | null }[]> {
  return query(
    `SELECT id, "ownerUserId", "ownerServiceUserId", "expiresAt" FROM api_tokens
      WHERE "organizationId" = $1 AND "revokedAt" IS NULL AND ("expiresAt" IS NULL OR "expiresAt" > now() + interval '1 minute')
      ORDER BY "createdAt", id`,
    [organizationId],
  );
}

async function serviceUserRole(id: string | null): Promise<Role | null> {
  if (!id) return null;
  const [row] = await query(`SELECT role FROM service_users WHERE id = $1`, [id]);
  return row.role;
}

const within = (rights: readonly RightName[], caller: Caller, what: string) =>
  expect({ [what]: beyond(rights, caller.effective) }).toEqual({ [what]: [] });

/** An expiring caller's products expire, and no later than the caller. */
function notOutliving(expiresAt: string | null, caller: Caller, what: string) {
  if (!caller.expiresAt) return;
  expect({ [what]: expiresAt }).toEqual({ [what]: expect.any(String) });
  expect(new Date(expiresAt!).getTime()).toBeLessThanOrEqual(caller.expiresAt.getTime());
}

/** The effective rights of a token, read with its own secret. */
async function powerOf(secret: string): Promise<RightName[]> {
  return rightsList(dataOf(await server.gql(VIEWER_RIGHTS, {}, bearer(secret))).viewer.rights);
}

/** Runs one operation as the caller; on success, checks what it produced against the caller's ceiling. */
async function run(caller: Caller, op: Operation): Promise<void> {
  let response: GraphQLResponse;
  let check: (data: any) => Promise<void>;
  switch (op.kind) {
    case 'createApiToken': {
      const input = {
        organizationId,
        name: `made-${randomBytes(3).toString('hex')}`,
        ...(op.rights ? { rights: rightsInput(op.rights) } : {}),
        ...(op.serviceUser ? { serviceUserId: serviceUsers[op.serviceUser] } : {}),
        ...(op.expiresInMinutes !== null ? { expiresAt: minutesAhead(op.expiresInMinutes) } : {}),
      };
      response = await server.gql(CREATE_TOKEN, { input }, caller.auth);
      check = async (data) => {
        expect(caller.spec.kind).not.toBe('accessToken');
        within(rightsList(data.createApiToken.apiToken.rights), caller, 'stored rights');
        within(await powerOf(data.createApiToken.token), caller, 'effective rights');
        if (op.serviceUser) within(ROLE_RIGHTS[op.serviceUser], caller, `service user's role ${op.serviceUser}`);
        notOutliving(data.createApiToken.apiToken.expiresAt, caller, 'expiresAt');
      };
      break;
    }
    case 'regenerateApiToken': {
      const target = await pickToken(caller, op.pick);
      const ownerRole = await serviceUserRole(target.ownerServiceUserId);
      response = await server.gql(REGENERATE, { input: { id: target.id, gracePeriodSeconds: op.gracePeriodSeconds } }, caller.auth);
      check = async (data) => {
        expect(caller.spec.kind).not.toBe('accessToken');
        within(await powerOf(data.regenerateApiToken.token), caller, 'effective rights');
        if (ownerRole) within(ROLE_RIGHTS[ownerRole], caller, `service user's role ${ownerRole}`);
        if (op.gracePeriodSeconds > 3600) within(['apiTokens.delete'], caller, 'long grace period');
        notOutliving(data.regenerateApiToken.apiToken.expiresAt, caller, 'expiresAt');
      };
      break;
    }
    case 'updateApiToken': {
      const target = await pickToken(caller, op.pick);
      const ownerRole = await serviceUserRole(target.ownerServiceUserId);
      const input = {
        id: target.id,
        rights: rightsInput(op.rights),
        ...(op.expiresInMinutes === undefined ? {} : { expiresAt: op.expiresInMinutes === null ? null : minutesAhead(op.expiresInMinutes) }),
      };
      response = await server.gql(UPDATE_TOKEN, { input }, caller.auth);
      check = async (data) => {
        within(rightsList(data.updateApiToken.apiToken.rights), caller, 'stored rights');
        if (ownerRole) within(ROLE_RIGHTS[ownerRole], caller, `service user's role ${ownerRole}`);
        if (op.expiresInMinutes !== undefined) notOutliving(data.updateApiToken.apiToken.expiresAt, caller, 'expiresAt');
      };
      break;
    }
    case 'addMember': {
      const newcomer = newcomers[op.pick % newcomers.length]!;
      await query(`DELETE FROM memberships WHERE "organizationId" = $1 AND "userId" = $2`, [organizationId, newcomer.id]);
      response = await server.gql(ADD_MEMBER, { input: { organizationId, email: newcomer.email, role: op.role } }, caller.auth);
      check = async (data) => {
        expect(data.addMember.membership.role).toBe(op.role);
        within(ROLE_RIGHTS[op.role], caller, `granted role ${op.role}`);
      };
      break;
    }
    case 'updateMemberRole': {
      const everyone = [...ROLES.map((role) => callers[role]), ...targets];
      const target = everyone[op.pick % everyone.length]!;
      const [{ role: before }] = await query(`SELECT role FROM memberships WHERE "organizationId" = $1 AND "userId" = $2`, [
        organizationId,
        target.id,
      ]);
      response = await server.gql(UPDATE_ROLE, { input: { organizationId, userId: target.id, role: op.role } }, caller.auth);
      check = async (data) => {
        expect(data.updateMemberRole.membership.role).toBe(op.role);
        if (before === op.role) return;
        within(ROLE_RIGHTS[before as Role], caller, `role taken away ${before}`);
        within(ROLE_RIGHTS[op.role], caller, `role granted ${op.role}`);
      };
      break;
    }
    case 'createServiceUser': {
      const input = { organizationId, name: `bot-${randomBytes(4).toString('hex')}`, role: op.role };
      response = await server.gql(CREATE_SERVICE_USER, { input }, caller.auth);
      check = async (data) => {
        expect(data.createServiceUser.serviceUser.role).toBe(op.role);
        within(ROLE_RIGHTS[op.role], caller, `service user's role ${op.role}`);
      };
      break;
    }
    default:
      throw new Error(`unknown operation ${JSON.stringify(op)}`);
  }
  const errors = response.body.errors ?? [];
  if (errors.length > 0) {
    expect(errors).toHaveLength(1);
    expect(EXPECTED_REFUSALS).toContain(errors[0]!.extensions?.code);
    return;
  }
  successes[op.kind] += 1;
  await check(response.body.data);
}

describe('the ceiling, over random callers and operations', () => {
  it('no operation that succeeds yields a right, a role or a lifetime beyond its caller’s', async () => {
    await fc.assert(
      fc.asyncProperty(
        callerArb.chain((spec) => fc.tuple(fc.constant(spec), operationArb(spec))),
        async ([spec, op]) => {
          await run(await makeCaller(spec), op);
        },
      ),
      { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true },
    );
    // Every kind of operation got through at least once, so the property was exercised on each.
    expect(Object.entries(successes).filter(([, count]) => count === 0)).toEqual([]);
  }, 600_000);
});
