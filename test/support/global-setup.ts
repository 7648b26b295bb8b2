/**
 * Prepares one PostgreSQL server for the run: the one at TEST_DATABASE_URL, or
 * an embedded one started here. All migrations are applied once to a template
 * database; each test file then clones it into a database of its own
 * (test/support/database.ts), so files run in parallel without sharing rows.
 */
import 'reflect-metadata';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createDataSource, migrate } from '../../src/db/data-source';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';

export default async function globalSetup(): Promise<void> {
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'idgraph-test-'));
    const embedded = await startEmbeddedPostgres(dir, 'postgres');
    (globalThis as { __embeddedPostgres?: unknown }).__embeddedPostgres = { ...embedded, dir };
    serverUrl = embedded.url;
    process.stdout.write(`\nTests run against an embedded PostgreSQL (${dir})\n`);
  } else {
    process.stdout.write(`\nTests run against TEST_DATABASE_URL\n`);
  }
  const template = `idgraph_template_${process.pid}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();

  const templateUrl = new URL(serverUrl);
  templateUrl.pathname = `/${template}`;
  const { dataSource } = createDataSource(templateUrl.toString());
  await dataSource.initialize();
  await migrate(dataSource);
  await dataSource.destroy();

  process.env.IDGRAPH_TEST_SERVER_URL = serverUrl;
  process.env.IDGRAPH_TEST_TEMPLATE = template;
}
