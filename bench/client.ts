/** What the bench asks idgraph over HTTP, as any client would: the credentials it measures with, tokens it creates and revokes. */

export type Answer = { status: number; body: any; setCookie: string };

export async function post(origin: string, query: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as any, setCookie: response.headers.get('set-cookie') ?? '' };
}

/** `post`, requiring data without errors. */
async function mutate(origin: string, query: string, headers: Record<string, string> = {}): Promise<any> {
  const answer = await post(origin, query, headers);
  if (answer.status !== 200 || answer.body.errors) throw new Error(`${query.slice(0, 60)}…: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.data;
}

export type Credentials = {
  email: string;
  userId: string;
  userKey: string;
  /** `idgraph_session=…`, as a Cookie header. */
  cookie: string;
  organizationId: string;
  /** The personal access token (a refresh JWT). */
  refresh: string;
  /** An access JWT from it. */
  access: string;
  apiToken: string;
};

const PASSWORD = 'correct horse battery';

/** A new user with one of each credential, in an organization of their own. */
export async function createCredentials(origin: string): Promise<Credentials> {
  const email = `bench-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const signUp = await mutate(origin, `mutation { signUp(input: { email: "${email}", password: "${PASSWORD}", name: "Bench" }) { user { id } userKey } }`);
  const userKey: string = signUp.signUp.userKey;
  const cookie = await logIn(origin, email);
  const auth = { authorization: `Token ${userKey}` };
  const organizationId: string = (await mutate(origin, `mutation { createOrganization(input: { name: "Bench" }) { organization { id } } }`, auth))
    .createOrganization.organization.id;
  const refresh: string = (await mutate(origin, `mutation { createPersonalAccessToken(input: { name: "bench" }) { refresh } }`, auth))
    .createPersonalAccessToken.refresh;
  const access = await exchange(origin, refresh);
  const { token: apiToken } = await createApiToken(origin, userKey, organizationId);
  return { email, userId: signUp.signUp.user.id, userKey, cookie, organizationId, refresh, access, apiToken };
}

/** A new session of the user: its cookie, as a Cookie header. */
export async function logIn(origin: string, email: string): Promise<string> {
  const answer = await post(origin, `mutation { logIn(input: { email: "${email}", password: "${PASSWORD}" }) { user { id } } }`);
  const cookie = /idgraph_session=[^;]+/.exec(answer.setCookie)?.[0];
  if (!cookie) throw new Error(`logIn set no session cookie: ${JSON.stringify(answer.body)}`);
  return cookie;
}

/** A new access JWT for a personal access token. */
export async function exchange(origin: string, refresh: string): Promise<string> {
  return (await mutate(origin, `mutation { refreshAccessToken(input: { refresh: "${refresh}" }) { access } }`)).refreshAccessToken.access;
}

export async function createApiToken(origin: string, userKey: string, organizationId: string): Promise<{ id: string; token: string }> {
  const created = (
    await mutate(origin, `mutation { createApiToken(input: { organizationId: "${organizationId}", name: "bench" }) { apiToken { id } token } }`, {
      authorization: `Token ${userKey}`,
    })
  ).createApiToken;
  return { id: created.apiToken.id, token: created.token };
}

export async function revokeApiToken(origin: string, userKey: string, id: string): Promise<void> {
  await mutate(origin, `mutation { revokeApiToken(input: { id: "${id}" }) { apiToken { id } } }`, { authorization: `Token ${userKey}` });
}

/** The status of `{ viewer { id } }` sent with `authorization`. */
export async function viewerStatus(origin: string, authorization: string): Promise<number> {
  return (await post(origin, '{ viewer { id } }', { authorization })).status;
}
