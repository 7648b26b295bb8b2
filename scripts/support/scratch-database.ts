import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';

/**
 * Runs `work` against a new, empty database: on the server of TEST_DATABASE_URL
 * or DATABASE_URL when one is set, else on an embedded PostgreSQL in a temporary folder.
 */
export async function withScratchDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const serverUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!serverUrl) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'idgraph-scratch-'));
    const embedded = await startEmbeddedPostgres(dir, 'scratch');
    try {
      return await work(embedded.url);
    } finally {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
  const name = `idgraph_scratch_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return await work(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
