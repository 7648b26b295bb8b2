/**
 * API tokens seeded straight into PostgreSQL, for the scale case: rows like
 * the ones createApiToken writes (a unique SHA-256 digest, a 12-character
 * prefix, an organization and an owning user), made by `INSERT … SELECT …
 * FROM generate_series` in batches, then VACUUM ANALYZE: the planner knows the
 * table's new size, and no autovacuum of the new rows runs during the
 * measurement that follows. Their digests are of text that is no token, so no request
 * can ever match one.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';

/** Seeded rows carry this name: a later run on the same database removes them first. */
export const SEEDED_NAME = 'bench-seed';
const BATCH = 100_000;

export async function apiTokenCount(sql: Client): Promise<number> {
  return Number((await sql.query('SELECT count(*) AS n FROM api_tokens')).rows[0].n);
}

/** Removes what an earlier run seeded. */
export async function removeSeeded(sql: Client): Promise<number> {
  return (await sql.query('DELETE FROM api_tokens WHERE name = $1', [SEEDED_NAME])).rowCount ?? 0;
}

/**
 * Adds tokens owned by `owner` in `organizationId` until the table holds
 * `total` rows (none when it holds that many already); returns how many it
 * added and the seconds it took, VACUUM ANALYZE included.
 */
export async function seedApiTokens(sql: Client, total: number, organizationId: string, owner: string): Promise<{ added: number; seconds: number }> {
  const started = performance.now();
  const missing = Math.max(0, total - (await apiTokenCount(sql)));
  const run = randomBytes(6).toString('hex');
  for (let first = 1; first <= missing; first += BATCH) {
    const last = Math.min(missing, first + BATCH - 1);
    await sql.query(
      `INSERT INTO api_tokens ("organizationId", "ownerUserId", "createdById", name, "tokenPrefix", "secretDigest", rights)
       SELECT $1, $2, $2, $3, 'idg_' || substr(md5($4::text || g), 1, 8), sha256(convert_to($4::text || ':' || g, 'UTF8')), 0
       FROM generate_series($5::int, $6::int) AS g`,
      [organizationId, owner, SEEDED_NAME, `${SEEDED_NAME}:${run}`, first, last],
    );
  }
  await sql.query('VACUUM (ANALYZE) api_tokens');
  return { added: missing, seconds: (performance.now() - started) / 1000 };
}
