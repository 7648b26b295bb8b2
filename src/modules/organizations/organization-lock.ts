import type { EntityManager } from 'typeorm';
import { callerOf, type Caller } from '../../auth/ceiling';
import { has, rightsOfRole, type OrganizationRole, type Right } from '../../auth/rights';
import type { RequestContext } from '../../context';
import { forbidden, notFound } from '../../errors';
import { ServiceUserEntity } from '../service-users/service-user.entity';
import { MembershipEntity, MembershipStatus } from './membership.entity';
import { OrganizationEntity } from './organization.entity';

/**
 * Locks the organization's row for the transaction. Changes to who holds which
 * role (members, service users) take it, so rules that count owners or compare
 * roles see a stable set.
 */
export async function lockOrganization(manager: EntityManager, organizationId: string): Promise<OrganizationEntity> {
  const organization = await manager
    .getRepository(OrganizationEntity)
    .createQueryBuilder('o')
    .setLock('pessimistic_write')
    .where('o.id = :organizationId', { organizationId })
    .getOne();
  if (!organization) throw notFound('organization');
  return organization;
}

/**
 * Locks the organization, then reads the caller's standing again (the
 * request's access was read before the lock: a caller demoted by a change
 * just committed acts with the role they have now), checks the right the
 * operation needs, and answers the caller as the ceiling sees them.
 */
export async function lockForCaller(
  manager: EntityManager,
  ctx: RequestContext,
  organizationId: string,
  right: Right | null,
): Promise<{ role: OrganizationRole; caller: Caller; organization: OrganizationEntity }> {
  const organization = await lockOrganization(manager, organizationId);
  const principal = ctx.principal;
  if (!principal) throw notFound('organization');
  if (principal.scope && principal.scope.organizationId !== organizationId) throw notFound('organization');
  const role =
    principal.kind === 'USER'
      ? (await manager.findOneBy(MembershipEntity, { organizationId, userId: principal.id, status: MembershipStatus.ACTIVE }))?.role
      : (await manager.findOneBy(ServiceUserEntity, { id: principal.id, organizationId }))?.role;
  if (!role) throw notFound('organization');
  const rights = principal.scope ? rightsOfRole(role) & principal.scope.rights : rightsOfRole(role);
  if (right && !has(rights, right)) throw forbidden(`missing right ${right}`, { right });
  return { role, caller: callerOf(principal, rights), organization };
}
