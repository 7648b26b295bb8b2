import type { DataSource } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { Logger } from '../logger';
import type { TokenUsageRecorder } from '../modules/api-tokens/token-usage';
import type { Jwts } from '../modules/personal-access-tokens/jwts';
import { AccessTokenVerifier } from './access-token-verifier';
import { ApiTokenVerifier, type ReplacedSecretHandler } from './api-token-verifier';
import { CredentialCache } from './credential-cache';
import { CredentialRecords } from './credential-records';
import { INVALIDATION_CHANNEL, InvalidationListener } from './invalidation-listener';
import { SessionVerifier } from './session-verifier';
import { UserKeyVerifier } from './user-key-verifier';

export type CredentialsOptions = {
  dataSource: DataSource;
  jwts: Jwts;
  usage: TokenUsageRecorder;
  tokenPrefix: string;
  cache: { max: number; ttlSeconds: number };
  now: () => Date;
  log: Logger;
  onReplacedSecret: ReplacedSecretHandler;
};

/**
 * Where every credential is verified: one verifier per kind, each answering
 * a typed result, all reading through one cache that the database keeps true
 * (see InvalidationListener).
 */
export class Credentials {
  readonly cache: CredentialCache;
  readonly userKeys: UserKeyVerifier;
  readonly sessions: SessionVerifier;
  readonly apiTokens: ApiTokenVerifier;
  readonly accessTokens: AccessTokenVerifier;
  private readonly listener: InvalidationListener | undefined;
  private readonly dataSource: DataSource;

  constructor(options: CredentialsOptions) {
    const { dataSource, now } = options;
    this.dataSource = dataSource;
    this.cache = new CredentialCache(options.cache);
    const records = new CredentialRecords(dataSource);
    this.userKeys = new UserKeyVerifier(records, this.cache);
    this.sessions = new SessionVerifier(records, this.cache, now);
    this.apiTokens = new ApiTokenVerifier(records, this.cache, options.usage, options.tokenPrefix, now, options.onReplacedSecret);
    this.accessTokens = new AccessTokenVerifier(options.jwts, records, this.cache, now);
    if (options.cache.max > 0) {
      const { url, extra } = dataSource.options as PostgresConnectionOptions & { extra?: { connectionTimeoutMillis?: number } };
      // Through the pool's own connections, not TypeORM's: markers are no statements of the application's.
      const announce = (payload: string) => (dataSource.driver as PostgresDriver).master.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, payload]);
      this.listener = new InvalidationListener({ connectionString: url, connectionTimeoutMillis: extra?.connectionTimeoutMillis }, announce, this.cache, options.log);
    }
  }

  /**
   * Listens for invalidations; after each transaction this process commits,
   * the next lookup waits until the listener has heard that transaction's
   * own, so the next request here already sees the change.
   */
  async start(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.cache.awaitOwnChanges(() => listener.unheard());
    this.dataSource.subscribers.push({ afterTransactionCommit: () => listener.barrier() });
    await listener.start();
  }

  stop(): Promise<void> {
    return this.listener?.stop() ?? Promise.resolve();
  }
}
