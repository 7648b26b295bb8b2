/**
 * Helpers of the verified-credential cache's tests: two (or more) app
 * instances on one database, a credential made warm in an instance's cache,
 * and a change made elsewhere that an instance must see within a bound.
 */
import { Client } from 'pg';
import { createTeam, PASSWORD, type Team, type TestUser } from './factories';
import { dataOf, startTestServer, type GraphQLResponse, type TestServer } from './server';

/** Every background job that would issue statements while a test counts them is put off. */
export const QUIET: Record<string, string> = {
  TOKEN_USAGE_FLUSH_SECONDS: '3600',
  EXPIRY_NOTIFICATION_INTERVAL_SECONDS: '0',
  SIGNING_KEY_RELOAD_SECONDS: '3600',
  RATE_LIMIT_PURGE_SECONDS: '3600',
  TRUST_PROXY: 'true',
};

/** The application_name of each instance's LISTEN connection. */
export const LISTENER = 'idgraph-credential-listener';

/** How long another instance may take to see a change: a correctness bound, not a speed target (that is the bench's). */
export const BOUND_MS = 2_000;
const POLL_MS = 10;

/**
 * Registers the hooks of a file of these tests: instances A and B on one
 * database for the whole file, and a fresh team (made on A) for each test,
 * handed to `take` as they are ready.
 */
export function twoInstancesWithATeam(take: (pair: { A: TestServer; B: TestServer; team: Team }) => void): void {
  let A: TestServer;
  let B: TestServer;
  beforeAll(async () => {
    A = await startTestServer(QUIET);
    B = await startTestServer(QUIET, A.databaseUrl);
  });
  afterAll(async () => {
    await B?.close();
    await A?.close();
  });
  beforeEach(async () => take({ A, B, team: await createTeam(A) }));
}

export const VIEWER = `{ viewer { id } }`;
export const RIGHTS = `{ viewer { id rights { members { read create } apiTokens { read create } organization { read } } } }`;

