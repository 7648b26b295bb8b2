import { isId } from '../common/ids';
import type { Loaders } from '../loaders';
import type { Principal } from './principal';
import { ROLE_TABLE, type OrganizationRole, type RightSet } from './rights';

/** What the principal may do in one organization, right now. */
export type OrgAccess = {
  organizationId: string;
  role: OrganizationRole;
  rights: RightSet;
  tokenScope: 'all' | 'own';
};

/**
 * Null when the principal has no standing in the organization (not a member,
 * a service user of another organization, or a token scoped elsewhere): the
 * caller then answers NOT_FOUND, so another organization's ids reveal nothing.
 * A token's rights are intersected with its owner's current role here, at use time.
 * An API token's role comes with its verification; after a write in the same
 * request (`afterWrite`), the token and its owner's standing are read again.
 */
export async function resolveAccess(principal: Principal | null, anyCaseId: string, loaders: Loaders, afterWrite = false): Promise<OrgAccess | null> {
  if (!principal || !isId(anyCaseId)) return null;
  const organizationId = anyCaseId.toLowerCase();
  if (principal.scope && principal.scope.organizationId !== organizationId) return null;
  let role: OrganizationRole;
  if (principal.scope && afterWrite) {
    // The token, its owner's role and membership as they are now: an earlier field of this request may have ended them.
    const token = await loaders.apiToken.load(principal.scope.tokenId);
    if (!token || token.revokedAt) return null;
    const current =
      principal.kind === 'USER'
        ? (await loaders.activeMembershipOf.load({ organizationId, userId: principal.id }))?.role
        : (await loaders.serviceUser.load(principal.id))?.role;
    if (!current) return null;
    role = current;
  } else if (principal.scope) {
    role = principal.scope.role;
  } else if (principal.kind === 'SERVICE_USER') {
    if (principal.serviceUser.organizationId !== organizationId) return null;
    role = principal.serviceUser.role;
  } else {
    const membership = await loaders.activeMembershipOf.load({ organizationId, userId: principal.id });
    if (!membership) return null;
    role = membership.role;
  }
  const entry = ROLE_TABLE[role];
  return {
    organizationId,
    role,
    rights: principal.scope ? entry.rights & principal.scope.rights : entry.rights,
    tokenScope: entry.tokenScope,
  };
}
