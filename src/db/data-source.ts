import path from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from '../config';
import type { Logger } from '../logger';
import { DatabaseAvailability } from './availability';
import { ENTITIES } from './entities';
import { QueryCounter } from './query-counter';

/** Compiled (dist/migrations/*.js) or run from source (migrations/*.ts): the same folder either way. */
const MIGRATIONS = path.join(__dirname, '..', '..', 'migrations', '*.{js,ts}');


/** A little longer than statement_timeout: the server's own limit answers first whenever the server answers at all. */
const CLIENT_QUERY_TIMEOUT_MARGIN_SECONDS = 2;

export function dataSourceOptions(url: string, queryCounter?: QueryCounter, timeouts: DatabaseTimeouts = DEFAULT_DATABASE_TIMEOUTS): DataSourceOptions {
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
    // Bounded waits, so that a request answers 503 soon while PostgreSQL is out of reach: a connection
    // that cannot be made, a statement the server runs too long, and (query_timeout, on the client) a
    // server that no longer answers at all, as behind a broken network.
    extra: {
      max: 10,
      application_name: 'idgraph',
      connectionTimeoutMillis: timeouts.connectSeconds * 1000,
      statement_timeout: timeouts.statementSeconds * 1000,
      query_timeout: (timeouts.statementSeconds + CLIENT_QUERY_TIMEOUT_MARGIN_SECONDS) * 1000,
      keepAlive: true,
    },
    // An idle pooled connection that breaks (PostgreSQL restarted) is dropped by the pool; this only reports it.
    ...(queryCounter ? { poolErrorHandler: (error: unknown) => queryCounter.logPoolError(error) } : {}),
  };
}

export function createDataSource(
  url: string,
  log?: Logger,
  timeouts: DatabaseTimeouts = DEFAULT_DATABASE_TIMEOUTS,
): { dataSource: DataSource; queries: QueryCounter; availability: DatabaseAvailability } {
  const availability = new DatabaseAvailability(log);
  const queries = new QueryCounter(log, availability);
  return { dataSource: new DataSource(dataSourceOptions(url, queries, timeouts)), queries, availability };
}

/**
 * The same database without the request timeouts: a migration may rewrite a
 * big table, and an instance may wait on the lock while another migrates.
 */
function withoutRequestTimeouts(dataSource: DataSource): DataSource {
  const { extra } = dataSource.options as { extra?: Record<string, unknown> };
  return new DataSource({ ...dataSource.options, extra: { ...extra, max: 2, statement_timeout: 0, query_timeout: undefined } } as DataSourceOptions);
}

/**
 * The migrations this code has that the database has not applied, oldest
 * first, in one statement that writes nothing (TypeORM's executor would
 * create the migrations table of an empty database): for /readyz, `doctor`
 * and `migrate --check`.
 */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  let rows: { name: string }[] = [];
  try {
    rows = await dataSource.query(`SELECT name FROM "${table}"`);
  } catch (error) {
    // An empty database has no migrations table yet: everything is pending.
    if ((error as { driverError?: { code?: string } }).driverError?.code !== UNDEFINED_TABLE) throw error;
  }
  const applied = new Set(rows.map((row) => row.name));
  // Oldest first, by the timestamp that ends each name, as TypeORM runs them (the folder's listing has no order to rely on).
  const timestamp = (name: string) => Number(/\d{13}$/.exec(name)?.[0] ?? 0);
  return dataSource.migrations
    .map((migration) => migration.name ?? migration.constructor.name)
    .filter((name) => !applied.has(name))
    .sort((a, b) => timestamp(a) - timestamp(b));
}

const UNDEFINED_TABLE = '42P01';

/** One constant for the whole product: instances that boot together queue on it. */
const MIGRATION_LOCK_KEY = 4_271_033_901;

/** Runs pending migrations under a PostgreSQL advisory lock, so two instances never migrate at once. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const migrator = await withoutRequestTimeouts(dataSource).initialize();
  const runner = migrator.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await migrator.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
    await migrator.destroy();
  }
}
