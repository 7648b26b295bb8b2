import type Redis from 'ioredis';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { rateLimited } from '../errors';

/** The table is created by a migration, not by the library, so the schema has one source. */
export const RATE_LIMIT_TABLE = 'rate_limits';

type Limit = { points: number; windowSeconds: number };

function limiter(keyPrefix: string, limit: Limit, store: { dataSource: DataSource; redis?: Redis }): RateLimiterAbstract {
  const common = { keyPrefix, points: limit.points, duration: limit.windowSeconds };
  if (store.redis) return new RateLimiterRedis({ ...common, storeClient: store.redis });
  return new RateLimiterPostgres({
    ...common,
    storeClient: store.dataSource,
    storeType: 'typeorm',
    tableName: RATE_LIMIT_TABLE,
    tableCreated: true,
    clearExpiredByTimeout: true,
  });
}

/**
 * Limits shared by every instance (PostgreSQL by default, Redis when REDIS_URL
 * is set). `consume` throws RATE_LIMITED with `retryAfter` once a key is over.
 */
export class RateLimits {
  private readonly login: RateLimiterAbstract;
  private readonly signUp: RateLimiterAbstract;
  private readonly authFailure: RateLimiterAbstract;
  private readonly tokenIssue: RateLimiterAbstract;
  private readonly tokenEndpoint: RateLimiterAbstract;
  /** Told of every refusal, by limit (`login`, `signup`, `auth-failure`, `token-issue`, `token-endpoint`): the metrics count them. */
  onRefusal: (limit: string) => void = () => undefined;

  constructor(config: Config, store: { dataSource: DataSource; redis?: Redis }) {
    this.login = limiter('login', config.loginRateLimit, store);
    this.signUp = limiter('signup', config.signUpRateLimit, store);
    this.authFailure = limiter('auth-failure', config.authFailureRateLimit, store);
    this.tokenIssue = limiter('token-issue', config.tokenRateLimit, store);
    this.tokenEndpoint = limiter('token-endpoint', config.tokenEndpointRateLimit, store);
  }

  /** Refresh and verification of JWTs (GraphQL and the REST endpoints), per client address. */
  consumeTokenEndpoint(clientAddress: string): Promise<void> {
    return consume(this.tokenEndpoint, clientAddress, this.onRefusal);
  }

  /** Token creation and regeneration, per principal. */
  consumeTokenIssue(principalId: string): Promise<void> {
    return consume(this.tokenIssue, principalId, this.onRefusal);
  }

  consumeLogin(clientAddress: string): Promise<void> {
    return consume(this.login, clientAddress, this.onRefusal);
  }

  /** Each sign-up hashes a password (19 MiB of argon2id): limited per client address too. */
  consumeSignUp(clientAddress: string): Promise<void> {
    return consume(this.signUp, clientAddress, this.onRefusal);
  }

  /** Addresses over the failed-check limit, remembered here so that refusing them costs no query. */
  private readonly blockedUntil = new Map<string, number>();

  async consumeAuthFailure(clientAddress: string): Promise<void> {
    try {
      await consume(this.authFailure, clientAddress, this.onRefusal);
    } catch (error) {
      const retryAfter = (error as { details?: { retryAfter?: number } }).details?.retryAfter;
      if (retryAfter) this.blockedUntil.set(clientAddress, Date.now() + retryAfter * 1000);
      throw error;
    }
  }

  /**
   * Refuses an address that is over the failed-check limit before its
   * credential is even looked at: past the limit, a right guess must not be
   * told apart from a wrong one.
   */
  refuseIfBlocked(clientAddress: string): void {
    const until = this.blockedUntil.get(clientAddress);
    if (until === undefined) return;
    const left = until - Date.now();
    if (left <= 0) {
      this.blockedUntil.delete(clientAddress);
      return;
    }
    this.onRefusal('auth-failure');
    throw rateLimited(Math.ceil(left / 1000));
  }
}

async function consume(limiter: RateLimiterAbstract, key: string, onRefusal: (limit: string) => void): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) {
      onRefusal(limiter.keyPrefix);
      throw rateLimited(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
    }
    throw rejection;
  }
}
