import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { isAccountCredential } from '../../auth/principal';
import type { AccessTokenVerifier } from '../../credentials/access-token-verifier';
import { paginate, type Page, type PageArgs } from '../../common/pagination';
import type { RateLimits } from '../../common/rate-limits';
import type { RequestContext } from '../../context';
import { badInput, DomainError, ErrorCode, forbidden, notFound } from '../../errors';
import { AuditEventType, type AuditService } from '../audit/audit.service';
import { checkName } from '../users/validation';
import type { TokenUsageRecorder } from '../api-tokens/token-usage';
import type { Jwts } from './jwts';
import { PersonalAccessTokenEntity } from './personal-access-token.entity';

const DAY_MS = 86_400_000;

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
    private readonly accessTokens: AccessTokenVerifier,
    private readonly usage: TokenUsageRecorder,
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

  /** The exchange: a live PAT for an access token of ACCESS_TOKEN_TTL_SECONDS. */
  async refresh(clientAddress: string, refresh: string): Promise<{ access: string; expiresAt: Date }> {
    await this.rateLimits.consumeTokenEndpoint(clientAddress);
    const pat = await this.accessTokens.verifyRefresh(refresh);
    if ('ok' in pat) throw new DomainError(ErrorCode.UNAUTHENTICATED, `refresh refused: ${pat.detail ?? pat.message}`);
    const { token, expiresAt } = await this.jwts.signAccess({ sub: pat.userId, pat: pat.jti });
    this.usage.recordExchange(pat.id, this.now());
    return { access: token, expiresAt };
  }
}
