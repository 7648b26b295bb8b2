import type { DataSource, EntityManager } from 'typeorm';
import type { OrgAccess } from '../../auth/access';
import { assertWithinCeiling, callerOf, type Caller, type Yield } from '../../auth/ceiling';
import type { Principal } from '../../auth/principal';
import type { Origin } from '../../credentials/verification';
import { exceeding, has, NO_RIGHTS, rightsOfRole, ROLE_TABLE, type OrganizationRole, type Right, type RightSet } from '../../auth/rights';
import { sha256 } from '../../auth/secrets';
import { checkId } from '../../common/ids';
import { paginate, type Page, type PageArgs } from '../../common/pagination';
import type { RateLimits } from '../../common/rate-limits';
import type { RequestContext } from '../../context';
import { badInput, conflict, forbidden, notFound } from '../../errors';
import { AuditEventType, type AuditActor, type AuditOrigin, type AuditService } from '../audit/audit.service';
import { MembershipEntity, MembershipStatus } from '../organizations/membership.entity';
import { lockForCaller } from '../organizations/organization-lock';
import { ServiceUserEntity } from '../service-users/service-user.entity';
import { checkName, checkText } from '../users/validation';
import { ApiTokenEntity } from './api-token.entity';
import { policyViolation } from './expiration-policy';
import { RetiredSecretEntity } from './retired-secret.entity';
import { TokenExpirationPolicyEntity } from './token-expiration-policy.entity';
import { generateApiToken, isWellFormedApiToken, VISIBLE_PREFIX_LENGTH } from './token-format';

export const MAX_GRACE_PERIOD_SECONDS = 604_800;

/**
 * A grace period keeps the old secret alive beside the new one; past this, it
 * is as good as a second credential, so asking for it needs the right to
 * revoke the token (apiTokens.delete), not only to update it.
 */
export const SHORT_GRACE_PERIOD_SECONDS = 3600;

/**
 * A token regenerated this recently is not regenerated again: requests that
 * raced the winner but arrive just after it commits get CONFLICT too, so
 * concurrent regenerations (two browser tabs, a retried request) yield one secret.
 */
export const REGENERATION_COOLDOWN_SECONDS = 5;

export type CreateApiTokenInput = {
  organizationId: string;
  name: string;
  description?: string | null;
  rights?: RightSet | null;
  expiresAt?: Date | null;
  serviceUserId?: string | null;
};

export type UpdateApiTokenInput = {
  id: string;
  name?: string | null;
  description?: string | null;
  rights?: RightSet | null;
  expiresAt?: Date | null;
};

type TokenOwnerRef = Pick<ApiTokenEntity, 'organizationId' | 'ownerUserId' | 'ownerServiceUserId'>;

/** Whether the owner is still there, the rights of its role, and the role a holder of its token acts as (a service user's, for anyone but itself). */
type OwnerStanding = { exists: boolean; rights: RightSet; actingAs: OrganizationRole[] };

export type ApiTokenFilter = { ownerUserId?: string | null; ownerServiceUserId?: string | null; state?: 'ACTIVE' | 'REVOKED' | 'ALL' | null };

function ownedBy(token: Pick<ApiTokenEntity, 'ownerUserId' | 'ownerServiceUserId'>, principal: Principal): boolean {
  return principal.kind === 'USER' ? token.ownerUserId === principal.id : token.ownerServiceUserId === principal.id;
}

/** Whether a caller whose role has this token scope sees the token: OWNER and ADMIN every token of the organization, others their own. */
function sees(tokenScope: OrgAccess['tokenScope'], principal: Principal, token: TokenOwnerRef): boolean {
  return tokenScope === 'all' || ownedBy(token, principal);
}

/** What `apiToken(id)` and the organization's token list show: the tokens the caller sees, with apiTokens.read. */
export function canRead(access: OrgAccess, principal: Principal, token: TokenOwnerRef): boolean {
  return has(access.rights, 'apiTokens.read') && sees(access.tokenScope, principal, token);
}

function checkDescription(description: string | null | undefined): string | null {
  if (description === undefined || description === null) return null;
  const trimmed = checkText('description', description.trim());
  if (trimmed.length > 500) throw badInput('description', 'must be at most 500 characters');
  return trimmed || null;
}

