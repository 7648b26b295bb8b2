import type { EntityManager } from 'typeorm';
import { AuditEventType, type AuditOrigin, type AuditService } from '../audit/audit.service';

export const MEMBER_REMOVED_REASON = 'member_removed';

/**
 * Ends a former member's API tokens in the organization, in the transaction
 * that ends the membership: a token that only sleeps while its owner is out
 * would wake with its old rights if they were let back in. Each revocation is
 * audited as one.
 */
export async function revokeTokensOfMember(
  manager: EntityManager,
  audit: AuditService,
  origin: AuditOrigin,
  member: { organizationId: string; userId: string },
): Promise<number> {
  const [revoked]: [{ id: string; tokenPrefix: string }[], number] = await manager.query(
    `UPDATE api_tokens SET "revokedAt" = now(), "revokedReason" = $3
      WHERE "organizationId" = $1 AND "ownerUserId" = $2 AND "revokedAt" IS NULL
      RETURNING id, "tokenPrefix"`,
    [member.organizationId, member.userId, MEMBER_REMOVED_REASON],
  );
  for (const token of revoked) {
    await audit.record(manager, origin, {
      organizationId: member.organizationId,
      eventType: AuditEventType.API_TOKEN_REVOKED,
      targetType: 'api_token',
      targetId: token.id,
      changes: { reason: MEMBER_REMOVED_REASON, tokenPrefix: token.tokenPrefix },
    });
  }
  return revoked.length;
}
