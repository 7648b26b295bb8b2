import type { DataSource, EntityManager } from 'typeorm';
import { assertWithinCeiling } from '../../auth/ceiling';
import { has, OrganizationRole } from '../../auth/rights';
import type { RateLimits } from '../../common/rate-limits';
import type { RequestContext } from '../../context';
import { uniqueViolation } from '../../db/errors';
import { conflict, DomainError, ErrorCode, forbidden, notFound } from '../../errors';
import type { Mailer } from '../../mail/mailer';
import { revokeTokensOfMember } from '../api-tokens/member-tokens';
import { AuditEventType, type AuditService } from '../audit/audit.service';
import { UserEntity } from '../users/user.entity';
import { normalizeEmail } from '../users/validation';
import { invitationMail } from './invitation-mail';
import { MembershipEntity, MembershipStatus } from './membership.entity';
import { invitationRefusal, invitingAccount, inviterOf, withdrawInvitationsBy } from './invitations';
import { lockForCaller, lockOrganization } from './organization-lock';

/** An organization that is not there, to someone answering an invitation, is an invitation that is not there. */
const rethrowAs = (what: string) => (error: unknown) => {
  if (error instanceof DomainError && error.code === ErrorCode.NOT_FOUND) throw notFound(what);
  throw error;
};

const LAST_OWNER = 'an organization must keep at least one OWNER';

/**
 * Membership rules beyond the role table: a role is granted, changed or taken
 * away only by a caller whose effective rights hold every right of it (the
 * ceiling; so only an OWNER with a full credential touches the OWNER role),
 * nobody becomes a member without accepting, and the last OWNER can neither
 * leave nor be demoted. Each change locks the organization's row, so two
 * concurrent demotions cannot both pass the owner count, and reads the
 * caller's standing again under that lock, so a caller demoted by a change
 * just committed acts with the role they have now.
 */
