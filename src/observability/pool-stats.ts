import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

export type PoolStats = { total: number; idle: number; waiting: number };

/** Reads the pg Pool behind a TypeORM DataSource when asked (at scrape time): zeros while the DataSource is closed. */
export function poolStats(dataSource: DataSource): () => PoolStats {
  return () => {
    const pool = dataSource.isInitialized ? ((dataSource.driver as PostgresDriver).master as Pool | undefined) : undefined;
    return pool ? { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } : { total: 0, idle: 0, waiting: 0 };
  };
}
