import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDataSource, migrate } from '../src/db/data-source';

/** An empty database on the test server, not cloned from the migrated template. */
async function emptyDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const serverUrl = process.env.IDGRAPH_TEST_SERVER_URL!;
  const name = `idgraph_empty_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

describe('migrations at boot', () => {
  it('two instances starting together migrate once, under the advisory lock', async () => {
    const database = await emptyDatabase();
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