export type Credential = Record<string, string>;
export const bearer = (token: string): Credential => ({ authorization: `Bearer ${token}` });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `moment` is past (by a little: a clock's tick). */
export const untilPast = (moment: Date | string) => sleep(Math.max(0, new Date(moment).getTime() - Date.now()) + 50);

/** What an answer must be; returns null when it is, else what differs. */
export type Expectation = (response: GraphQLResponse) => string | null;

const summary = (response: GraphQLResponse) => `HTTP ${response.status} ${JSON.stringify(response.body)}`;

/** A credential refused: HTTP 401 with an RFC 6750 `invalid_token` challenge, and UNAUTHENTICATED saying why. */
export function refused(message?: string | RegExp): Expectation {
  return (response) => {
    const error = response.body.errors?.[0];
    const challenge = response.headers.get('www-authenticate') ?? '';
    if (response.status !== 401 || !/error="invalid_token"/.test(challenge) || error?.extensions?.code !== 'UNAUTHENTICATED') {
      return `not refused: ${summary(response)}, www-authenticate: ${challenge}`;
    }
    if (message !== undefined && !(typeof message === 'string' ? error.message === message : message.test(error.message))) return `refused as "${error.message}", not ${message}`;
    return null;
  };
}

/** A session cookie that no longer names a live session: the request is anonymous, and `viewer` says so. */
export const sessionEnded: Expectation = (response) => {
  const error = response.body.errors?.[0];
  if (response.status === 401 && error?.extensions?.code === 'UNAUTHENTICATED' && error.message === 'session expired or logged out: log in again' && response.headers.get('www-authenticate')) return null;
  return `session still accepted: ${summary(response)}`;
};

/** Accepted, with `viewer.rights` matching `rights` (the answer to RIGHTS). */
export function rights(expected: Record<string, Record<string, boolean>>): Expectation {
  return (response) => {
    const actual = response.body.data?.viewer?.rights;
    if (response.status !== 200 || !actual) return `not accepted: ${summary(response)}`;
    for (const [resource, actions] of Object.entries(expected)) {
      for (const [action, value] of Object.entries(actions)) {
        if (actual[resource]?.[action] !== value) return `rights ${JSON.stringify(actual)}: ${resource}.${action} is not ${value}`;
      }
    }
    return null;
  };
}

export const accepted: Expectation = (response) => (response.status === 200 && !response.body.errors ? null : `not accepted: ${summary(response)}`);

/** The SQL statements `server` ran while answering one request. */
export async function statementsOf(server: TestServer, credential: Credential, query = VIEWER): Promise<{ response: GraphQLResponse; statements: number }> {
  const before = server.app.queries.count;
  const response = await server.gql(query, {}, credential);
  return { response, statements: server.app.queries.count - before };
}

/**
 * Uses the credential twice on each server: both uses accepted. Returns what
 * the second use cost on each, for `expectCacheHits` to check at the end of
 * the test (so that what the cache does not change is checked first).
 */
export async function warm(servers: Record<string, TestServer>, credential: Credential, query = VIEWER): Promise<Record<string, number>> {
  const costs: Record<string, number> = {};
  for (const [name, server] of Object.entries(servers)) {
    meets(await server.gql(query, {}, credential), accepted, `first use on ${name}`);
    const second = await statementsOf(server, credential, query);
    meets(second.response, accepted, `second use on ${name}`);
    costs[name] = second.statements;
  }
  return costs;
}

/** CACHE: a warm credential costs no SQL statement. Holds only with the verified-credential cache. */
export function expectCacheHits(...costs: Record<string, number>[]): void {
  for (const cost of costs) expect(cost).toEqual(Object.fromEntries(Object.keys(cost).map((name) => [name, 0])));
}

/** Fails, saying what differs, unless the answer meets the expectation. */
export function meets(response: GraphQLResponse, expectation: Expectation, when: string): GraphQLResponse {
  const differs = expectation(response);
  if (differs) throw new Error(`${when}: ${differs}`);
  return response;
}

/** The very next answer of `server` meets the expectation: no waiting. */
export async function seenAtOnce(server: TestServer, credential: Credential, expectation: Expectation, query = VIEWER): Promise<GraphQLResponse> {
  return meets(await server.gql(query, {}, credential), expectation, 'not seen on the next request');
}

/** Polls `server` every 10 ms from `since` until an answer meets the expectation; fails past `since + BOUND_MS`. */
export async function seenWithin(server: TestServer, credential: Credential, expectation: Expectation, options: { query?: string; since?: number; ms?: number } = {}): Promise<GraphQLResponse> {
  const since = options.since ?? Date.now();
  const deadline = since + (options.ms ?? BOUND_MS);
  for (;;) {
    const response = await server.gql(options.query ?? VIEWER, {}, credential);
    const differs = expectation(response);
    if (!differs) return response;
    if (Date.now() > deadline) throw new Error(`not seen within ${options.ms ?? BOUND_MS} ms: ${differs}`);
    await sleep(POLL_MS);
  }
}

/** Polls `probe` until it answers true; fails after `ms`. */
export async function eventually(what: string, probe: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(POLL_MS);
  }
}

/** Runs `work` with a pg Client of its own on the database: a writer that is none of the instances. */
export async function withClient<T>(databaseUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const CREATE_TOKEN = `mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`;

export async function createApiToken(server: TestServer, by: Credential, input: Record<string, unknown>): Promise<{ id: string; secret: string; auth: Credential }> {
  const data = dataOf(await server.gql(CREATE_TOKEN, { input: { name: 'cached', ...input } }, by)).createApiToken;
  return { id: data.apiToken.id, secret: data.token, auth: bearer(data.token) };
}

/** A session of `user` started on `server`, as the Cookie header that sends it. */
export async function logIn(server: TestServer, user: TestUser): Promise<Credential> {
  const response = await server.gql(`mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }`, { input: { email: user.email, password: PASSWORD } });
  dataOf(response);
  const match = /idgraph_session=([^;]*)/.exec(response.headers.get('set-cookie') ?? '');
  if (!match) throw new Error('logIn set no session cookie');
  return { cookie: `idgraph_session=${match[1]}` };
}

/** A personal access token of `user` and an access token exchanged for it on `server`. */
export async function accessToken(server: TestServer, user: TestUser): Promise<{ patId: string; auth: Credential }> {
  const created = dataOf(
    await server.gql(`mutation ($input: CreatePersonalAccessTokenInput!) { createPersonalAccessToken(input: $input) { refresh personalAccessToken { id } } }`, { input: { name: 'cli' } }, user.auth),
  ).createPersonalAccessToken;
  const { access } = dataOf(await server.gql(`mutation ($refresh: String!) { refreshAccessToken(input: { refresh: $refresh }) { access } }`, { refresh: created.refresh })).refreshAccessToken;
  return { patId: created.personalAccessToken.id, auth: bearer(access) };
}
