import { isId } from '../common/ids';
import { CredentialKind } from '../auth/principal';
import { JwtRefusal, type Jwts } from '../modules/personal-access-tokens/jwts';
import type { CredentialRefusal } from '../errors';
import type { CredentialCache } from './credential-cache';
import type { CredentialRecords, PatRecord } from './credential-records';
import { accountPrincipal } from './principals';
import { refused, verified, type Refused, type Verification } from './verification';

const PAT_USED_DIRECTLY = 'a personal access token cannot be used directly: exchange it with refreshAccessToken first';

/** How a JWT refusal counts; anything not listed (bad signature, unknown key or PAT, wrong claims) is `unknown`. */
const REASONS: Record<string, CredentialRefusal> = {
  'malformed token': 'malformed',
  'token expired': 'expired',
  'personal access token expired': 'expired',
  'personal access token revoked': 'revoked',
  'the user is inactive': 'revoked',
};

/** A refusal whose `detail` is what `verifyAccessToken` reports as the reason. */
const jwtRefused = (reason: string): Refused => ({
  ...refused(REASONS[reason] ?? 'unknown', reason === PAT_USED_DIRECTLY ? reason : `invalid or expired token: ${reason}`),
  detail: reason,
});

/**
 * Personal access tokens (long-lived JWTs, `token_type: refresh`) and the
 * short access tokens exchanged for them. The signature and claims cost no
 * query; the PAT behind them (its revocation, expiry and user) costs one
 * indexed lookup by jti on first use, then none while it stays cached.
 */
export class AccessTokenVerifier {
  constructor(
    private readonly jwts: Jwts,
    private readonly records: CredentialRecords,
    private readonly cache: CredentialCache,
    private readonly now: () => Date,
  ) {}

  /** An access token (`Bearer <jwt>`), as a request presents it. */
  async verify(token: string): Promise<Verification> {
    const decoded = await this.decode(token);
    if ('ok' in decoded) return decoded;
    if (decoded.kind !== 'access') return jwtRefused(PAT_USED_DIRECTLY);
    const pat = await this.pat(decoded.pat!, decoded.sub);
    if ('ok' in pat) return pat;
    // An access token always carries exp (Jwts.verify requires it).
    return verified(accountPrincipal(pat.user, CredentialKind.ACCESS_TOKEN, { expiresAt: new Date(decoded.exp! * 1000) }));
  }

  /** A personal access token presented for the exchange: the live PAT, or why not. */
  async verifyRefresh(token: string): Promise<PatRecord | Refused> {
    const decoded = await this.decode(token);
    if ('ok' in decoded) return decoded;
    if (decoded.kind !== 'refresh') return jwtRefused('an access token cannot be refreshed: send the personal access token');
    return this.pat(decoded.jti, decoded.sub);
  }

  private async decode(token: string) {
    try {
      return await this.jwts.verify(token);
    } catch (error) {
      if (error instanceof JwtRefusal) return jwtRefused(error.message);
      throw error;
    }
  }

  private async pat(jti: string, sub: string): Promise<PatRecord | Refused> {
    const now = this.now().getTime();
    const pat = isId(jti)
      ? await this.cache.through(
          `p:${jti}`,
          () => this.records.patByJti(jti),
          (found) => [`p:${found.jti}`, `u:${found.userId}`],
          (found) => (found.expiresAt ? found.expiresAt.getTime() - now : undefined),
        )
      : null;
    if (!pat || pat.userId !== sub) return jwtRefused('unknown personal access token');
    if (pat.revokedAt) return jwtRefused('personal access token revoked');
    if (pat.expiresAt && pat.expiresAt.getTime() <= this.now().getTime()) return jwtRefused('personal access token expired');
    if (!pat.user.isActive) return jwtRefused('the user is inactive');
    return pat;
  }
}
