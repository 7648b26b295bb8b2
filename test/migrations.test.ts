import 'reflect-metadata';
import { createDataSource, migrate } from '../src/db/data-source';
import { createTestDatabase } from './support/database';

describe('migrations at boot', () => {
  it('two instances starting together migrate once, under the advisory lock', async () => {
    const database = await createTestDatabase({ empty: true });
    const instances = [createDataSource(database.url), createDataSource(database.url)].map(({ dataSource }) => dataSource);
    try {
      await Promise.all(instances.map((dataSource) => dataSource.initialize()));
      const [first, second] = await Promise.all(instances.map((dataSource) => migrate(dataSource)));
      const applied = [...first!, ...second!];
      const all = instances[0]!.migrations.map((migration) => migration.name);
      expect(applied.sort()).toEqual([...all].sort());
      const rows = await instances[0]!.query(`SELECT name FROM migrations ORDER BY id`);
      expect(rows.map((row: { name: string }) => row.name).sort()).toEqual([...all].sort());
      const pending = await instances[0]!.driver.createSchemaBuilder().log();
      expect(pending.upQueries).toEqual([]);
    } finally {
      await Promise.all(instances.map((dataSource) => (dataSource.isInitialized ? dataSource.destroy() : undefined)));
      await database.drop();
    }
  });
});
