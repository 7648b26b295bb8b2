import { forbidden } from '../errors';
import { CredentialKind, type Principal } from './principal';
import { exceeding, rightsOfRole, type OrganizationRole, type Right, type RightSet } from './rights';

/**
 * Whoever asks for something to be produced, as the ceiling sees them: their
 * effective rights in the organization (credential rights ∩ current role)
 * and how long their credential lives.
 */
export type Caller = {
  rights: RightSet;
  credential: CredentialKind;
  /** A credential on its way out (a secret replaced by regeneration, in its grace period): it produces nothing lasting. */
  replaced?: boolean;
  /** The expiry of the caller's own credential: an API token's `expiresAt`, an access token's `exp`; null for none. */
  expiresAt: Date | null;
};

/** What an operation yields: a credential's rights and expiry, roles granted, changed or taken away. */
export type Yield = {
  rights?: RightSet;
  /** Every role the operation grants, takes away, or lets the caller act as (a service user's token). */
  roles?: readonly OrganizationRole[];
  /** The produced credential's expiry, when it is set (undefined: not part of the operation; null: none). */
  expiresAt?: Date | null;
  /** What lives on after the request: an API token created or regenerated, or a role granted (a role has no expiry). */
  lasting?: 'token' | 'role';
};

export type Refusal = { reason: string; right?: Right; field: string };

export function callerOf(principal: Principal, rights: RightSet): Caller {
  return { rights, credential: principal.credential, expiresAt: principal.expiresAt ?? null, replaced: principal.scope?.replaced === true };
}

/**
 * The one rule of every operation that produces power: nothing it yields
 * holds a right the caller's effective rights lack, a role is granted,
 * changed or removed only by a caller holding every right of that role, an
 * access token produces nothing that outlives it, and no credential gives
 * what it produces a later expiry than its own. Null when within the ceiling.
 */
export function refusalOf(caller: Caller, produced: Yield): Refusal | null {
  const what = produced.lasting === 'role' ? 'grant a role' : 'create or regenerate a token';
  if (produced.lasting && caller.credential === CredentialKind.ACCESS_TOKEN) {
    return { reason: `an access token cannot ${what}, which would outlive it: use a session, the user key or an API token`, field: 'credential' };
  }
  if (produced.lasting && caller.replaced) {
    return { reason: `a secret replaced by regeneration cannot ${what}: use the new secret`, field: 'credential' };
  }
  if (produced.lasting === 'role' && caller.expiresAt !== null) {
    return {
      reason: 'a credential with an expiry cannot grant a role, which has none: use a session, the user key or a token without an expiry',
      field: 'role',
    };
  }
  if (produced.rights !== undefined) {
    const [right] = exceeding(produced.rights, caller.rights);
    if (right) return { reason: `rights: ${right} exceeds your effective rights`, right, field: 'rights' };
  }
  for (const role of produced.roles ?? []) {
    const [right] = exceeding(rightsOfRole(role), caller.rights);
    if (right) return { reason: `role: ${role} holds ${right}, which your effective rights lack`, right, field: 'role' };
  }
  if (produced.expiresAt !== undefined && caller.expiresAt !== null) {
    if (produced.expiresAt === null || produced.expiresAt.getTime() > caller.expiresAt.getTime()) {
      return { reason: `expiresAt: may not be later than your own credential's expiry (${caller.expiresAt.toISOString()})`, field: 'expiresAt' };
    }
  }
  return null;
}

/** FORBIDDEN, naming the first right over (`extensions.right`) and the input field, when `produced` is above the ceiling. */
export function assertWithinCeiling(caller: Caller, produced: Yield): void {
  const refusal = refusalOf(caller, produced);
  if (refusal) throw forbidden(refusal.reason, { field: refusal.field, ...(refusal.right ? { right: refusal.right } : {}) });
}
