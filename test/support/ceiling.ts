import { dataOf, type TestServer } from './server';

/** The rights model as the API shows it: resources × actions. */
export const RESOURCES = ['organization', 'members', 'serviceUsers', 'apiTokens', 'auditLog', 'introspection'] as const;
export const ACTIONS = ['read', 'create', 'update', 'delete'] as const;
export type RightName = `${(typeof RESOURCES)[number]}.${(typeof ACTIONS)[number]}`;
export const ALL_RIGHTS: RightName[] = RESOURCES.flatMap((resource) => ACTIONS.map((action) => `${resource}.${action}` as RightName));

/** Selection of every field of a `Rights` object. */
export const RIGHTS_FIELDS = RESOURCES.map((resource) => `${resource} { read create update delete }`).join(' ');

export type RightsObject = Record<string, Record<string, boolean | null | undefined> | null | undefined>;

/** The rights a `Rights` (or `RightsInput`) object holds, as "resource.action" names in canonical order. */
export function rightsList(rights: RightsObject | null | undefined): RightName[] {
  if (!rights) return [];
  return ALL_RIGHTS.filter((right) => {
    const [resource, action] = right.split('.') as [string, string];
    return rights[resource]?.[action] === true;
  });
}

/** A `RightsInput` holding exactly the given rights. */
export function rightsInput(rights: readonly RightName[]): Record<string, Record<string, boolean>> {
  const input: Record<string, Record<string, boolean>> = {};
  for (const right of rights) {
    const [resource, action] = right.split('.') as [string, string];
    (input[resource] ??= {})[action] = true;
  }
  return input;
}

/**
 * What each role may do in its organization, as the README and issue 9 state it
 * (written out here rather than read from the server, so the tests check the server against it).
 */
export const ROLE_RIGHTS: Record<'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER', RightName[]> = {
  OWNER: ALL_RIGHTS,
  ADMIN: ALL_RIGHTS.filter((right) => right !== 'organization.delete'),
  MEMBER: ['organization.read', 'members.read', 'apiTokens.read', 'apiTokens.create', 'apiTokens.update', 'apiTokens.delete'],
  VIEWER: ['organization.read', 'members.read', 'apiTokens.read'],
};
export type Role = keyof typeof ROLE_RIGHTS;
export const ROLES = Object.keys(ROLE_RIGHTS) as Role[];

/** The rights of `wanted` that `ceiling` lacks. */
export function beyond(wanted: readonly RightName[], ceiling: readonly RightName[]): RightName[] {
  return wanted.filter((right) => !ceiling.includes(right));
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A fresh five-minute access token of the user behind `auth`, through a personal access token. */
export async function accessTokenOf(server: TestServer, auth: Record<string, string>): Promise<string> {
  const created = dataOf(await server.gql(`mutation { createPersonalAccessToken(input: { name: "pat" }) { refresh } }`, {}, auth));
  const refreshed = dataOf(
    await server.gql(`mutation ($refresh: String!) { refreshAccessToken(input: { refresh: $refresh }) { access } }`, {
      refresh: created.createPersonalAccessToken.refresh,
    }),
  );
  return refreshed.refreshAccessToken.access;
}
