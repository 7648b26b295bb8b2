import type { RateLimits } from '../common/rate-limits';
import { AuthenticationError } from '../errors';
import type { SessionsService } from '../modules/sessions/sessions.service';
import type { UsersService } from '../modules/users/users.service';
import { parseAuthorizationHeader } from './authorization-header';
import { CredentialKind, type Principal } from './principal';
import { presentedCredential, refusalOf, type CredentialLabel, type VerificationResult } from './verification-result';

export type RequestOrigin = { clientAddress: string; userAgent: string | null };

/** Verifies one shape of Bearer token; the API-token and JWT verifiers plug in here. */
export type BearerVerifier = (token: string, origin: RequestOrigin) => Promise<Principal>;

export type Authentication = { principal: Principal | null; sessionExpired: boolean };


/**
 * Turns a request's Authorization header or session cookie into a Principal.
 * The header wins over the cookie. A bad header fails the whole request (401);
 * a credential that was looked up and refused also counts against the client
 * address's limit of failed credential checks.
 * A stale cookie does not: it only makes the request anonymous, so a user can
 * still log in again.
 */
export class Authenticator {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly rateLimits: RateLimits,
    private readonly tokenPrefix: string,
    /** One verifier per Bearer shape: `idg_…` API tokens and JWT access tokens. */
    private readonly bearer: Record<'prefixed' | 'jwt', BearerVerifier>,
  ) {}

  /** Told of every credential a request presents: its kind and what its check decided (the metrics count them). */
  onVerification: (kind: CredentialLabel, result: VerificationResult) => void = () => undefined;

  async authenticate(request: RequestOrigin & { authorization?: string | string[]; sessionCookie?: string }): Promise<Authentication> {
    const kind = presentedCredential(request, this.tokenPrefix);
    if (kind === null) return this.verify(request);
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

  private async verify(request: RequestOrigin & { authorization?: string | string[]; sessionCookie?: string }): Promise<Authentication> {
    if (request.authorization !== undefined) this.rateLimits.refuseIfBlocked(request.clientAddress);
    try {
      const credential = parseAuthorizationHeader(request.authorization, this.tokenPrefix);
      if (credential?.scheme === 'token') {
        const user = await this.users.authenticateUserKey(credential.key);
        return { principal: { kind: 'USER', id: user.id, user, credential: CredentialKind.USER_KEY }, sessionExpired: false };
      }
      if (credential?.scheme === 'bearer') {
        return { principal: await this.bearer[credential.shape](credential.token, request), sessionExpired: false };
      }
    } catch (error) {
      if (error instanceof AuthenticationError && !error.malformed) await this.rateLimits.consumeAuthFailure(request.clientAddress);
      throw error;
    }
    if (request.sessionCookie === undefined) return { principal: null, sessionExpired: false };
    const session = await this.sessions.resolve(request.sessionCookie);
    if (!session) return { principal: null, sessionExpired: true };
    const { user, sessionId } = session;
    return { principal: { kind: 'USER', id: user.id, user, credential: CredentialKind.SESSION, sessionId }, sessionExpired: false };
  }
}
