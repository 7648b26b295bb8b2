import type { RateLimits } from '../common/rate-limits';
import type { Credentials } from '../credentials/credentials';
import type { Origin, Verification } from '../credentials/verification';
import { AuthenticationError } from '../errors';
import { parseAuthorizationHeader } from './authorization-header';
import type { Principal } from './principal';
import { presentedCredential, refusalOf, type CredentialLabel, type VerificationResult } from './verification-result';

/** What a request presents: where it comes from, and the credential it carries, if any. */
type Presented = Origin & { authorization?: string | string[]; sessionCookie?: string };

export type Authentication = { principal: Principal | null; sessionExpired: boolean };

/**
 * Turns a request's Authorization header or session cookie into a Principal.
 * The header wins over the cookie. A bad header fails the whole request (401,
 * with its WWW-Authenticate); a credential that was looked up and refused
 * also counts against the client address's limit of failed credential checks.
 * A stale cookie does not: it only makes the request anonymous, so a user can
 * still log in again.
 */
export class Authenticator {
  constructor(
    private readonly credentials: Pick<Credentials, 'userKeys' | 'sessions' | 'apiTokens' | 'accessTokens'>,
    private readonly rateLimits: RateLimits,
    private readonly tokenPrefix: string,
  ) {}

  /** Told of every credential a request presents: its kind and what its check decided (the metrics count them). */
  onVerification: (kind: CredentialLabel, result: VerificationResult) => void = () => undefined;

  async authenticate(request: Presented): Promise<Authentication> {
    const kind = presentedCredential(request, this.tokenPrefix);
    if (kind === null) return { principal: null, sessionExpired: false };
    try {
      const authentication = await this.verify(request);
      this.onVerification(kind, authentication.principal ? 'ok' : 'unknown');
      return authentication;
    } catch (error) {
      const result = refusalOf(error);
      if (result) this.onVerification(kind, result);
      throw error;
    }
  }

  private async verify(request: Presented): Promise<Authentication> {
    if (request.authorization === undefined) {
      const session = await this.credentials.sessions.verify(request.sessionCookie!);
      return session.ok ? { principal: session.principal, sessionExpired: false } : { principal: null, sessionExpired: true };
    }
    this.rateLimits.refuseIfBlocked(request.clientAddress);
    // Present, so parsed into a credential or refused as malformed.
    const credential = parseAuthorizationHeader(request.authorization, this.tokenPrefix)!;
    const origin: Origin = { clientAddress: request.clientAddress, userAgent: request.userAgent };
    let verification: Verification;
    if (credential.scheme === 'token') verification = await this.credentials.userKeys.verify(credential.key);
    else if (credential.shape === 'prefixed') verification = await this.credentials.apiTokens.verify(credential.token, origin);
    else verification = await this.credentials.accessTokens.verify(credential.token);
    if (verification.ok) return { principal: verification.principal, sessionExpired: false };
    const malformed = verification.reason === 'malformed';
    if (!malformed) await this.rateLimits.consumeAuthFailure(request.clientAddress);
    throw new AuthenticationError('invalid_token', verification.message, malformed, verification.reason);
  }
}
