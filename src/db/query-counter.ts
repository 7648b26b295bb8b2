import type { Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from '../logger';

/**
 * TypeORM logger that counts SQL statements (tests and the benchmark read the
 * count) and sends database errors to the application log without parameters,
 * which may hold digests.
 */
export class QueryCounter implements TypeOrmLogger {
  count = 0;

  constructor(private readonly appLog?: Logger) {}

  logQuery(): void {
    this.count += 1;
  }

  logQueryError(error: string | Error, query: string): void {
    this.appLog?.warn({ err: error instanceof Error ? error.message : error, query }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.appLog?.warn({ time, query }, 'slow query');
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.appLog?.info({ migration: message }, 'migration');
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.appLog?.warn({ message }, 'database');
  }
}
