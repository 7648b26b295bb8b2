import type { DataSource, EntityManager } from 'typeorm';
import { has, OrganizationRole } from '../../auth/rights';
import type { RequestContext } from '../../context';
import { uniqueViolation } from '../../db/errors';
import { conflict, forbidden, notFound } from '../../errors';
import { AuditEventType, type AuditService } from '../audit/audit.service';
import { UserEntity } from '../users/user.entity';
import { normalizeEmail } from '../users/validation';
import { MembershipEntity } from './membership.entity';
import { lockForCaller } from './organization-lock';

const LAST_OWNER = 'an organization must keep at least one OWNER';

/**
 * Membership rules beyond the role table: only an OWNER grants, changes or
 * removes the OWNER role, and the last OWNER can neither leave nor be demoted.
 * Each change locks the organization's row, so two concurrent demotions
 * cannot both pass the owner count, and reads the caller's role again under
 * that lock, so a caller demoted by a change just committed acts with the role
 * they have now.
 */
export class MembershipsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  private async membership(manager: EntityManager, organizationId: string, userId: string): Promise<MembershipEntity> {
    const membership = await manager.findOneBy(MembershipEntity, { organizationId, userId });
    if (!membership) throw notFound('member');
    return membership;
  }

  private async ownerCount(manager: EntityManager, organizationId: string): Promise<number> {
    return manager.countBy(MembershipEntity, { organizationId, role: OrganizationRole.OWNER });
  }

  async add(ctx: RequestContext, input: { organizationId: string; email: string; role: OrganizationRole }): Promise<MembershipEntity> {
    const email = normalizeEmail(input.email);
    try {
      return await this.dataSource.transaction(async (manager) => {
        const callerRole = await lockForCaller(manager, ctx, input.organizationId, 'members.create');
        if (input.role === OrganizationRole.OWNER && callerRole !== OrganizationRole.OWNER) {
          throw forbidden('only an OWNER can grant the OWNER role');
        }
        const user = await manager.findOneBy(UserEntity, { email });
        if (!user || !user.isActive) throw notFound('user with this email');
        const membership = await manager.save(manager.create(MembershipEntity, { organizationId: input.organizationId, userId: user.id, role: input.role }));
        await this.audit.record(manager, ctx, {
          organizationId: input.organizationId,
          eventType: AuditEventType.MEMBER_ADDED,
          targetType: 'user',
          targetId: user.id,
          changes: { role: input.role },
        });
        return membership;
      });
    } catch (error) {
      if (uniqueViolation(error) === 'UQ_memberships_organization_user') throw conflict('email: this user is already a member');
      throw error;
    }
  }

  async updateRole(ctx: RequestContext, input: { organizationId: string; userId: string; role: OrganizationRole }): Promise<MembershipEntity> {
    return this.dataSource.transaction(async (manager) => {
      const callerRole = await lockForCaller(manager, ctx, input.organizationId, 'members.update');
      const membership = await this.membership(manager, input.organizationId, input.userId);
      const touchesOwner = membership.role === OrganizationRole.OWNER || input.role === OrganizationRole.OWNER;
      if (touchesOwner && callerRole !== OrganizationRole.OWNER) throw forbidden('only an OWNER can grant or change the OWNER role');
      if (membership.role === input.role) return membership;
      if (membership.role === OrganizationRole.OWNER && (await this.ownerCount(manager, input.organizationId)) <= 1) {
        throw forbidden(LAST_OWNER);
      }
      await manager.update(MembershipEntity, { id: membership.id }, { role: input.role });
      await this.audit.record(manager, ctx, {
        organizationId: input.organizationId,
        eventType: AuditEventType.MEMBER_ROLE_CHANGED,
        targetType: 'user',
        targetId: input.userId,
        changes: { from: membership.role, to: input.role },
      });
      return { ...membership, role: input.role };
    });
  }

  /**
   * Anyone signed in as themselves may leave; removing someone else needs
   * members.delete, and so does removing oneself through an org-scoped API
   * token (whose rights bound everything it does).
   */
  async remove(ctx: RequestContext, input: { organizationId: string; userId: string }): Promise<MembershipEntity> {
    const access = await ctx.access(input.organizationId);
    if (!access) throw notFound('organization');
    const leaving = ctx.principal?.kind === 'USER' && !ctx.principal.scope && ctx.principal.id === input.userId;
    if (!leaving && !has(access.rights, 'members.delete')) throw forbidden('missing right members.delete', { right: 'members.delete' });
    return this.dataSource.transaction(async (manager) => {
      const callerRole = await lockForCaller(manager, ctx, input.organizationId, leaving ? null : 'members.delete');
      const membership = await this.membership(manager, input.organizationId, input.userId);
      if (membership.role === OrganizationRole.OWNER) {
        if (!leaving && callerRole !== OrganizationRole.OWNER) throw forbidden('only an OWNER can remove an OWNER');
        if ((await this.ownerCount(manager, input.organizationId)) <= 1) throw forbidden(LAST_OWNER);
      }
      await manager.delete(MembershipEntity, { id: membership.id });
      await this.audit.record(manager, ctx, {
        organizationId: input.organizationId,
        eventType: AuditEventType.MEMBER_REMOVED,
        targetType: 'user',
        targetId: input.userId,
        changes: { role: membership.role, left: leaving },
      });
      return membership;
    });
  }
}
