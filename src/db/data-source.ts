import path from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { Logger } from '../logger';
import { ENTITIES } from './entities';
import { QueryCounter } from './query-counter';

/** Compiled (dist/migrations/*.js) or run from source (migrations/*.ts): the same folder either way. */
const MIGRATIONS = path.join(__dirname, '..', '..', 'migrations', '*.{js,ts}');

export function dataSourceOptions(url: string, queryCounter?: QueryCounter): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: [MIGRATIONS],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install, so no superuser needed at boot.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    migrationsRun: false,
    logging: queryCounter ? ['query', 'error', 'warn', 'migration'] : false,
    logger: queryCounter,
    maxQueryExecutionTime: 1000,
    extra: { max: 10, application_name: 'idgraph' },
  };
}

export function createDataSource(url: string, log?: Logger): { dataSource: DataSource; queries: QueryCounter } {
  const queries = new QueryCounter(log);
  return { dataSource: new DataSource(dataSourceOptions(url, queries)), queries };
}

/** One constant for the whole product: instances that boot together queue on it. */
const MIGRATION_LOCK_KEY = 4_271_033_901;

/** Runs pending migrations under a PostgreSQL advisory lock, so two instances never migrate at once. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
