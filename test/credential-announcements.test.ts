import { Client } from 'pg';
import { createTestDatabase } from './support/database';

/**
 * What PostgreSQL itself announces on `idgraph_credentials` (the triggers of
 * migrations/1795999000000-CredentialInvalidation.ts), whoever writes: here
 * plain SQL, as an operator would run it.
 */
describe('credential announcements', () => {
  let database: { url: string; drop: () => Promise<void> };
  let writer: Client;
  let listener: Client;
  let heard: string[] = [];
  let organizationId: string;
  let userId: string;

  /** Runs `sql` and returns what was announced for it (a marker sent afterwards bounds the wait: delivery is in commit order). */
  async function announced(sql: string, params: unknown[] = []): Promise<string[]> {
    heard = [];
    await writer.query(sql, params);
    const marker = `end:${Math.random()}`;
    await writer.query(`SELECT pg_notify('idgraph_credentials', $1)`, [marker]);
    for (let i = 0; i < 200 && !heard.includes(marker); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(heard).toContain(marker);
    return heard.filter((payload) => payload !== marker);
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    writer = new Client({ connectionString: database.url });
    listener = new Client({ connectionString: database.url });
    await writer.connect();
    await listener.connect();
    listener.on('notification', (message) => heard.push(message.payload ?? ''));
    await listener.query('LISTEN idgraph_credentials');
    [{ id: userId }] = (await writer.query(`INSERT INTO users (email, name, "passwordHash", "userKeyDigest") VALUES ('a@example.com', 'A', 'x', '\\x01') RETURNING id`)).rows;
    [{ id: organizationId }] = (await writer.query(`INSERT INTO organizations (name, slug) VALUES ('Acme', 'acme') RETURNING id`)).rows;
    await writer.query(`INSERT INTO memberships ("organizationId", "userId", role) VALUES ($1, $2, 'OWNER')`, [organizationId, userId]);
    // 1,500 tokens of the user in the organization, each with a distinct digest.
    await writer.query(
      `INSERT INTO api_tokens ("organizationId", "ownerUserId", name, "tokenPrefix", "secretDigest", rights)
       SELECT $1, $2, 'token ' || i, 'idg_' || lpad(i::text, 8, '0'), sha256(i::text::bytea), 1 FROM generate_series(1, 1500) AS i`,
      [organizationId, userId],
    );
  });

  afterAll(async () => {
    await writer?.end();
    await listener?.end();
    await database?.drop();
  });

  it('names a revoked token, in the transaction that revokes it, and only once it commits', async () => {
    const [{ id }] = (await writer.query(`SELECT id FROM api_tokens WHERE name = 'token 1'`)).rows;
    expect(await announced(`BEGIN; UPDATE api_tokens SET "revokedAt" = now() WHERE id = '${id}'; ROLLBACK`)).toEqual([]);
    expect(await announced(`UPDATE api_tokens SET "revokedAt" = now() WHERE id = $1`, [id])).toEqual([`t:${id}`]);
  });

  it('announces nothing for an update verification does not read (the batched last use)', async () => {
    expect(await announced(`UPDATE api_tokens SET "lastUsedAt" = now(), "lastUsedAddresses" = '{192.0.2.1}' WHERE name = 'token 2'`)).toEqual([]);
  });

  it('names the user for a membership change and for a deactivation', async () => {
    expect(await announced(`UPDATE memberships SET role = 'ADMIN' WHERE "userId" = $1`, [userId])).toEqual([`u:${userId}`]);
    expect(await announced(`UPDATE users SET "isActive" = false WHERE id = $1`, [userId])).toEqual([`u:${userId}`]);
    expect(await announced(`UPDATE users SET "isActive" = true WHERE id = $1`, [userId])).toEqual([`u:${userId}`]);
  });

  it('names the organization for a policy change', async () => {
    expect(await announced(`INSERT INTO token_expiration_policies ("organizationId", "requireExpiration") VALUES ($1, true)`, [organizationId])).toEqual([
      `o:${organizationId}`,
    ]);
  });

  it('splits many names over several messages, each under the payload limit', async () => {
    const messages = await announced(`UPDATE api_tokens SET rights = 3 WHERE name IN (SELECT 'token ' || i FROM generate_series(10, 409) AS i)`);
    expect(messages.length).toBe(3);
    expect(messages.every((message) => message.startsWith('t:') && message.length < 8000)).toBe(true);
    expect(new Set(messages.flatMap((message) => message.slice(2).split(','))).size).toBe(400);
  });

  it('names a row whose primary key an update changed, under its old key and its new one', async () => {
    const [{ id }] = (await writer.query(`SELECT id FROM api_tokens WHERE name = 'token 3'`)).rows;
    const messages = await announced(`UPDATE api_tokens SET id = gen_random_uuid(), "revokedAt" = now() WHERE id = $1 RETURNING id`, [id]);
    const [{ id: renamed }] = (await writer.query(`SELECT id FROM api_tokens WHERE name = 'token 3'`)).rows;
    expect(messages).toHaveLength(1);
    expect(messages[0]!.slice(2).split(',').sort()).toEqual([id, renamed].sort());
  });

  it('announces also where triggers are off for replication (session_replication_role = replica)', async () => {
    const [{ id }] = (await writer.query(`SELECT id FROM api_tokens WHERE name = 'token 4'`)).rows;
    const messages = await announced(
      `BEGIN; SET LOCAL session_replication_role = replica; UPDATE api_tokens SET "revokedAt" = now() WHERE id = '${id}'; COMMIT`,
    );
    expect(messages).toEqual([`t:${id}`]);
  });

  it('says "forget everything" for a statement that changes more than 1,000 rows, and for TRUNCATE', async () => {
    expect(await announced(`UPDATE api_tokens SET rights = 7 WHERE "organizationId" = $1`, [organizationId])).toEqual(['*']);
    expect(await announced(`TRUNCATE sessions`)).toEqual(['*']);
  });

  it('names every token of a deleted organization through the cascade, and the organization itself', async () => {
    const messages = await announced(`DELETE FROM organizations WHERE id = $1`, [organizationId]);
    expect(messages).toContain(`o:${organizationId}`);
    // 1,500 tokens: too many to name, so the cascade's statement says "forget everything".
    expect(messages).toContain('*');
    expect(messages).toContain(`u:${userId}`);
  });
});
