import { CredentialKind } from '../auth/principal';
import { SESSION_SECRET_PATTERN, sha256 } from '../auth/secrets';
import type { CredentialCache } from './credential-cache';
import type { CredentialRecords } from './credential-records';
import { accountPrincipal } from './principals';
import { refused, verified, type Verification } from './verification';

/** A browser session's cookie: its digest names the session row; the session ends at its expiry or at logOut. */
export class SessionVerifier {
  constructor(
    private readonly records: CredentialRecords,
    private readonly cache: CredentialCache,
    private readonly now: () => Date,
  ) {}

  async verify(secret: string): Promise<Verification> {
    if (!SESSION_SECRET_PATTERN.test(secret)) return refused('malformed', 'invalid session cookie');
    const digest = sha256(secret);
    const now = this.now().getTime();
    const session = await this.cache.through(
      `x:${digest.toString('base64')}`,
      () => this.records.sessionByDigest(digest),
      (found) => [`x:${found.sessionId}`, `u:${found.user.id}`],
      (found) => found.expiresAt.getTime() - now,
    );
    if (!session) return refused('unknown', 'no such session');
    if (session.expiresAt.getTime() <= this.now().getTime()) return refused('expired', 'the session has expired');
    if (!session.user.isActive) return refused('revoked', 'the user is inactive');
    return verified(accountPrincipal(session.user, CredentialKind.SESSION, { sessionId: session.sessionId }));
  }
}
