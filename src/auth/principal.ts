import type { ServiceUserEntity } from '../modules/service-users/service-user.entity';
import type { UserEntity } from '../modules/users/user.entity';
import type { OrganizationRole, RightSet } from './rights';

export enum CredentialKind {
  SESSION = 'SESSION',
  USER_KEY = 'USER_KEY',
  API_TOKEN = 'API_TOKEN',
  ACCESS_TOKEN = 'ACCESS_TOKEN',
}

/**
 * An org-scoped credential (an API token) limits its bearer to one organization
 * and a set of rights. `role` is the owner's role there, read with the token,
 * so that authorizing the request needs no second query.
 */
export type TokenScope = {
  organizationId: string;
  tokenId: string;
  rights: RightSet;
  role: OrganizationRole;
  /** Authenticated by a secret that regeneration replaced, during its grace period: it may use the token, not reproduce it. */
  replaced?: true;
};

/** What a request knows of the user behind it: never the password hash or key digest. */
export type PrincipalUser = Pick<UserEntity, 'id' | 'email' | 'name' | 'isActive' | 'createdAt'>;
export type PrincipalServiceUser = Pick<ServiceUserEntity, 'id' | 'name' | 'role' | 'organizationId' | 'createdById' | 'createdAt'>;

export type UserPrincipal = {
  kind: 'USER';
  id: string;
  user: PrincipalUser;
  credential: CredentialKind;
  sessionId?: string;
  scope?: TokenScope;
  /** When the credential itself ends (an API token's expiry, an access token's `exp`): what it produces may not outlive it. */
  expiresAt?: Date | null;
};

export type ServiceUserPrincipal = {
  kind: 'SERVICE_USER';
  id: string;
  serviceUser: PrincipalServiceUser;
  credential: CredentialKind.API_TOKEN;
  scope: TokenScope;
  expiresAt?: Date | null;
};

export type Principal = UserPrincipal | ServiceUserPrincipal;

/** Account-level operations (organizations, user key) need a person signed in as themselves, not an org-scoped token. */
export function isAccountCredential(principal: Principal): principal is UserPrincipal {
  return principal.kind === 'USER' && principal.scope === undefined;
}
