import type { CredentialRefusal } from '../errors';
import type { Principal } from '../auth/principal';

/**
 * What checking a credential found. A refusal is an answer, not an error:
 * the authenticator turns it into a 401, introspection into `active: false`,
 * `verifyAccessToken` into its `reason`. Errors thrown are failures to check
 * (the database out of reach), never verdicts.
 */
export type Verification = Verified | Refused;

export type Verified = { ok: true; principal: Principal };

export type Refused = {
  ok: false;
  reason: CredentialRefusal;
  /** Fit for the client: says what is wrong without saying whether a guess came close. */
  message: string;
  /** The reason alone, where a client is told it apart from the 401 (`verifyAccessToken`'s `reason`). */
  detail?: string;
};

export const verified = (principal: Principal): Verified => ({ ok: true, principal });

export const refused = (reason: CredentialRefusal, message: string): Refused => ({ ok: false, reason, message });

/** Where a credential was presented from: kept with its use, and with a reuse report. */
export type Origin = { clientAddress: string; userAgent: string | null };
