import type { EntityManager } from 'typeorm';
import { exceeding, rightsOfRole } from '../../auth/rights';
import type { Principal } from '../../auth/principal';
import type { RequestContext } from '../../context';
import { AuditEventType, type AuditOrigin, type AuditService } from '../audit/audit.service';
import { ServiceUserEntity } from '../service-users/service-user.entity';
import { MembershipEntity, MembershipStatus } from './membership.entity';

/** How long an invitation may be accepted: past it, it is to be sent again by someone who can still grant its role. */
export const INVITATION_LIFETIME_DAYS = 14;

/** Who is inviting: a user, or a service user of the organization. */
export function inviterOf(ctx: RequestContext): Pick<MembershipEntity, 'invitedById' | 'invitedByServiceUserId'> {
  const principal = ctx.principal!;
  if (principal.kind === 'USER') return { invitedById: principal.id, invitedByServiceUserId: null };
  return { invitedById: null, invitedByServiceUserId: principal.id };
}

/**
 * Whose invitation budget an attempt spends: a person's own, and a service
 * user spends that of the person who made it (its organization's, once that
 * person is gone), so that making bots buys no extra lookups.
 */
export function invitingAccount(principal: Principal): string {
  if (principal.kind === 'USER') return `user:${principal.id}`;
  const { createdById, organizationId } = principal.serviceUser;
  return createdById ? `user:${createdById}` : `organization:${organizationId}`;
}

/** Why an invitation can no longer be accepted, or null. */
export async function invitationRefusal(manager: EntityManager, invitation: MembershipEntity): Promise<string | null> {
  if (invitation.createdAt.getTime() < Date.now() - INVITATION_LIFETIME_DAYS * 86_400_000) {
    return `this invitation has expired (after ${INVITATION_LIFETIME_DAYS} days): ask for a new one`;
  }
  const { organizationId } = invitation;
  const inviterRole = invitation.invitedById
    ? (await manager.findOneBy(MembershipEntity, { organizationId, userId: invitation.invitedById, status: MembershipStatus.ACTIVE }))?.role
    : invitation.invitedByServiceUserId
      ? (await manager.findOneBy(ServiceUserEntity, { id: invitation.invitedByServiceUserId, organizationId }))?.role
      : undefined;
  if (!inviterRole || exceeding(rightsOfRole(invitation.role), rightsOfRole(inviterRole)).length > 0) {
    return `this invitation is no longer valid: whoever sent it can no longer grant ${invitation.role}; ask for a new one`;
  }
  return null;
}

/** Invitations someone sent go when they do: nobody is let in on the word of a person who is no longer there. */
export async function withdrawInvitationsBy(
  manager: EntityManager,
  audit: AuditService,
  origin: AuditOrigin,
  organizationId: string,
  inviter: { invitedById: string } | { invitedByServiceUserId: string },
): Promise<void> {
  const withdrawn = await manager.find(MembershipEntity, { where: { organizationId, status: MembershipStatus.INVITED, ...inviter } });
  for (const invitation of withdrawn) {
    await manager.delete(MembershipEntity, { id: invitation.id, status: MembershipStatus.INVITED });
    await audit.record(manager, origin, {
      organizationId,
      eventType: AuditEventType.MEMBER_REMOVED,
      targetType: 'user',
      targetId: invitation.userId,
      changes: { role: invitation.role, left: false, invitation: true, reason: 'inviter_gone' },
    });
  }
}
