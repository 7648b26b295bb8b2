import type { Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from '../logger';
import type { DatabaseAvailability } from './availability';

/**
 * TypeORM logger that counts SQL statements (tests and the benchmark read the
 * count) and sends database errors to the application log without parameters,
 * which may hold digests. Failures that come from the database being out of
 * reach go to `availability` instead, which logs the outage once.
 */
export class QueryCounter implements TypeOrmLogger {
  count = 0;

  constructor(
    private readonly appLog?: Logger,
    private readonly availability?: DatabaseAvailability,
  ) {}

  logQuery(): void {
    this.count += 1;
  }

  logQueryError(error: string | Error, query: string): void {
    if (this.availability?.observeFailure(error) === 'unreachable') return;
    this.appLog?.warn({ err: error instanceof Error ? error.message : error, query }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.appLog?.warn({ time, query }, 'slow query');
  }

  /** An idle pooled connection broke (PostgreSQL restarted, a network dropped it); the pool replaces it. */
  logPoolError(error: unknown): void {
    if (this.availability?.observeFailure(error) === 'unreachable') return;
    this.appLog?.warn({ err: error instanceof Error ? error.message : String(error) }, 'database connection lost');
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.appLog?.info({ migration: message }, 'migration');
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.appLog?.warn({ message }, 'database');
  }
}
