import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { DomainError, ErrorCode, rateLimited, serviceUnavailable } from '../errors';
import type { Logger } from '../logger';
import { rateLimitNetwork } from './client-address';

/** The table is created by a migration, not by the library, so the schema has one source. */
export const RATE_LIMIT_TABLE = 'rate_limits';

/** What a client refused during an outage of the limits' store is asked to wait. */
export const STORE_OUTAGE_RETRY_AFTER_SECONDS = 5;

/** Expired rows deleted per statement (so that no purge holds many locks at once), and at most this many statements per purge. */
const PURGE_BATCH_ROWS = 5000;
const PURGE_MAX_BATCHES = 100;

type Limit = { points: number; windowSeconds: number };
type Store = { dataSource: DataSource; redis?: Redis };

function limiter(keyPrefix: string, limit: Limit, store: Store): RateLimiterAbstract {
  const common = { keyPrefix, points: limit.points, duration: limit.windowSeconds };
  if (store.redis) return new RateLimiterRedis({ ...common, storeClient: store.redis, rejectIfRedisNotReady: true });
  return new RateLimiterPostgres({
    ...common,
    storeClient: store.dataSource,
    storeType: 'typeorm',
    tableName: RATE_LIMIT_TABLE,
    tableCreated: true,
    // The library's own clean-up waits an hour past expiry and runs a timer per limiter; RateLimits purges instead.
    clearExpiredByTimeout: false,
  });
}

/**
 * Limits shared by every instance (PostgreSQL by default, Redis when REDIS_URL
 * is set). `consume` throws RATE_LIMITED with `retryAfter` once a key is over.
 * Client addresses are counted by network: IPv4 per address, IPv6 per
 * RATE_LIMIT_IPV6_PREFIX (a /64 by default), since rotating within one's own
 * /64 costs nothing.
 *
 * When the store does not answer, a limit that guards a password guess or the
 * issue of a credential (logIn, signUp, token issue, token refresh and
 * verification) refuses with SERVICE_UNAVAILABLE and Retry-After: letting
 * them through would lift the limit for as long as the outage lasts. The
 * failed-check counter lets the request go on, since its credential was
 * already judged and refused. The outage is logged once, and its end once.
 */
export class RateLimits {
  private readonly login: RateLimiterAbstract;
  private readonly signUp: RateLimiterAbstract;
  private readonly authFailure: RateLimiterAbstract;
  private readonly tokenIssue: RateLimiterAbstract;
  private readonly tokenEndpoint: RateLimiterAbstract;
  private readonly addMember: RateLimiterAbstract;
  private readonly invitationsPerAddress: RateLimiterAbstract;
  private readonly introspection: RateLimiterAbstract;
  private readonly introspectionFailure: RateLimiterAbstract;
  private readonly ipv6Prefix: number;
  private readonly purgeTimer: NodeJS.Timeout;
  private storeDown = false;
  /** Told of every refusal, by limit (`login`, `signup`, `auth-failure`, `token-issue`, `token-endpoint`, `add-member`, `introspection`): the metrics count them. */
  onRefusal: (limit: string) => void = () => undefined;

  constructor(
    config: Config,
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    this.login = limiter('login', config.loginRateLimit, store);
    this.signUp = limiter('signup', config.signUpRateLimit, store);
    this.authFailure = limiter('auth-failure', config.authFailureRateLimit, store);
    this.tokenIssue = limiter('token-issue', config.tokenRateLimit, store);
    this.tokenEndpoint = limiter('token-endpoint', config.tokenEndpointRateLimit, store);
    this.addMember = limiter('add-member', config.addMemberRateLimit, store);
    this.invitationsPerAddress = limiter('invitations-per-address', config.invitationsPerAddressLimit, store);
    this.introspection = limiter('introspection', config.introspectionRateLimit, store);
    this.introspectionFailure = limiter('introspection-failure', config.introspectionFailureRateLimit, store);
    this.ipv6Prefix = config.rateLimitIpv6Prefix;
    if (store.redis) {
      // Its connection tells of an outage before any request does.
      store.redis.on('error', (error: Error) => this.storeFailed(error));
      store.redis.on('ready', () => this.storeAnswered());
    }
    this.purgeTimer = setInterval(() => void this.purgeExpired(), config.rateLimitPurgeSeconds * 1000);
    this.purgeTimer.unref();
  }

  /** Refresh and verification of JWTs (GraphQL and the REST endpoints), per client network. */
  consumeTokenEndpoint(clientAddress: string): Promise<void> {
    return this.consume(this.tokenEndpoint, this.network(clientAddress));
  }

  /** Token creation and regeneration, per principal. */
  consumeTokenIssue(principalId: string): Promise<void> {
    return this.consume(this.tokenIssue, principalId);
  }

  /**
   * Every addMember attempt, an unknown address included, per inviting
   * account, and per inviting account and address invited: looking accounts
   * up by e-mail stays slow and bounded, and nobody's mailbox fills with one
   * inviter's invitations.
   */
  async consumeAddMember(inviter: string, email: string): Promise<void> {
    await this.consume(this.addMember, inviter);
    // Per inviter and address: one inviter's attempts never hold up another's invitation. Hashed: an address may be longer than a key.
    await this.consume(this.invitationsPerAddress, `${inviter}:${createHash('sha256').update(email).digest('base64url')}`);
  }

