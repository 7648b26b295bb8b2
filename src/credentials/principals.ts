import { CredentialKind, type Principal, type UserPrincipal } from '../auth/principal';
import type { ApiTokenRecord, UserRecord } from './credential-records';

/** A person acting as themselves: with their session, their user key, or an access token of their PAT. */
export function accountPrincipal(
  user: UserRecord,
  credential: CredentialKind.SESSION | CredentialKind.USER_KEY | CredentialKind.ACCESS_TOKEN,
  extra: { sessionId?: string; expiresAt?: Date } = {},
): UserPrincipal {
  return { kind: 'USER', id: user.id, user, credential, ...extra };
}

/**
 * The bearer of an API token: its owner, limited to the token's organization
 * and rights. A secret replaced by regeneration, during its grace period, acts
 * as the token until the grace ends and is marked so: it may keep a deployment
 * running while it rolls over, not create or regenerate tokens.
 */
export function apiTokenPrincipal(token: ApiTokenRecord, role: ApiTokenRecord['memberRole'] & string): Principal {
  const replaced = token.replaced ? ({ replaced: true } as const) : {};
  const graceEndsAt = token.replaced?.graceEndsAt ?? null;
  const expiresAt = graceEndsAt && (!token.expiresAt || graceEndsAt < token.expiresAt) ? graceEndsAt : token.expiresAt;
  const scope = { organizationId: token.organizationId, tokenId: token.id, rights: token.rights, role, ...replaced };
  if (token.serviceUser) {
    return { kind: 'SERVICE_USER', id: token.serviceUser.id, serviceUser: token.serviceUser, credential: CredentialKind.API_TOKEN, scope, expiresAt };
  }
  return { kind: 'USER', id: token.user!.id, user: token.user!, credential: CredentialKind.API_TOKEN, scope, expiresAt };
}
