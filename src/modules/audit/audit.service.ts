import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../../context';
import { AuditEventEntity } from './audit-event.entity';

export enum AuditEventType {
  ORGANIZATION_CREATED = 'organization.created',
  ORGANIZATION_UPDATED = 'organization.updated',
  MEMBER_ADDED = 'member.added',
  MEMBER_ROLE_CHANGED = 'member.role_changed',
  MEMBER_REMOVED = 'member.removed',
  SERVICE_USER_CREATED = 'service_user.created',
  SERVICE_USER_UPDATED = 'service_user.updated',
  SERVICE_USER_DELETED = 'service_user.deleted',
}

export type AuditRecord = {
  organizationId: string | null;
  eventType: AuditEventType;
  targetType: string;
  targetId: string | null;
  /** What changed, never a secret. */
  changes?: Record<string, unknown>;
};

/** Writes audit events inside the caller's transaction, so an event exists exactly when its change does. */
export class AuditService {
  async record(manager: EntityManager, ctx: RequestContext, record: AuditRecord): Promise<void> {
    const principal = ctx.principal;
    await manager.save(
      manager.create(AuditEventEntity, {
      organizationId: record.organizationId,
      eventType: record.eventType,
      actorKind: principal?.kind ?? 'ANONYMOUS',
      actorId: principal?.id ?? null,
      actorCredential: principal?.credential ?? null,
      actorTokenId: principal?.scope?.tokenId ?? null,
      targetType: record.targetType,
      targetId: record.targetId,
      clientAddress: ctx.clientAddress,
      userAgent: ctx.userAgent,
      changes: record.changes ?? {},
      }),
    );
  }
}
