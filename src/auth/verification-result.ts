import { AuthenticationError, DomainError, ErrorCode, type CredentialRefusal } from '../errors';
import { parseAuthorizationHeader } from './authorization-header';
import { CredentialKind } from './principal';

/** What the check of a presented credential decided, as the metrics and the access log name it. */
export type VerificationResult = 'ok' | CredentialRefusal | 'rate_limited';

/** A credential's kind in metric labels and log lines; `unrecognized` for a header that names no kind idgraph knows. */
export type CredentialLabel = 'user_key' | 'session' | 'api_token' | 'access_token' | 'unrecognized';

const LABELS: Record<CredentialKind, CredentialLabel> = {
  [CredentialKind.USER_KEY]: 'user_key',
  [CredentialKind.SESSION]: 'session',
  [CredentialKind.API_TOKEN]: 'api_token',
  [CredentialKind.ACCESS_TOKEN]: 'access_token',
};

export function credentialLabel(kind: CredentialKind): CredentialLabel {
  return LABELS[kind];
}

/**
 * The kind of credential a request presents, told from its scheme and shape
 * alone (never throws, reads nothing): the header wins over the cookie, as in
 * the Authenticator. A header the parser refuses is still told by its scheme
 * where it can be. Null when the request presents none.
 */
export function presentedCredential(request: { authorization?: string | string[]; sessionCookie?: string }, tokenPrefix: string): CredentialLabel | null {
  if (request.authorization === undefined) return request.sessionCookie === undefined ? null : 'session';
  if (Array.isArray(request.authorization)) return 'unrecognized';
  try {
    const credential = parseAuthorizationHeader(request.authorization, tokenPrefix);
    if (credential?.scheme === 'token') return 'user_key';
    if (credential?.scheme === 'bearer') return credential.shape === 'prefixed' ? 'api_token' : 'access_token';
  } catch {
    // Malformed: its scheme (and the token prefix) may still say what it meant to be.
  }
  const [scheme = '', value = ''] = request.authorization.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'token') return 'user_key';
  if (scheme.toLowerCase() === 'bearer' && value.startsWith(tokenPrefix)) return 'api_token';
  return 'unrecognized';
}

/** The result of a check that ended in an error; null for an error that is no verdict on the credential (the database failing). */
export function refusalOf(error: unknown): VerificationResult | null {
  if (error instanceof AuthenticationError) return error.refusal;
  if (error instanceof DomainError && error.code === ErrorCode.RATE_LIMITED) return 'rate_limited';
  return null;
}

