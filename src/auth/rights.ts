/**
 * The typed rights model: resources x actions, held as a bit set so that
 * intersecting a token's rights with its owner's role costs one `&`.
 */
export enum OrganizationRole {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
  VIEWER = 'VIEWER',
}

/** Append only: a resource's position is its bits in stored token rights. */
export const RESOURCES = ['organization', 'members', 'serviceUsers', 'apiTokens', 'auditLog', 'introspection'] as const;
export const ACTIONS = ['read', 'create', 'update', 'delete'] as const;

export type Resource = (typeof RESOURCES)[number];
export type Action = (typeof ACTIONS)[number];
export type Right = `${Resource}.${Action}`;

/** A set of rights as a bit mask: bit (resourceIndex * 4 + actionIndex). */
export type RightSet = number;

export const NO_RIGHTS: RightSet = 0;

export function bitOf(right: Right): number {
  const [resource, action] = right.split('.') as [Resource, Action];
  return 1 << (RESOURCES.indexOf(resource) * ACTIONS.length + ACTIONS.indexOf(action));
}

export function rightSet(rights: readonly Right[]): RightSet {
  return rights.reduce((set, right) => set | bitOf(right), NO_RIGHTS);
}

export const ALL_RIGHTS: Right[] = RESOURCES.flatMap((resource) => ACTIONS.map((action) => `${resource}.${action}` as Right));

export function has(set: RightSet, right: Right): boolean {
  return (set & bitOf(right)) !== 0;
}

export function rightsIn(set: RightSet): Right[] {
  return ALL_RIGHTS.filter((right) => has(set, right));
}

/** The rights in `wanted` that `ceiling` does not hold, in canonical order. */
export function exceeding(wanted: RightSet, ceiling: RightSet): Right[] {
  return rightsIn(wanted & ~ceiling);
}

/**
 * What each role may do in its organization, written once. Token management
 * for MEMBER and VIEWER is limited to their own tokens (`tokenScope`). Each
 * role's rights hold every lower role's, so "who may grant a role" is one
 * comparison of rights (`auth/ceiling.ts`), not a ranking of roles.
 */
export const ROLE_TABLE: Record<OrganizationRole, { rights: RightSet; tokenScope: 'all' | 'own' }> = {
  [OrganizationRole.OWNER]: { rights: rightSet(ALL_RIGHTS), tokenScope: 'all' },
  [OrganizationRole.ADMIN]: {
    rights: rightSet(ALL_RIGHTS.filter((right) => right !== 'organization.delete')),
    tokenScope: 'all',
  },
  [OrganizationRole.MEMBER]: {
    rights: rightSet([
      'organization.read',
      'members.read',
      'apiTokens.read',
      'apiTokens.create',
      'apiTokens.update',
      'apiTokens.delete',
    ]),
    tokenScope: 'own',
  },
  [OrganizationRole.VIEWER]: {
    rights: rightSet(['organization.read', 'members.read', 'apiTokens.read']),
    tokenScope: 'own',
  },
};

export function rightsOfRole(role: OrganizationRole): RightSet {
  return ROLE_TABLE[role].rights;
}
