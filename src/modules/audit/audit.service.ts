import type { DataSource, EntityManager } from 'typeorm';
import { checkId } from '../../common/ids';
import { badInput } from '../../errors';
import { paginate, type Page, type PageArgs } from '../../common/pagination';
import type { RequestContext } from '../../context';
import { AuditEventEntity } from './audit-event.entity';

export enum AuditEventType {
  ORGANIZATION_CREATED = 'organization.created',
  ORGANIZATION_UPDATED = 'organization.updated',
  MEMBER_INVITED = 'member.invited',
  MEMBER_JOINED = 'member.joined',
  MEMBER_DECLINED = 'member.declined',
  MEMBER_ROLE_CHANGED = 'member.role_changed',
  MEMBER_REMOVED = 'member.removed',
  SERVICE_USER_CREATED = 'service_user.created',
  SERVICE_USER_UPDATED = 'service_user.updated',
  SERVICE_USER_DELETED = 'service_user.deleted',
  API_TOKEN_CREATED = 'api_token.created',
  API_TOKEN_UPDATED = 'api_token.updated',
  API_TOKEN_REGENERATED = 'api_token.regenerated',
  API_TOKEN_REVOKED = 'api_token.revoked',
  API_TOKEN_REUSE_DETECTED = 'api_token.reuse_detected',
  API_TOKEN_LEAK_REPORTED = 'api_token.leak_reported',
  TOKEN_POLICY_CHANGED = 'token_policy.changed',
  USER_KEY_REGENERATED = 'user_key.regenerated',
  PERSONAL_ACCESS_TOKEN_CREATED = 'personal_access_token.created',
  PERSONAL_ACCESS_TOKEN_REVOKED = 'personal_access_token.revoked',
}

/** Where an event comes from: the request's context, or what is known before one exists. */
export type AuditOrigin = Pick<RequestContext, 'principal' | 'clientAddress' | 'userAgent' | 'operator'>;

/** Who acted, when that is not the request's principal (a job, a token found leaked, an operator at the command line). */
export type AuditActor = { kind: 'SYSTEM' | 'ANONYMOUS' | 'OPERATOR' };

export type AuditRecord = {
  organizationId: string | null;
  eventType: AuditEventType;
  targetType: string;
  targetId: string | null;
  /** What changed, never a secret. */
  changes?: Record<string, unknown>;
  actor?: AuditActor;
  /** Leave out where the actor acted from (address, user agent, credential): for someone who is not of the organization, such as an invitee saying no. */
  withoutOrigin?: true;
};

/** Writes audit events inside the caller's transaction, so an event exists exactly when its change does. */
export class AuditService {
  constructor(private readonly dataSource: DataSource) {}

  /** An organization's events, newest first. */
  list(organizationId: string, args: PageArgs & { eventType?: string | null; actorId?: string | null }): Promise<Page<AuditEventEntity>> {
    const query = this.dataSource.getRepository(AuditEventEntity).createQueryBuilder('e').where('e.organizationId = :organizationId', { organizationId });
    if (args.eventType) {
      if (!/^[a-z_]+\.[a-z_]+$/.test(args.eventType)) throw badInput('eventType', 'is not an event type, such as api_token.created');
      query.andWhere('e.eventType = :eventType', { eventType: args.eventType });
    }
    if (args.actorId) query.andWhere('e.actorId = :actorId', { actorId: checkId('actorId', args.actorId) });
    return paginate(query, args, true);
  }

  async record(manager: EntityManager, ctx: AuditOrigin, record: AuditRecord): Promise<void> {
    const actor: AuditActor | undefined = record.actor ?? (ctx.operator ? { kind: 'OPERATOR' } : undefined);
    const principal = actor ? null : ctx.principal;
    await manager.save(
      manager.create(AuditEventEntity, {
      organizationId: record.organizationId,
      eventType: record.eventType,
      actorKind: actor?.kind ?? principal?.kind ?? 'ANONYMOUS',
      actorId: principal?.id ?? null,
      actorCredential: record.withoutOrigin ? null : (principal?.credential ?? null),
      actorTokenId: record.withoutOrigin ? null : (principal?.scope?.tokenId ?? null),
      targetType: record.targetType,
      targetId: record.targetId,
      // An operator's command has no client address.
      clientAddress: record.withoutOrigin ? null : ctx.clientAddress || null,
      userAgent: record.withoutOrigin ? null : ctx.userAgent,
      changes: record.changes ?? {},
      }),
    );
  }
}
