import type { DataSource, EntityManager } from 'typeorm';
import { assertWithinCeiling, type Yield } from '../../auth/ceiling';
import type { OrganizationRole, Right } from '../../auth/rights';
import { paginate, type Page, type PageArgs } from '../../common/pagination';
import type { RequestContext } from '../../context';
import { uniqueViolation } from '../../db/errors';
import { conflict, notFound } from '../../errors';
import { AuditEventType, type AuditService } from '../audit/audit.service';
import { withdrawInvitationsBy } from '../organizations/invitations';
import { lockForCaller } from '../organizations/organization-lock';
import { checkName } from '../users/validation';
import { ServiceUserEntity } from './service-user.entity';

const DUPLICATE_NAME = 'name: a service user with this name already exists in the organization';

export class ServiceUsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /**
   * A service user's role, the one it has and the one it is given, must be
   * within the effective rights of whoever creates, changes or deletes it:
   * checked against the caller's standing read under the organization's lock,
   * so a caller demoted a moment ago cannot still act with the old role.
   */
  private async lockAndCheckCeiling(manager: EntityManager, ctx: RequestContext, organizationId: string, right: Right, produced: Yield): Promise<void> {
    const { caller } = await lockForCaller(manager, ctx, organizationId, right);
    assertWithinCeiling(caller, produced);
  }

  private async current(manager: EntityManager, id: string): Promise<ServiceUserEntity> {
    const serviceUser = await manager.findOneBy(ServiceUserEntity, { id });
    if (!serviceUser) throw notFound('service user');
    return serviceUser;
  }

  async create(ctx: RequestContext, input: { organizationId: string; name: string; role: OrganizationRole }): Promise<ServiceUserEntity> {
    const name = checkName('name', input.name, 100);
    try {
      return await this.dataSource.transaction(async (manager) => {
        await this.lockAndCheckCeiling(manager, ctx, input.organizationId, 'serviceUsers.create', { roles: [input.role], lasting: 'role' });
        const serviceUser = await manager.save(
          manager.create(ServiceUserEntity, {
            organizationId: input.organizationId,
            name,
            role: input.role,
            // A service user made by another stands for the same person: the one who made the first.
            createdById: ctx.principal?.kind === 'USER' ? ctx.principal.id : (ctx.principal?.serviceUser.createdById ?? null),
          }),
        );
        await this.audit.record(manager, ctx, {
          organizationId: input.organizationId,
          eventType: AuditEventType.SERVICE_USER_CREATED,
          targetType: 'service_user',
          targetId: serviceUser.id,
          changes: { name, role: input.role },
        });
        return serviceUser;
      });
    } catch (error) {
      if (uniqueViolation(error) === 'UQ_service_users_organization_name') throw conflict(DUPLICATE_NAME);
      throw error;
    }
  }

  async update(ctx: RequestContext, input: { id: string; name?: string | null; role?: OrganizationRole | null }): Promise<ServiceUserEntity> {
    const found = await ctx.loaders.serviceUser.load(input.id);
    if (!found) throw notFound('service user');
    const changes: Partial<Pick<ServiceUserEntity, 'name' | 'role'>> = {};
    if (input.name !== undefined && input.name !== null) changes.name = checkName('name', input.name, 100);
    if (input.role !== undefined && input.role !== null) changes.role = input.role;
    try {
      return await this.dataSource.transaction(async (manager) => {
        const serviceUser = await this.current(manager, found.id);
        // As for deletion: one whose role is above the caller's cannot be changed at all, not even renamed.
        await this.lockAndCheckCeiling(
          manager,
          ctx,
          serviceUser.organizationId,
          'serviceUsers.update',
          changes.role ? { roles: [serviceUser.role, changes.role], lasting: 'role' } : { roles: [serviceUser.role] },
        );
        if (Object.keys(changes).length === 0) return serviceUser;
        await manager.update(ServiceUserEntity, { id: serviceUser.id }, changes);
        await this.audit.record(manager, ctx, {
          organizationId: serviceUser.organizationId,
          eventType: AuditEventType.SERVICE_USER_UPDATED,
          targetType: 'service_user',
          targetId: serviceUser.id,
          changes,
        });
        return { ...serviceUser, ...changes };
      });
    } catch (error) {
      if (uniqueViolation(error) === 'UQ_service_users_organization_name') throw conflict(DUPLICATE_NAME);
      throw error;
    }
  }

  /** Its tokens go with it (foreign key ON DELETE CASCADE): deleting a bot revokes everything it held. */
  async delete(ctx: RequestContext, id: string): Promise<ServiceUserEntity> {
    const found = await ctx.loaders.serviceUser.load(id);
    if (!found) throw notFound('service user');
    return this.dataSource.transaction(async (manager) => {
      const serviceUser = await this.current(manager, found.id);
      await this.lockAndCheckCeiling(manager, ctx, serviceUser.organizationId, 'serviceUsers.delete', { roles: [serviceUser.role] });
      await withdrawInvitationsBy(manager, this.audit, ctx, serviceUser.organizationId, { invitedByServiceUserId: serviceUser.id });
      await manager.delete(ServiceUserEntity, { id: serviceUser.id });
      await this.audit.record(manager, ctx, {
        organizationId: serviceUser.organizationId,
        eventType: AuditEventType.SERVICE_USER_DELETED,
        targetType: 'service_user',
        targetId: serviceUser.id,
        changes: { name: serviceUser.name, role: serviceUser.role },
      });
      return serviceUser;
    });
  }

  list(organizationId: string, args: PageArgs): Promise<Page<ServiceUserEntity>> {
    return paginate(
      this.dataSource.getRepository(ServiceUserEntity).createQueryBuilder('s').where('s.organizationId = :organizationId', { organizationId }),
      args,
    );
  }
}
