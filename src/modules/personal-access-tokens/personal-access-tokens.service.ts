import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { CredentialKind, isAccountCredential, type Principal } from '../../auth/principal';
import { isId } from '../../common/ids';
import { paginate, type Page, type PageArgs } from '../../common/pagination';
import type { RateLimits } from '../../common/rate-limits';
import type { RequestContext } from '../../context';
import { AuthenticationError, badInput, DomainError, ErrorCode, forbidden, notFound, type CredentialRefusal } from '../../errors';
import type { UserEntity } from '../users/user.entity';
import { AuditEventType, type AuditService } from '../audit/audit.service';
import { checkName } from '../users/validation';
import { JwtRefusal, type Jwts } from './jwts';
import { PersonalAccessTokenEntity } from './personal-access-token.entity';

const DAY_MS = 86_400_000;
export const PAT_USED_DIRECTLY = 'a personal access token cannot be used directly: exchange it with refreshAccessToken first';

/** The refusals of an access token that are not "unknown" (bad signature, unknown key or PAT, wrong claims). */
const REFUSALS: Record<string, CredentialRefusal> = {
  'malformed token': 'malformed',
  'token expired': 'expired',
  'personal access token expired': 'expired',
  'personal access token revoked': 'revoked',
  'the user is inactive': 'revoked',
};

type PatWithUser = PersonalAccessTokenEntity & { user: UserEntity };

/**
 * Personal access tokens (long-lived JWTs, `token_type: refresh`) exchanged
 * for short access tokens. An access token names the PAT it came from, and
 * every use checks that PAT's row: revoking it stops its access tokens at once,
 * on every instance.
 */
export class PersonalAccessTokensService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly jwts: Jwts,
    private readonly rateLimits: RateLimits,
    private readonly maxLifetimeDays: number,
    private readonly audit: AuditService,
    private readonly now: () => Date,
  ) {}

  private get pats() {
    return this.dataSource.getRepository(PersonalAccessTokenEntity);
  }

  async create(ctx: RequestContext, input: { name: string; expiresAt?: Date | null }): Promise<{ pat: PersonalAccessTokenEntity; refresh: string }> {
    const principal = ctx.principal;
    if (!principal || !isAccountCredential(principal)) throw forbidden('only a signed-in user can create a personal access token');
    const name = checkName('name', input.name, 100);
    const now = this.now();
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt && expiresAt.getTime() <= now.getTime()) throw badInput('expiresAt', 'must be in the future');
    if (expiresAt && expiresAt.getTime() - now.getTime() > this.maxLifetimeDays * DAY_MS) {
      throw badInput('expiresAt', `must be within ${this.maxLifetimeDays} days (PAT_MAX_LIFETIME_DAYS)`);
    }
    await this.rateLimits.consumeTokenIssue(principal.id);
    const jti = randomUUID();
    const refresh = await this.jwts.signRefresh({ sub: principal.id, jti, expiresAt });
    const pat = await this.dataSource.transaction(async (manager) => {
      const saved = await manager.save(manager.create(PersonalAccessTokenEntity, { userId: principal.id, jti, name, expiresAt }));
      await this.audit.record(manager, ctx, {
        organizationId: null,
        eventType: AuditEventType.PERSONAL_ACCESS_TOKEN_CREATED,
        targetType: 'personal_access_token',
        targetId: saved.id,
        changes: { name, expiresAt },
      });
      return saved;
    });
    return { pat, refresh };
  }

  list(userId: string, page: PageArgs): Promise<Page<PersonalAccessTokenEntity>> {
    return paginate(this.pats.createQueryBuilder('p').where('p.userId = :userId', { userId }), page);
  }

  async revoke(ctx: RequestContext, id: string): Promise<PersonalAccessTokenEntity> {
    const principal = ctx.principal;
    const pat = (await this.pats.findOneBy({ id })) ?? null;
    if (!pat || principal?.kind !== 'USER' || pat.userId !== principal.id) throw notFound('personal access token');
    if (pat.revokedAt) return pat;
    const revokedAt = this.now();
    await this.dataSource.transaction(async (manager) => {
      await manager.update(PersonalAccessTokenEntity, { id: pat.id }, { revokedAt });
      await this.audit.record(manager, ctx, {
        organizationId: null,
        eventType: AuditEventType.PERSONAL_ACCESS_TOKEN_REVOKED,
        targetType: 'personal_access_token',
        targetId: pat.id,
        changes: { name: pat.name },
      });
    });
    return { ...pat, revokedAt };
  }

  /** The PAT and its user in one statement (findOne with relations would take two). */
  private async patOf(jti: string): Promise<PatWithUser | null> {
    if (!isId(jti)) return null;
    return (await this.pats.createQueryBuilder('p').innerJoinAndSelect('p.user', 'u').where('p.jti = :jti', { jti }).getOne()) as PatWithUser | null;
  }

  private checkPat(pat: PatWithUser | null, sub: string): PatWithUser {
    if (!pat || pat.userId !== sub) throw new JwtRefusal('unknown personal access token');
    if (pat.revokedAt) throw new JwtRefusal('personal access token revoked');
    if (pat.expiresAt && pat.expiresAt.getTime() <= this.now().getTime()) throw new JwtRefusal('personal access token expired');
    if (!pat.user.isActive) throw new JwtRefusal('the user is inactive');
    return pat;
  }

  /** The exchange: a live PAT for an access token of ACCESS_TOKEN_TTL_SECONDS. */
  async refresh(clientAddress: string, refresh: string): Promise<{ access: string; expiresAt: Date }> {
    await this.rateLimits.consumeTokenEndpoint(clientAddress);
    try {
      const verified = await this.jwts.verify(refresh);
      if (verified.kind !== 'refresh') throw new JwtRefusal('an access token cannot be refreshed: send the personal access token');
      const pat = this.checkPat(await this.patOf(verified.jti), verified.sub);
      const { token, expiresAt } = await this.jwts.signAccess({ sub: pat.userId, pat: pat.jti });
      await this.pats.update({ id: pat.id }, { lastUsedAt: this.now() });
      return { access: token, expiresAt };
    } catch (error) {
      if (error instanceof JwtRefusal) throw new DomainError(ErrorCode.UNAUTHENTICATED, `refresh refused: ${error.message}`);
      throw error;
    }
  }

  /** Whether an access token is valid now, and why not: the answer of verifyAccessToken and /api/token/verify. */
  async check(token: string): Promise<{ valid: true; user: UserEntity; expiresAt: Date } | { valid: false; reason: string }> {
    try {
      const verified = await this.jwts.verify(token);
      if (verified.kind !== 'access') throw new JwtRefusal(PAT_USED_DIRECTLY);
      const pat = this.checkPat(await this.patOf(verified.pat!), verified.sub);
      // An access token always carries exp (verify requires it).
      return { valid: true, user: pat.user, expiresAt: new Date(verified.exp! * 1000) };
    } catch (error) {
      if (error instanceof JwtRefusal) return { valid: false, reason: error.message };
      throw error;
    }
  }

  /** The Bearer verifier for JWTs. */
  async authenticate(token: string): Promise<Principal> {
    const result = await this.check(token);
    if (!result.valid) {
      const message = result.reason === PAT_USED_DIRECTLY ? PAT_USED_DIRECTLY : `invalid or expired token: ${result.reason}`;
      throw new AuthenticationError('invalid_token', message, false, REFUSALS[result.reason] ?? 'unknown');
    }
    return { kind: 'USER', id: result.user.id, user: result.user, credential: CredentialKind.ACCESS_TOKEN, expiresAt: result.expiresAt };
  }
}
