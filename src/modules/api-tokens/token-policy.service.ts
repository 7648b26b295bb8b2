import type { DataSource } from 'typeorm';
import type { RequestContext } from '../../context';
import { lockForCaller } from '../organizations/organization-lock';
import { badInput } from '../../errors';
import { AuditEventType, type AuditService } from '../audit/audit.service';
import { ApiTokenEntity } from './api-token.entity';
import { policyViolation, type PolicyRule } from './expiration-policy';
import { TokenExpirationPolicyEntity } from './token-expiration-policy.entity';

export type PolicyInput = {
  organizationId: string;
  requireExpiration: boolean;
  maxLifetimeDays?: number | null;
  notifyDaysBeforeExpiry?: number | null;
};

export type NonCompliantToken = { token: ApiTokenEntity; rule: PolicyRule; reason: string };

function optionalDays(field: string, value: number | null | undefined, max: number): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || value < 1 || value > max) throw badInput(field, `must be between 1 and ${max} days`);
  return value;
}

export class TokenPolicyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  get(organizationId: string): Promise<TokenExpirationPolicyEntity | null> {
    return this.dataSource.getRepository(TokenExpirationPolicyEntity).findOneBy({ organizationId });
  }

  /**
   * Sets the policy, and reports the live tokens that break it (a dry run of
   * what enforcing it means: from now on those tokens are refused at use).
   */
  async set(ctx: RequestContext, input: PolicyInput): Promise<{ policy: TokenExpirationPolicyEntity; nonCompliant: NonCompliantToken[] }> {
    const maxLifetimeDays = optionalDays('maxLifetimeDays', input.maxLifetimeDays, 3650);
    const notifyDaysBeforeExpiry = optionalDays('notifyDaysBeforeExpiry', input.notifyDaysBeforeExpiry, 365);
    if (maxLifetimeDays !== null && notifyDaysBeforeExpiry !== null && notifyDaysBeforeExpiry >= maxLifetimeDays) {
      throw badInput('notifyDaysBeforeExpiry', 'must be less than maxLifetimeDays');
    }
    const values = {
      organizationId: input.organizationId,
      requireExpiration: input.requireExpiration,
      maxLifetimeDays,
      notifyDaysBeforeExpiry,
      updatedById: ctx.principal?.kind === 'USER' ? ctx.principal.id : null,
    };
    const policy = await this.dataSource.transaction(async (manager) => {
      await lockForCaller(manager, ctx, input.organizationId, 'organization.update');
      await manager.upsert(TokenExpirationPolicyEntity, values, ['organizationId']);
      await this.audit.record(manager, ctx, {
        organizationId: input.organizationId,
        eventType: AuditEventType.TOKEN_POLICY_CHANGED,
        targetType: 'organization',
        targetId: input.organizationId,
        changes: { requireExpiration: values.requireExpiration, maxLifetimeDays, notifyDaysBeforeExpiry },
      });
      return manager.findOneByOrFail(TokenExpirationPolicyEntity, { organizationId: input.organizationId });
    });
    const live = await this.dataSource
      .getRepository(ApiTokenEntity)
      .createQueryBuilder('t')
      .where('t.organizationId = :organizationId', { organizationId: input.organizationId })
      .andWhere('t.revokedAt IS NULL AND (t.expiresAt IS NULL OR t.expiresAt > now())')
      .orderBy('t.createdAt', 'ASC')
      .addOrderBy('t.id', 'ASC')
      .getMany();
    const nonCompliant = live.flatMap((token) => {
      const violation = policyViolation(policy, token);
      return violation ? [{ token, rule: violation.rule, reason: violation.message }] : [];
    });
    return { policy, nonCompliant };
  }
}
