import 'reflect-metadata';
import { createDataSource, migrate } from '../../src/db/data-source';

export type SchemaDiff = { up: string[]; down: string[] };

/** Applies every migration to `url`, then asks TypeORM what the entities still need. */
export async function schemaDiffAfterMigrations(url: string): Promise<SchemaDiff> {
  const { dataSource } = createDataSource(url);
  await dataSource.initialize();
  try {
    await migrate(dataSource);
    const sql = await dataSource.driver.createSchemaBuilder().log();
    return { up: sql.upQueries.map((query) => query.query), down: sql.downQueries.map((query) => query.query) };
  } finally {
    await dataSource.destroy();
  }
}