export class MembershipsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly rateLimits: RateLimits,
    private readonly mailer: Mailer,
  ) {}

  private async membership(manager: EntityManager, organizationId: string, userId: string): Promise<MembershipEntity> {
    const membership = await manager.findOneBy(MembershipEntity, { organizationId, userId });
    if (!membership) throw notFound('member');
    return membership;
  }

  /** Invited OWNERs do not count: until they accept, they cannot stand in for the last one. */
  private async isLastOwner(manager: EntityManager, membership: MembershipEntity): Promise<boolean> {
    if (membership.role !== OrganizationRole.OWNER || membership.status !== MembershipStatus.ACTIVE) return false;
    const { organizationId } = membership;
    return (await manager.countBy(MembershipEntity, { organizationId, role: OrganizationRole.OWNER, status: MembershipStatus.ACTIVE })) <= 1;
  }

  /**
   * Invites an existing account: the membership is INVITED and grants nothing
   * until its person accepts. Every attempt counts against the caller's
   * ADD_MEMBER_RATE_LIMIT, an unknown address too, so that asking which
   * addresses have accounts stays slow.
   */
  async add(ctx: RequestContext, input: { organizationId: string; email: string; role: OrganizationRole }): Promise<MembershipEntity> {
    const email = normalizeEmail(input.email);
    const principal = ctx.principal!;
    await this.rateLimits.consumeAddMember(invitingAccount(principal), email);
    let invited: { user: UserEntity; organizationName: string } | undefined;
    let membership: MembershipEntity;
    try {
      membership = await this.dataSource.transaction(async (manager) => {
        const { caller, organization } = await lockForCaller(manager, ctx, input.organizationId, 'members.create');
        assertWithinCeiling(caller, { roles: [input.role], lasting: 'role' });
        const user = await manager.findOneBy(UserEntity, { email });
        if (!user || !user.isActive) throw notFound('user with this email');
        // An invitation that can no longer be accepted (expired, or its inviter gone) gives way to a new one.
        const earlier = await manager.findOneBy(MembershipEntity, { organizationId: organization.id, userId: user.id, status: MembershipStatus.INVITED });
        if (earlier && (await invitationRefusal(manager, earlier))) await manager.delete(MembershipEntity, { id: earlier.id });
        const created = await manager.save(
          manager.create(MembershipEntity, {
            organizationId: organization.id,
            userId: user.id,
            role: input.role,
            status: MembershipStatus.INVITED,
            ...inviterOf(ctx),
          }),
        );
        await this.audit.record(manager, ctx, {
          organizationId: input.organizationId,
          eventType: AuditEventType.MEMBER_INVITED,
          targetType: 'user',
          targetId: user.id,
          changes: { role: input.role },
        });
        invited = { user, organizationName: organization.name };
        return created;
      });
    } catch (error) {
      if (uniqueViolation(error) === 'UQ_memberships_organization_user') throw conflict('email: this user is already a member or invited');
      throw error;
    }
    if (invited) {
      const inviter = principal.kind === 'USER' ? { email: principal.user.email } : { serviceUser: principal.serviceUser.name };
      this.mailer.deliver(invitationMail({ to: invited.user.email, organizationName: invited.organizationName, role: input.role, inviter }), {
        organizationId: input.organizationId,
        userId: invited.user.id,
      }, 'invitation notice');
    }
    return membership;
  }

  /**
   * The invited person's yes: from now on the membership grants its role.
   * An invitation is honoured only while whoever sent it could still grant
   * its role (an inviter removed or demoted since cannot reach through it),
   * and for INVITATION_LIFETIME_DAYS. Accepting twice answers the membership.
   */
  async accept(ctx: RequestContext, organizationId: string): Promise<MembershipEntity> {
    const userId = ctx.principal!.id;
    return this.dataSource.transaction(async (manager) => {
      // The organization first, as every membership change takes it, so that two of them never wait on each other.
      await lockOrganization(manager, organizationId).catch(rethrowAs('invitation'));
      const membership = await manager.findOneBy(MembershipEntity, { organizationId, userId });
      if (!membership) throw notFound('invitation');
      if (membership.status === MembershipStatus.ACTIVE) return membership;
      const refusal = await invitationRefusal(manager, membership);
      if (refusal) throw forbidden(refusal);
      await manager.update(MembershipEntity, { id: membership.id }, { status: MembershipStatus.ACTIVE });
      await this.audit.record(manager, ctx, {
        organizationId,
        eventType: AuditEventType.MEMBER_JOINED,
        targetType: 'user',
        targetId: userId,
        changes: { role: membership.role },
      });
      return { ...membership, status: MembershipStatus.ACTIVE };
    });
  }

  /**
   * The invited person's no: the invitation is gone, and may be sent again
   * later. Audited without the person's address, user agent or credential:
   * the organization they said no to learns only that they did.
   */
  async decline(ctx: RequestContext, organizationId: string): Promise<void> {
    const userId = ctx.principal!.id;
    await this.dataSource.transaction(async (manager) => {
      await lockOrganization(manager, organizationId).catch(rethrowAs('invitation'));
      const membership = await manager.findOneBy(MembershipEntity, { organizationId, userId, status: MembershipStatus.INVITED });
      if (!membership) throw notFound('invitation');
      await manager.delete(MembershipEntity, { id: membership.id, status: MembershipStatus.INVITED });
      await this.audit.record(manager, ctx, {
        organizationId,
        eventType: AuditEventType.MEMBER_DECLINED,
        targetType: 'user',
        targetId: userId,
        changes: { role: membership.role },
        withoutOrigin: true,
      });
    });
  }

  async updateRole(ctx: RequestContext, input: { organizationId: string; userId: string; role: OrganizationRole }): Promise<MembershipEntity> {
    return this.dataSource.transaction(async (manager) => {
      const { caller } = await lockForCaller(manager, ctx, input.organizationId, 'members.update');
      const membership = await this.membership(manager, input.organizationId, input.userId);
      assertWithinCeiling(caller, { roles: [membership.role, input.role], lasting: 'role' });
      const invitation = membership.status === MembershipStatus.INVITED;
      // An invitation set to the role it has is vouched for afresh; a member's is left as it is.
      if (membership.role === input.role && !invitation) return membership;
      if (await this.isLastOwner(manager, membership)) throw forbidden(LAST_OWNER);
      // Whoever changes the role an invitation offers vouches for it from then on.
      const vouched = invitation ? inviterOf(ctx) : {};
      await manager.update(MembershipEntity, { id: membership.id }, { role: input.role, ...vouched });
      await this.audit.record(manager, ctx, {
        organizationId: input.organizationId,
        eventType: AuditEventType.MEMBER_ROLE_CHANGED,
        targetType: 'user',
        targetId: input.userId,
        changes: { from: membership.role, to: input.role, ...(invitation ? { invitation: true } : {}) },
      });
      return { ...membership, role: input.role, ...vouched };
    });
  }

  /**
   * Anyone signed in as themselves may leave; removing someone else needs
   * members.delete and their role within the caller's effective rights, and
   * so does removing oneself through an org-scoped API token (whose rights
   * bound everything it does). The member's API tokens in the organization
   * are revoked with the membership, so that being added again later does
   * not bring them back.
   */
  async remove(ctx: RequestContext, input: { organizationId: string; userId: string }): Promise<MembershipEntity> {
    const access = await ctx.access(input.organizationId);
    if (!access) throw notFound('organization');
    const leaving = ctx.principal?.kind === 'USER' && !ctx.principal.scope && ctx.principal.id === input.userId;
    if (!leaving && !has(access.rights, 'members.delete')) throw forbidden('missing right members.delete', { right: 'members.delete' });
    return this.dataSource.transaction(async (manager) => {
      const { caller } = await lockForCaller(manager, ctx, input.organizationId, leaving ? null : 'members.delete');
      const membership = await this.membership(manager, input.organizationId, input.userId);
      if (!leaving) assertWithinCeiling(caller, { roles: [membership.role] });
      if (await this.isLastOwner(manager, membership)) throw forbidden(LAST_OWNER);
      await manager.delete(MembershipEntity, { id: membership.id });
      await this.audit.record(manager, ctx, {
        organizationId: input.organizationId,
        eventType: AuditEventType.MEMBER_REMOVED,
        targetType: 'user',
        targetId: input.userId,
        changes: { role: membership.role, left: leaving, ...(membership.status === MembershipStatus.INVITED ? { invitation: true } : {}) },
      });
      await revokeTokensOfMember(manager, this.audit, ctx, { organizationId: input.organizationId, userId: input.userId });
      await withdrawInvitationsBy(manager, this.audit, ctx, input.organizationId, { invitedById: input.userId });
      return membership;
    });
  }
}
