import type { TokenExpirationPolicyEntity } from './token-expiration-policy.entity';

const DAY_MS = 86_400_000;

export type PolicyRule = 'requireExpiration' | 'maxLifetimeDays';
export type PolicyViolation = { rule: PolicyRule; message: string };

type Policy = Pick<TokenExpirationPolicyEntity, 'requireExpiration' | 'maxLifetimeDays'>;

/**
 * Whether a token that lives from `createdAt` to `expiresAt` (null: forever)
 * keeps the organization's policy. One rule for creation, updates, use, and
 * the dry-run report of a new policy.
 */
export function policyViolation(policy: Policy | null | undefined, token: { createdAt: Date; expiresAt: Date | null }): PolicyViolation | null {
  if (!policy) return null;
  if (policy.requireExpiration && token.expiresAt === null) {
    return { rule: 'requireExpiration', message: 'the organization requires tokens to expire (requireExpiration)' };
  }
  if (policy.maxLifetimeDays !== null) {
    const lifetimeMs = token.expiresAt === null ? Infinity : token.expiresAt.getTime() - token.createdAt.getTime();
    if (lifetimeMs > policy.maxLifetimeDays * DAY_MS) {
      return {
        rule: 'maxLifetimeDays',
        message: `the organization allows tokens to live at most ${policy.maxLifetimeDays} days (maxLifetimeDays)`,
      };
    }
  }
  return null;
}
