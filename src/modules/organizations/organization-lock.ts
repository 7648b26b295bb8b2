import type { EntityManager } from 'typeorm';
import { callerOf, type Caller } from '../../auth/ceiling';
import { has, OrganizationRole, rightsOfRole, type Right } from '../../auth/rights';
import type { RequestContext } from '../../context';
import { forbidden, notFound } from '../../errors';
import { ApiTokenEntity } from '../api-tokens/api-token.entity';
import { ServiceUserEntity } from '../service-users/service-user.entity';
import { MembershipEntity, MembershipStatus } from './membership.entity';
import { OrganizationEntity } from './organization.entity';

/**
 * Locks the organization's row for the transaction. Every change to who
 * holds which role (members, invitations, service users) and every write
 * that produces a credential takes it, so rules that count owners or compare
 * rights see a stable set, and a removal either sees a token being created or
 * is seen by its creation. FOR NO KEY UPDATE: these writes exclude each other
 * without blocking the foreign-key checks of unrelated inserts (an audit
 * event, a token revoked elsewhere), which would otherwise deadlock with them.
 */
export async function lockOrganization(manager: EntityManager, organizationId: string): Promise<OrganizationEntity> {
  const organization = await manager
    .getRepository(OrganizationEntity)
    .createQueryBuilder('o')
    .setLock('for_no_key_update')
    .where('o.id = :organizationId', { organizationId })
    .getOne();
  if (!organization) throw notFound('organization');
  return organization;
}

/**
 * Locks the organization, then reads the caller's standing again (the
 * request's access was read before the lock, and maybe before a change the
 * same request made: a caller removed or demoted by a change just committed
 * acts with the standing they have now; a token revoked meanwhile acts no
 * more), checks the right the operation needs, and answers the caller as the
 * ceiling sees them.
 */
export async function lockForCaller(
  manager: EntityManager,
  ctx: RequestContext,
  anyCaseId: string,
  right: Right | null,
): Promise<{ role: OrganizationRole; caller: Caller; organization: OrganizationEntity }> {
  const organizationId = anyCaseId.toLowerCase();
  const organization = await lockOrganization(manager, organizationId);
  const principal = ctx.principal;
  if (!principal) throw notFound('organization');
  // An operator at the command line stands for whoever runs the database: OWNER of every organization.
  if (ctx.operator) return { role: OrganizationRole.OWNER, caller: callerOf(principal, rightsOfRole(OrganizationRole.OWNER)), organization };
  if (principal.scope && principal.scope.organizationId !== organizationId) throw notFound('organization');
  const role =
    principal.kind === 'USER'
      ? (await manager.findOneBy(MembershipEntity, { organizationId, userId: principal.id, status: MembershipStatus.ACTIVE }))?.role
      : (await manager.findOneBy(ServiceUserEntity, { id: principal.id, organizationId }))?.role;
  if (!role) throw notFound('organization');
  if (principal.scope) {
    const token = await manager.findOne(ApiTokenEntity, { where: { id: principal.scope.tokenId }, select: { id: true, revokedAt: true } });
    if (!token || token.revokedAt) throw forbidden('the token that authenticated this request has been revoked');
  }
  const rights = principal.scope ? rightsOfRole(role) & principal.scope.rights : rightsOfRole(role);
  if (right && !has(rights, right)) throw forbidden(`missing right ${right}`, { right });
  return { role, caller: callerOf(principal, rights), organization };
}
