import type { DataSource } from 'typeorm';
import { pendingMigrations } from '../db/data-source';
import type { Logger } from '../logger';

export type ReadinessChecks = {
  database: 'ok' | 'unreachable' | 'timeout';
  migrations: 'ok' | 'pending' | 'unknown';
  signingKeys: 'ok' | 'missing';
};

export type ReadinessReport = { ready: boolean; checks: ReadinessChecks };

/** How long /readyz waits for PostgreSQL before it answers `timeout`: well under a probe's usual timeout. */
export const READINESS_TIMEOUT_MS = 1500;

type DatabaseAnswer = { pending: string[] } | 'unreachable';

/**
 * Whether this instance can serve: PostgreSQL answers, every migration it
 * knows is applied, and it holds signing keys. One query (the applied
 * migrations, `pendingMigrations`) answers the first two. However many probes arrive, at most one
 * query is in flight, and each probe waits for it at most `timeoutMs`, so a
 * hanging database neither hangs the probe nor piles up connections.
 */
export class Readiness {
  private inFlight: Promise<DatabaseAnswer> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly signingKeysLoaded: () => boolean,
    private readonly log: Logger,
    private readonly timeoutMs = READINESS_TIMEOUT_MS,
  ) {}

  async check(): Promise<ReadinessReport> {
    const answer = await this.databaseWithin(this.timeoutMs);
    const checks: ReadinessChecks = {
      database: answer === 'timeout' || answer === 'unreachable' ? answer : 'ok',
      migrations: typeof answer === 'string' ? 'unknown' : answer.pending.length > 0 ? 'pending' : 'ok',
      signingKeys: this.signingKeysLoaded() ? 'ok' : 'missing',
    };
    return { ready: Object.values(checks).every((value) => value === 'ok'), checks };
  }

  private async databaseWithin(ms: number): Promise<DatabaseAnswer | 'timeout'> {
    this.inFlight ??= this.askDatabase().finally(() => {
      this.inFlight = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    try {
      return await Promise.race([this.inFlight, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async askDatabase(): Promise<DatabaseAnswer> {
    if (!this.dataSource.isInitialized) return 'unreachable';
    try {
      return { pending: await pendingMigrations(this.dataSource) };
    } catch (error) {
      // The cause stays in the log (at debug: a probe every few seconds must not flood it); the probe's answer names none.
      this.log.debug({ err: error instanceof Error ? error.message : String(error) }, 'readiness: database check failed');
      return 'unreachable';
    }
  }
}