export class ApiTokensService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly rateLimits: RateLimits,
    private readonly tokenPrefix: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ----- reading

  private async access(ctx: RequestContext, organizationId: string): Promise<OrgAccess> {
    const access = await ctx.access(organizationId);
    if (!access) throw notFound('API token');
    return access;
  }

  /** A token the caller may see: OWNER and ADMIN see every token of the organization, others their own. */
  async get(ctx: RequestContext, id: string): Promise<ApiTokenEntity> {
    const token = await ctx.loaders.apiToken.load(id);
    if (!token) throw notFound('API token');
    const access = await this.access(ctx, token.organizationId);
    if (!sees(access.tokenScope, ctx.principal!, token)) throw notFound('API token');
    return token;
  }

  async list(ctx: RequestContext, organizationId: string, filter: ApiTokenFilter, page: PageArgs): Promise<Page<ApiTokenEntity>> {
    const access = await this.access(ctx, organizationId);
    const query = this.dataSource.getRepository(ApiTokenEntity).createQueryBuilder('t').where('t.organizationId = :organizationId', { organizationId });
    if (access.tokenScope !== 'all') {
      const principal = ctx.principal!;
      query.andWhere(principal.kind === 'USER' ? 't.ownerUserId = :owner' : 't.ownerServiceUserId = :owner', { owner: principal.id });
    }
    if (filter.ownerUserId) query.andWhere('t.ownerUserId = :ownerUserId', { ownerUserId: checkId('ownerUserId', filter.ownerUserId) });
    if (filter.ownerServiceUserId) {
      query.andWhere('t.ownerServiceUserId = :ownerServiceUserId', { ownerServiceUserId: checkId('ownerServiceUserId', filter.ownerServiceUserId) });
    }
    if (filter.state === 'ACTIVE') query.andWhere('t.revokedAt IS NULL AND (t.expiresAt IS NULL OR t.expiresAt > :now)', { now: this.now() });
    if (filter.state === 'REVOKED') query.andWhere('t.revokedAt IS NOT NULL');
    return paginate(query, page);
  }

  /** A user's own tokens across organizations, limited to those the credential can reach. */
  listOfUser(ctx: RequestContext, userId: string, page: PageArgs): Promise<Page<ApiTokenEntity>> {
    const query = this.dataSource.getRepository(ApiTokenEntity).createQueryBuilder('t').where('t.ownerUserId = :userId', { userId });
    const scope = ctx.principal?.scope;
    if (scope) query.andWhere('t.organizationId = :organizationId', { organizationId: scope.organizationId });
    return paginate(query, page);
  }

  // ----- lifecycle

  private async policyOf(manager: EntityManager, organizationId: string): Promise<TokenExpirationPolicyEntity | null> {
    return manager.findOneBy(TokenExpirationPolicyEntity, { organizationId });
  }

  private checkExpiry(expiresAt: Date | null, createdAt: Date, policy: TokenExpirationPolicyEntity | null): void {
    if (expiresAt !== null && expiresAt.getTime() <= this.now().getTime()) throw badInput('expiresAt', 'must be in the future');
    const violation = policyViolation(policy, { createdAt, expiresAt });
    if (violation) throw badInput('expiresAt', violation.message);
  }

  /** A token's rights stay within its owner's role (the caller's own ceiling is checked by `assertWithinCeiling`). */
  private checkOwnerBound(rights: RightSet, ownerRights: RightSet): void {
    const [over] = exceeding(rights, ownerRights);
    if (over) throw forbidden(`rights: ${over} exceeds what the owner's role allows`, { right: over, field: 'rights' });
  }

  /**
   * What the token's owner stands for: the rights of its role, and the role
   * its holder acts as when that is not the caller itself (a service user's).
   * Read through the request's loaders for the early refusal, and again
   * through the transaction under the organization's lock.
   */
  private async ownerStanding(ctx: RequestContext, owner: TokenOwnerRef, manager?: EntityManager): Promise<OwnerStanding> {
    const principal = ctx.principal!;
    if (owner.ownerServiceUserId) {
      const serviceUser = manager
        ? await manager.findOneBy(ServiceUserEntity, { id: owner.ownerServiceUserId, organizationId: owner.organizationId })
        : await ctx.loaders.serviceUser.load(owner.ownerServiceUserId);
      if (!serviceUser || serviceUser.organizationId !== owner.organizationId) return { exists: false, rights: NO_RIGHTS, actingAs: [] };
      const itself = principal.kind === 'SERVICE_USER' && principal.id === serviceUser.id;
      return { exists: true, rights: rightsOfRole(serviceUser.role), actingAs: itself ? [] : [serviceUser.role] };
    }
    const key = { organizationId: owner.organizationId, userId: owner.ownerUserId! };
    const membership = manager
      ? await manager.findOneBy(MembershipEntity, { ...key, status: MembershipStatus.ACTIVE })
      : await ctx.loaders.activeMembershipOf.load(key);
    return { exists: membership !== null, rights: membership ? rightsOfRole(membership.role) : NO_RIGHTS, actingAs: [] };
  }

  /**
   * Checked twice: with the request's view, before the issuing limit is
   * spent, and under the organization's lock in the writing transaction, so
   * that a removal or demotion committed meanwhile (by another request or by
   * an earlier field of this one) is seen.
   */
  private checkCreation(caller: Caller, owner: OwnerStanding, rights: RightSet, expiresAt: Date | null): void {
    assertWithinCeiling(caller, { rights, roles: owner.actingAs, expiresAt, lasting: 'token' });
    this.checkOwnerBound(rights, owner.rights);
  }

  async create(ctx: RequestContext, input: CreateApiTokenInput): Promise<{ token: ApiTokenEntity; secret: string }> {
    const principal = ctx.principal!;
    // Ids compare as text below; the permission check has already proved this one is a UUID.
    const organizationId = input.organizationId.toLowerCase();
    const access = await this.access(ctx, organizationId);
    const name = checkName('name', input.name, 100);
    const description = checkDescription(input.description);
    const owner: TokenOwnerRef = {
      organizationId,
      ownerUserId: principal.kind === 'USER' ? principal.id : null,
      ownerServiceUserId: principal.kind === 'SERVICE_USER' ? principal.id : null,
    };
    if (input.serviceUserId) {
      if (access.tokenScope !== 'all') throw forbidden("only an OWNER or ADMIN can create a service user's token");
      owner.ownerUserId = null;
      owner.ownerServiceUserId = checkId('serviceUserId', input.serviceUserId);
    }
    const standing = await this.ownerStanding(ctx, owner);
    if (!standing.exists) throw notFound(input.serviceUserId ? 'service user' : 'organization');
    const caller = callerOf(principal, access.rights);
    const rights = input.rights ?? access.rights & standing.rights;
    // A child of an expiring credential inherits its expiry unless it asks for an earlier one.
    const expiresAt = input.expiresAt ?? caller.expiresAt;
    this.checkCreation(caller, standing, rights, expiresAt);
    const createdAt = this.now();
    await this.rateLimits.consumeTokenIssue(principal.id);
    return this.dataSource.transaction(async (manager) => {
      const locked = await lockForCaller(manager, ctx, organizationId, 'apiTokens.create');
      const lockedStanding = await this.ownerStanding(ctx, owner, manager);
      if (!lockedStanding.exists) throw notFound(input.serviceUserId ? 'service user' : 'organization');
      this.checkCreation(locked.caller, lockedStanding, rights, expiresAt);
      this.checkExpiry(expiresAt, createdAt, await this.policyOf(manager, organizationId));
      const secret = generateApiToken(this.tokenPrefix);
      const token = await manager.save(
        manager.create(ApiTokenEntity, {
          ...owner,
          name,
          description,
          rights,
          expiresAt,
          tokenPrefix: secret.slice(0, VISIBLE_PREFIX_LENGTH),
          secretDigest: sha256(secret),
          createdById: principal.kind === 'USER' ? principal.id : null,
          lastUsedAddresses: [],
        }),
      );
      await this.audit.record(manager, ctx, {
        organizationId: token.organizationId,
        eventType: AuditEventType.API_TOKEN_CREATED,
        targetType: 'api_token',
        targetId: token.id,
        changes: { name, tokenPrefix: token.tokenPrefix, rights, expiresAt, ownerUserId: token.ownerUserId, ownerServiceUserId: token.ownerServiceUserId },
      });
      return { token, secret };
    });
  }

  /** A token the caller may change: their own, or any of the organization's for OWNER/ADMIN. */
  private async manageable(ctx: RequestContext, id: string, right: Right): Promise<{ token: ApiTokenEntity; access: OrgAccess }> {
    // Visibility first, then the right: a token the caller cannot see is NOT_FOUND whatever their rights.
    const token = await this.get(ctx, id);
    const access = await this.access(ctx, token.organizationId);
    if (!has(access.rights, right)) throw forbidden(`missing right ${right}`, { right });
    // A service user's token acts with its role: managing one is within the ceiling of that role.
    if (token.ownerServiceUserId) {
      assertWithinCeiling(callerOf(ctx.principal!, access.rights), { roles: (await this.ownerStanding(ctx, token)).actingAs });
    }
    return { token, access };
  }

  /**
   * Regeneration hands its caller a working secret, so it is refused on
   * another person's token even to OWNER and ADMIN (they may revoke it):
   * holding it would let them act as that person. Service users' tokens are
   * the organization's, within the role rule above.
   */
  private async regenerable(ctx: RequestContext, id: string): Promise<{ token: ApiTokenEntity; access: OrgAccess }> {
    const manageable = await this.manageable(ctx, id, 'apiTokens.update');
    if (manageable.token.ownerUserId && !ownedBy(manageable.token, ctx.principal!)) {
      throw forbidden("only a token's owner can regenerate it: revoke it instead");
    }
    return manageable;
  }

  /** The token as it is now, under the organization's lock: what a concurrent change left of the one the request saw. */
  private async lockedToken(
    manager: EntityManager,
    ctx: RequestContext,
    seen: ApiTokenEntity,
    right: Right,
  ): Promise<{ token: ApiTokenEntity; caller: Caller; owner: OwnerStanding }> {
    const { caller, role } = await lockForCaller(manager, ctx, seen.organizationId, right);
    const token = await manager.findOneBy(ApiTokenEntity, { id: seen.id });
    if (!token || !sees(ROLE_TABLE[role].tokenScope, ctx.principal!, token)) throw notFound('API token');
    if (token.revokedAt) throw conflict('the token is revoked');
    return { token, caller, owner: await this.ownerStanding(ctx, token, manager) };
  }

  /**
   * What an update yields: the rights it sets and the expiry it sets; and
   * when it widens the token or lets it live longer, the whole token's power
   * for its new life, so that a narrower caller cannot make a wider token last.
   */
  private updateYield(token: ApiTokenEntity, input: UpdateApiTokenInput, owner: OwnerStanding): Yield {
    const rights = input.rights ?? undefined;
    const produced: Yield = { rights, roles: owner.actingAs };
    if (input.expiresAt !== undefined) produced.expiresAt = input.expiresAt;
    const widens = rights !== undefined && (rights & ~token.rights) !== 0;
    const lengthens = input.expiresAt !== undefined && token.expiresAt !== null && (input.expiresAt === null || input.expiresAt > token.expiresAt);
    if (widens || lengthens) {
      produced.rights = (rights ?? token.rights) & owner.rights;
      produced.expiresAt = input.expiresAt !== undefined ? input.expiresAt : token.expiresAt;
    }
    return produced;
  }

  async update(ctx: RequestContext, input: UpdateApiTokenInput): Promise<ApiTokenEntity> {
    const { token: seen, access } = await this.manageable(ctx, input.id, 'apiTokens.update');
    if (seen.revokedAt) throw conflict('the token is revoked');
    assertWithinCeiling(callerOf(ctx.principal!, access.rights), this.updateYield(seen, input, await this.ownerStanding(ctx, seen)));
    const changes: Partial<ApiTokenEntity> = {};
    if (input.name !== undefined && input.name !== null) changes.name = checkName('name', input.name, 100);
    if (input.description !== undefined) changes.description = checkDescription(input.description);
    return this.dataSource.transaction(async (manager) => {
      const { token, caller, owner } = await this.lockedToken(manager, ctx, seen, 'apiTokens.update');
      assertWithinCeiling(caller, this.updateYield(token, input, owner));
      if (input.rights !== undefined && input.rights !== null) {
        this.checkOwnerBound(input.rights, owner.rights);
        changes.rights = input.rights;
      }
      if (input.expiresAt !== undefined) {
        changes.expiresAt = input.expiresAt;
        this.checkExpiry(input.expiresAt, token.createdAt, await this.policyOf(manager, token.organizationId));
      }
      if (Object.keys(changes).length === 0) return token;
      await manager.update(ApiTokenEntity, { id: token.id }, changes);
      await this.audit.record(manager, ctx, {
        organizationId: token.organizationId,
        eventType: AuditEventType.API_TOKEN_UPDATED,
        targetType: 'api_token',
        targetId: token.id,
        changes,
      });
      return { ...token, ...changes };
    });
  }

  /** A new secret is a new credential: what the token can do now, for as long as it lives, within the caller's ceiling. */
  private checkRegeneration(caller: Caller, token: ApiTokenEntity, owner: OwnerStanding, grace: number): void {
    assertWithinCeiling(caller, { rights: token.rights & owner.rights, roles: owner.actingAs, expiresAt: token.expiresAt, lasting: 'token' });
    if (grace > SHORT_GRACE_PERIOD_SECONDS && !has(caller.rights, 'apiTokens.delete')) {
      throw forbidden(`gracePeriodSeconds: more than ${SHORT_GRACE_PERIOD_SECONDS} needs apiTokens.delete, the right to revoke the token`, {
        right: 'apiTokens.delete',
        field: 'gracePeriodSeconds',
      });
    }
  }

  /**
   * A new secret for the same token. The old digest moves to the retired
   * secrets (valid until the grace period ends) in the same transaction, so a
   * crash leaves either the old secret or the new one. The update is
   * conditional on the digest read, so of concurrent regenerations one wins
   * and the others get CONFLICT.
   */
  async regenerate(ctx: RequestContext, input: { id: string; gracePeriodSeconds?: number | null }): Promise<{ token: ApiTokenEntity; secret: string }> {
    const grace = input.gracePeriodSeconds ?? 0;
    if (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_PERIOD_SECONDS) {
      throw badInput('gracePeriodSeconds', `must be between 0 and ${MAX_GRACE_PERIOD_SECONDS}`);
    }
    const { token: seen, access } = await this.regenerable(ctx, input.id);
    if (seen.revokedAt) throw conflict('the token is revoked');
    this.checkRegeneration(callerOf(ctx.principal!, access.rights), seen, await this.ownerStanding(ctx, seen), grace);
    await this.rateLimits.consumeTokenIssue(ctx.principal!.id);
    const secret = generateApiToken(this.tokenPrefix);
    const tokenPrefix = secret.slice(0, VISIBLE_PREFIX_LENGTH);
    return this.dataSource.transaction(async (manager) => {
      const { token, caller, owner } = await this.lockedToken(manager, ctx, seen, 'apiTokens.update');
      this.checkRegeneration(caller, token, owner, grace);
      const result = await manager
        .createQueryBuilder()
        .update(ApiTokenEntity)
        .set({ secretDigest: sha256(secret), tokenPrefix })
        .where('id = :id AND "secretDigest" = :old AND "revokedAt" IS NULL', { id: seen.id, old: seen.secretDigest })
        .andWhere(
          `NOT EXISTS (SELECT 1 FROM api_token_retired_secrets r WHERE r."apiTokenId" = :id AND r."retiredAt" > now() - make_interval(secs => :cooldown))`,
          { cooldown: REGENERATION_COOLDOWN_SECONDS },
        )
        .execute();
      if (result.affected !== 1) {
        throw conflict(`the token was regenerated or revoked meanwhile (at most one regeneration per ${REGENERATION_COOLDOWN_SECONDS} s); reload it`);
      }
      await manager.insert(RetiredSecretEntity, {
        apiTokenId: seen.id,
        secretDigest: seen.secretDigest,
        graceEndsAt: new Date(this.now().getTime() + grace * 1000),
      });
      await this.audit.record(manager, ctx, {
        organizationId: token.organizationId,
        eventType: AuditEventType.API_TOKEN_REGENERATED,
        targetType: 'api_token',
        targetId: token.id,
        changes: { tokenPrefix, previousTokenPrefix: seen.tokenPrefix, gracePeriodSeconds: grace },
      });
      return { token: { ...token, tokenPrefix }, secret };
    });
  }

  async revoke(ctx: RequestContext, id: string): Promise<ApiTokenEntity> {
    const { token: seen } = await this.manageable(ctx, id, 'apiTokens.delete');
    if (seen.revokedAt) return seen;
    return this.dataSource.transaction(async (manager) => {
      // A caller removed or demoted while the request ran revokes only what their standing now allows.
      const { caller, role } = await lockForCaller(manager, ctx, seen.organizationId, 'apiTokens.delete');
      const token = await manager.findOneBy(ApiTokenEntity, { id: seen.id });
      if (!token || !sees(ROLE_TABLE[role].tokenScope, ctx.principal!, token)) throw notFound('API token');
      if (token.revokedAt) return token;
      assertWithinCeiling(caller, { roles: (await this.ownerStanding(ctx, token, manager)).actingAs });
      return this.revokeIn(manager, ctx, token, 'revoked', AuditEventType.API_TOKEN_REVOKED, {});
    });
  }

  private async revokeIn(
    manager: EntityManager,
    origin: AuditOrigin,
    token: ApiTokenEntity,
    reason: string,
    eventType: AuditEventType,
    extra: { actor?: AuditActor; changes?: Record<string, unknown> },
  ): Promise<ApiTokenEntity> {
    const revokedAt = this.now();
    // The organization's row before the token's, in the order every write of the organization takes them (no deadlock
    // with its deletion); without failing when it is gone, since then so is the token.
    const organization: unknown[] = await manager.query(`SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE`, [token.organizationId]);
    if (organization.length === 0) return { ...token, revokedAt, revokedReason: reason };
    const result = await manager
      .createQueryBuilder()
      .update(ApiTokenEntity)
      .set({ revokedAt, revokedReason: reason })
      .where('id = :id AND "revokedAt" IS NULL', { id: token.id })
      .execute();
    // Revoked meanwhile by someone else, who audited it.
    if (result.affected !== 1) return (await manager.findOneBy(ApiTokenEntity, { id: token.id })) ?? { ...token, revokedAt, revokedReason: reason };
    await this.audit.record(manager, origin, {
      organizationId: token.organizationId,
      eventType,
      targetType: 'api_token',
      targetId: token.id,
      actor: extra.actor,
      changes: { reason, tokenPrefix: token.tokenPrefix, ...extra.changes },
    });
    return { ...token, revokedAt, revokedReason: reason };
  }

  /**
   * Whoever holds a leaked secret may kill it. The answer is the same whatever
   * the input; a report is audited only when it names a live token (with the
   * reporter's address, never the secret).
   */
  async revokeLeaked(ctx: RequestContext, secret: string): Promise<void> {
    if (!isWellFormedApiToken(secret, this.tokenPrefix)) return;
    const digest = sha256(secret);
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOneBy(ApiTokenEntity, { secretDigest: digest });
      const retired = current ? null : await manager.findOne(RetiredSecretEntity, { where: { secretDigest: digest }, relations: { apiToken: true } });
      const token = current ?? retired?.apiToken;
      if (!token || token.revokedAt) return;
      await this.revokeIn(manager, ctx, token, 'leaked', AuditEventType.API_TOKEN_LEAK_REPORTED, {
        actor: { kind: 'ANONYMOUS' },
        changes: { reportedSecret: current ? 'current' : 'retired' },
      });
    });
  }

  /**
   * A secret replaced by regeneration was presented after its grace period:
   * whoever holds it may have copied it before it was replaced, so the token
   * that replaced it is revoked too (audited as reuse detected).
   */
  async revokeReused(token: { id: string; replaced: { retiredAt: Date; graceEndsAt: Date } }, origin: Origin): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOneBy(ApiTokenEntity, { id: token.id });
      if (!current || current.revokedAt) return;
      await this.revokeIn(manager, { principal: null, ...origin }, current, 'reuse_detected', AuditEventType.API_TOKEN_REUSE_DETECTED, {
        actor: { kind: 'ANONYMOUS' },
        changes: { retiredAt: token.replaced.retiredAt, graceEndedAt: token.replaced.graceEndsAt },
      });
    });
  }
}
