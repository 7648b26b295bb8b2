import { sha256 } from '../auth/secrets';
import { policyViolation } from '../modules/api-tokens/expiration-policy';
import { isWellFormedApiToken } from '../modules/api-tokens/token-format';
import type { TokenUsageRecorder } from '../modules/api-tokens/token-usage';
import type { CredentialCache, DependsOn } from './credential-cache';
import type { ApiTokenRecord, CredentialRecords } from './credential-records';
import { apiTokenPrincipal } from './principals';
import { refused, verified, type Origin, type Verification } from './verification';

const REPLACED_SECRET_MESSAGE = 'invalid or expired token: this secret was replaced by regeneration';

/** Told when a secret replaced by regeneration is presented after its grace period (the token service acts on it). */
export type ReplacedSecretHandler = (token: ApiTokenRecord & { replaced: NonNullable<ApiTokenRecord['replaced']> }, origin: Origin) => Promise<void>;

function dependenciesOf(token: ApiTokenRecord): DependsOn {
  const names = [`t:${token.id}`, `o:${token.organizationId}`];
  if (token.serviceUser) names.push(`s:${token.serviceUser.id}`);
  if (token.user) names.push(`u:${token.user.id}`);
  return names;
}

/** When the token stops being usable as found: its expiry, or the end of a replaced secret's grace period. */
function endOf(token: ApiTokenRecord): Date | null {
  const graceEndsAt = token.replaced?.graceEndsAt ?? null;
  if (graceEndsAt && token.expiresAt) return graceEndsAt < token.expiresAt ? graceEndsAt : token.expiresAt;
  return graceEndsAt ?? token.expiresAt;
}

/**
 * Organization-scoped API tokens (`Bearer idg_…`). The format and checksum
 * cost no query; a well-formed token costs one indexed statement on first
 * use (the current secret or a replaced one, with the owner's standing and
 * the organization's policy), then none while it stays cached. Expiry, the
 * grace period and the policy are checked on every use.
 */
export class ApiTokenVerifier {
  constructor(
    private readonly records: CredentialRecords,
    private readonly cache: CredentialCache,
    private readonly usage: TokenUsageRecorder,
    private readonly tokenPrefix: string,
    private readonly now: () => Date,
    private readonly onReplacedSecret: ReplacedSecretHandler,
  ) {}

  /** `recordUse: false` for a look that is not a use (introspection): lastUsedAt stays the bearer's. */
  async verify(secret: string, origin: Origin, options: { recordUse: boolean } = { recordUse: true }): Promise<Verification> {
    if (!isWellFormedApiToken(secret, this.tokenPrefix)) return refused('malformed', 'invalid token format');
    const digest = sha256(secret);
    const now = this.now().getTime();
    const token = await this.cache.through(
      `a:${digest.toString('base64')}`,
      () => this.records.apiTokenByDigest(digest),
      dependenciesOf,
      (found) => {
        const end = endOf(found);
        return end ? end.getTime() - now : undefined;
      },
    );
    if (!token) return refused('unknown', 'invalid or expired token');
    const result = await this.check(token, origin);
    if (result.ok && options.recordUse) this.usage.record(token.id, origin.clientAddress);
    return result;
  }

  private async check(token: ApiTokenRecord, origin: Origin): Promise<Verification> {
    const now = this.now().getTime();
    if (token.replaced && token.replaced.graceEndsAt.getTime() <= now) {
      if (!token.revokedAt) await this.onReplacedSecret({ ...token, replaced: token.replaced }, origin);
      return refused('replaced', REPLACED_SECRET_MESSAGE);
    }
    if (token.revokedAt) return refused('revoked', 'token revoked');
    if (token.expiresAt && token.expiresAt.getTime() <= now) return refused('expired', 'token expired');
    const violation = policyViolation(token.policy, token);
    if (violation) return refused('policy', `token refused by the organization's policy: ${violation.message}`);
    if (token.serviceUser) return verified(apiTokenPrincipal(token, token.serviceUser.role));
    if (!token.user || !token.user.isActive || !token.memberRole) {
      return refused('revoked', 'invalid or expired token: its owner is no longer in the organization');
    }
    return verified(apiTokenPrincipal(token, token.memberRole));
  }
}
