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

describe('the membership consent migration', () => {
  it('keeps existing members ACTIVE and revokes, audited, the live tokens of people no longer members', async () => {
    const database = await createTestDatabase({ empty: true });
    const { dataSource } = createDataSource(database.url);
    try {
      await dataSource.initialize();
      await migrate(dataSource);
      // Back to the schema before it, with what that version could leave: a member, and a removed member's live token.
      const consentApplied = async () => (await dataSource.query(`SELECT 1 FROM migrations WHERE name LIKE 'MembershipConsent%'`)).length > 0;
      while (await consentApplied()) await dataSource.undoLastMigration({ transaction: 'each' });
      const [owner, gone] = await dataSource.query(
        `INSERT INTO users (email, name, "passwordHash", "userKeyDigest") VALUES ('owner@example.com', 'o', 'x', '\\x01'), ('gone@example.com', 'g', 'x', '\\x02') RETURNING id`,
      );
      const [organization] = await dataSource.query(`INSERT INTO organizations (name, slug) VALUES ('Acme', 'acme') RETURNING id`);
      await dataSource.query(`INSERT INTO memberships ("organizationId", "userId", role) VALUES ($1, $2, 'OWNER')`, [organization.id, owner.id]);
      const tokens = await dataSource.query(
        `INSERT INTO api_tokens ("organizationId", "ownerUserId", name, rights, "tokenPrefix", "secretDigest", "lastUsedAddresses")
         VALUES ($1, $2, 'kept', 1, 'idg_kept0000', '\\x03', '{}'), ($1, $3, 'orphan', 1, 'idg_orphan00', '\\x04', '{}') RETURNING id, name`,
        [organization.id, owner.id, gone.id],
      );
      await migrate(dataSource);

      expect(await dataSource.query(`SELECT status FROM memberships`)).toEqual([{ status: 'ACTIVE' }]);
      const after = await dataSource.query(`SELECT name, "revokedReason", "revokedAt" IS NOT NULL AS revoked FROM api_tokens ORDER BY name`);
      expect(after).toEqual([
        { name: 'kept', revokedReason: null, revoked: false },
        { name: 'orphan', revokedReason: 'member_removed', revoked: true },
      ]);
      const orphan = tokens.find((token: { name: string }) => token.name === 'orphan');
      const events = await dataSource.query(`SELECT "eventType", "actorKind", "targetId", changes FROM audit_events`);
      expect(events).toEqual([
        { eventType: 'api_token.revoked', actorKind: 'SYSTEM', targetId: orphan.id, changes: { reason: 'member_removed', tokenPrefix: 'idg_orphan00', by: 'migration' } },
      ]);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      await database.drop();
    }
  });
});

describe('a database with the development version of the consent migration', () => {
  it('starts: the migrations under their released names apply over it, changing nothing it already has', async () => {
    const database = await createTestDatabase({ empty: true });
    const { dataSource } = createDataSource(database.url);
    try {
      await dataSource.initialize();
      await migrate(dataSource);
      const schemaBefore = await dataSource.query(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'memberships' ORDER BY column_name`,
      );
      // As that version left it: its changes made, recorded under the name it had.
      await dataSource.query(`DELETE FROM migrations WHERE name IN ('MembershipConsent1795989002826', 'InvitationsByServiceUsers1795990949026')`);
      await dataSource.query(`INSERT INTO migrations (timestamp, name) VALUES (1795990949026, 'MembershipConsent1795990949026')`);
      const applied = await migrate(dataSource);
      expect(applied.sort()).toEqual(['InvitationsByServiceUsers1795990949026', 'MembershipConsent1795989002826']);
      expect(await dataSource.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'memberships' ORDER BY column_name`)).toEqual(
        schemaBefore,
      );
      expect((await dataSource.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      await database.drop();
    }
  });
});
