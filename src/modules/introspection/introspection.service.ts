import { CredentialKind, type Principal } from '../../auth/principal';
import { has, rightsOfRole, type RightSet } from '../../auth/rights';
import { USER_KEY_PATTERN } from '../../auth/secrets';
import type { RateLimits } from '../../common/rate-limits';
import type { RequestContext } from '../../context';
import type { Credentials } from '../../credentials/credentials';
import { forbidden } from '../../errors';
import { MembershipStatus, type MembershipEntity } from '../organizations/membership.entity';

/** An invitation is no membership yet: it widens nothing the caller may learn. */
const isActive = (membership: MembershipEntity) => membership.status === MembershipStatus.ACTIVE;

export type Introspection =
  /** `unknown`: no such credential exists, the answer a guess gets (kept from the client). */
  | { active: false; unknown?: true }
  | {
      active: true;
      kind: CredentialKind;
      subject: Principal;
      organizationId: string | null;
      rights: RightSet | null;
      expiresAt: Date | null;
    };

const INACTIVE: Introspection = { active: false };

/**
 * RFC 7662 for every credential kind. The caller needs `introspection.read`;
 * it learns about a token only if the token belongs to an organization where
 * it holds that right (an API token), or to a user who is a member of one (a
 * user key or an access token). Anything else — invalid, expired, revoked or
 * foreign — is `{ active: false }` and nothing more.
 */
export class IntrospectionService {
  constructor(
    private readonly credentials: Pick<Credentials, 'userKeys' | 'apiTokens' | 'accessTokens'>,
    private readonly tokenPrefix: string,
    private readonly rateLimits: RateLimits,
  ) {}

  /** The organizations where the caller may introspect. */
  private async introspectableOrganizations(ctx: RequestContext): Promise<Set<string>> {
    const principal = ctx.principal!;
    const candidates = principal.scope
      ? [principal.scope.organizationId]
      : principal.kind === 'SERVICE_USER'
        ? [principal.serviceUser.organizationId]
        : (await ctx.loaders.membershipsOfUser.load(principal.id)).filter(isActive).map((membership) => membership.organizationId);
    const accesses = await Promise.all(candidates.map((id) => ctx.access(id)));
    return new Set(accesses.filter((access) => access !== null && has(access.rights, 'introspection.read')).map((access) => access!.organizationId));
  }

  /**
   * Limited per principal (INTROSPECTION_RATE_LIMIT). Each answer that found
   * no such credential (what a guess gets; an expired, revoked or malformed
   * one reveals nothing) counts as a failed check of the principal, and past
   * INTROSPECTION_FAILURE_RATE_LIMIT the principal is refused before the
   * lookup: introspection must not be a fast way to test guesses.
   */
  async introspect(ctx: RequestContext, token: string): Promise<Introspection> {
    const organizations = await this.introspectableOrganizations(ctx);
    if (organizations.size === 0) throw forbidden('missing right introspection.read', { right: 'introspection.read' });
    await this.rateLimits.refuseIntrospectionIfBlocked(ctx.principal!.id);
    await this.rateLimits.consumeIntrospection(ctx.principal!.id);
    const answer = await this.answer(ctx, token, organizations);
    if (!answer.active && answer.unknown) await this.rateLimits.consumeIntrospectionFailure(ctx.principal!.id);
    return answer;
  }

  private async answer(ctx: RequestContext, token: string, organizations: Set<string>): Promise<Introspection> {
    if (token.startsWith(this.tokenPrefix)) {
      // Asking about a token is not using it: lastUsedAt stays the bearer's.
      const found = await this.credentials.apiTokens.verify(token, { clientAddress: ctx.clientAddress, userAgent: ctx.userAgent }, { recordUse: false });
      if (!found.ok) return found.reason === 'unknown' ? { active: false, unknown: true } : INACTIVE;
      const principal = found.principal;
      const scope = principal.scope!;
      if (!organizations.has(scope.organizationId)) return INACTIVE;
      const row = await ctx.loaders.apiToken.load(scope.tokenId);
      const rights = scope.rights & rightsOfRole(scope.role);
      return { active: true, kind: CredentialKind.API_TOKEN, subject: principal, organizationId: scope.organizationId, rights, expiresAt: row?.expiresAt ?? null };
    }
    let principal: Principal;
    if (USER_KEY_PATTERN.test(token)) {
      const found = await this.credentials.userKeys.verify(token);
      if (!found.ok) return found.reason === 'unknown' ? { active: false, unknown: true } : INACTIVE;
      principal = found.principal;
    } else {
      // An access token is refused for its signature before any lookup: no guess of one can come close.
      const found = await this.credentials.accessTokens.verify(token);
      if (!found.ok) return INACTIVE;
      principal = found.principal;
    }
    const memberships = (await ctx.loaders.membershipsOfUser.load(principal.id)).filter(isActive);
    const shared = principal.id === ctx.principal!.id || memberships.some((membership) => organizations.has(membership.organizationId));
    if (!shared) return INACTIVE;
    return { active: true, kind: principal.credential, subject: principal, organizationId: null, rights: null, expiresAt: principal.expiresAt ?? null };
  }
}
