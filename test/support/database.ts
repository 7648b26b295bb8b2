import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * A fresh database for one test file, cloned from the migrated template made
 * by global-setup; `{ empty: true }` for one without any migration applied.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<{ url: string; drop: () => Promise<void> }> {
  const serverUrl = process.env.IDGRAPH_TEST_SERVER_URL;
  const template = process.env.IDGRAPH_TEST_TEMPLATE;
  if (!serverUrl || !template) throw new Error('test/support/global-setup.ts did not run');
  const name = `idgraph_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(options.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  // Only the database changes: the embedded server's socket folder travels in the `?host=` parameter.
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