  /** introspectToken, per principal: each call verifies a credential the caller does not hold. */
  consumeIntrospection(principalId: string): Promise<void> {
    return this.consume(this.introspection, principalId);
  }

  /**
   * An introspection that found no such credential counts as a failed check
   * of the introspecting principal (INTROSPECTION_FAILURE_RATE_LIMIT), not of
   * its address: a resource server passes on whatever its clients send, and
   * blocking its address would stop every request it makes. Its own limit,
   * larger than AUTH_FAILURE_RATE_LIMIT, for the same reason: junk sent
   * through a resource server must not stop it from checking live tokens,
   * and a few hundred guesses a minute at a 160-bit secret find nothing.
   */
  consumeIntrospectionFailure(principalId: string): Promise<void> {
    return this.consume(this.introspectionFailure, principalId);
  }

  /** Refuses a principal over its introspection failures before the token is looked at: past the limit, a right guess looks like a wrong one. */
  async refuseIntrospectionIfBlocked(principalId: string): Promise<void> {
    let state: RateLimiterRes | null;
    try {
      state = await this.introspectionFailure.get(principalId);
    } catch (error) {
      this.storeFailed(error);
      throw serviceUnavailable(STORE_OUTAGE_RETRY_AFTER_SECONDS);
    }
    if (state && state.consumedPoints >= this.introspectionFailure.points) {
      this.onRefusal(this.introspectionFailure.keyPrefix);
      throw rateLimited(Math.max(1, Math.ceil(state.msBeforeNext / 1000)));
    }
  }

  consumeLogin(clientAddress: string): Promise<void> {
    return this.consume(this.login, this.network(clientAddress));
  }

  /** Each sign-up hashes a password (19 MiB of argon2id): limited per client network too. */
  consumeSignUp(clientAddress: string): Promise<void> {
    return this.consume(this.signUp, this.network(clientAddress));
  }

  /** Networks over the failed-check limit, remembered here so that refusing them costs no query. */
  private readonly blockedUntil = new Map<string, number>();

  /** Counts a refused credential; while the store is down, the refusal stands without being counted. */
  async consumeAuthFailure(clientAddress: string): Promise<void> {
    const network = this.network(clientAddress);
    try {
      await this.consume(this.authFailure, network);
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.SERVICE_UNAVAILABLE) return;
      const retryAfter = (error as { details?: { retryAfter?: number } }).details?.retryAfter;
      if (retryAfter) this.blockedUntil.set(network, Date.now() + retryAfter * 1000);
      throw error;
    }
  }

  /**
   * Refuses a network that is over the failed-check limit before its
   * credential is even looked at: past the limit, a right guess must not be
   * told apart from a wrong one.
   */
  refuseIfBlocked(clientAddress: string): void {
    const network = this.network(clientAddress);
    const until = this.blockedUntil.get(network);
    if (until === undefined) return;
    const left = until - Date.now();
    if (left <= 0) {
      this.blockedUntil.delete(network);
      return;
    }
    this.onRefusal('auth-failure');
    throw rateLimited(Math.ceil(left / 1000));
  }

  /** Forgets blocks that have ended, and deletes the rows whose window is over (Redis expires its keys itself). */
  async purgeExpired(): Promise<void> {
    const now = Date.now();
    for (const [network, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(network);
    if (this.store.redis || !this.store.dataSource.isInitialized) return;
    try {
      for (let batch = 0; batch < PURGE_MAX_BATCHES; batch += 1) {
        const [, deleted] = (await this.store.dataSource.query(
          `DELETE FROM ${RATE_LIMIT_TABLE} WHERE key IN (SELECT key FROM ${RATE_LIMIT_TABLE} WHERE expire < $1 LIMIT ${PURGE_BATCH_ROWS})`,
          [now],
        )) as [unknown, number];
        if (deleted < PURGE_BATCH_ROWS) break;
      }
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'expired rate limits not purged');
    }
  }

  stop(): void {
    clearInterval(this.purgeTimer);
  }

  private network(clientAddress: string): string {
    return rateLimitNetwork(clientAddress, this.ipv6Prefix);
  }

  private async consume(limiter: RateLimiterAbstract, key: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        this.storeAnswered();
        this.onRefusal(limiter.keyPrefix);
        throw rateLimited(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      }
      this.storeFailed(rejection);
      throw serviceUnavailable(STORE_OUTAGE_RETRY_AFTER_SECONDS);
    }
    this.storeAnswered();
  }

  private storeFailed(error: unknown): void {
    if (this.storeDown) return;
    this.storeDown = true;
    this.log.warn(
      { err: error instanceof Error ? error.message : String(error), store: this.store.redis ? 'redis' : 'postgresql' },
      'rate limit store unreachable: logIn, signUp and token issue refused with 503 until it answers',
    );
  }

  private storeAnswered(): void {
    if (!this.storeDown) return;
    this.storeDown = false;
    this.log.info({ store: this.store.redis ? 'redis' : 'postgresql' }, 'rate limit store reachable again');
  }
}
