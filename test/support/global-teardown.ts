import { rm } from 'node:fs/promises';
import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const serverUrl = process.env.IDGRAPH_TEST_SERVER_URL;
  const template = process.env.IDGRAPH_TEST_TEMPLATE;
  if (serverUrl && template) {
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await admin.end();
  }
  const embedded = (globalThis as { __embeddedPostgres?: { stop: () => Promise<void>; dir: string } }).__embeddedPostgres;
  if (embedded) {
    await embedded.stop();
    await rm(embedded.dir, { recursive: true, force: true });
  }
}
