import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every change that can alter a verified credential announces itself on the
 * channel `idgraph_credentials`, from the database, in the writing
 * transaction: whoever writes (a server, the command line, an operator's SQL,
 * a cascade) cannot forget to, and nothing is announced unless it commits.
 * A message is `<kind>:<id>,<id>,…` naming what changed, or `*` (forget
 * everything) when a statement changes too many rows to name.
 * Kinds: t api token (or one of its replaced secrets), u user (or one of their memberships), s service user,
 * o organization (its policy or itself), p personal access token (jti), x session.
 * Statement-level triggers with transition tables send one message per
 * statement, and an update only when a column verification reads changed
 * (the token usage written every few seconds changes none of them).
 * The triggers fire ALWAYS, also in a session that turned triggers off for
 * replication (`session_replication_role = replica`, as logical replication
 * applies changes): a replicated revocation is still announced.
 */
type Watched = {
  table: string;
  kind: string;
  /** The name a message gives a changed row, from the row's alias. */
  key: (row: string) => string;
  primaryKey: string;
  /** The columns verification reads: an update that changes none of them announces nothing. */
  read?: string[];
  events: ('INSERT' | 'UPDATE' | 'DELETE')[];
};

const WATCHED: Watched[] = [
  {
    table: 'api_tokens',
    kind: 't',
    key: (row) => `${row}.id::text`,
    primaryKey: 'id',
    read: ['revokedAt', 'secretDigest', 'rights', 'expiresAt', 'createdAt', 'ownerUserId', 'ownerServiceUserId', 'organizationId'],
    events: ['UPDATE', 'DELETE'],
  },
  {
    table: 'api_token_retired_secrets',
    kind: 't',
    key: (row) => `${row}."apiTokenId"::text`,
    primaryKey: 'id',
    read: ['graceEndsAt', 'apiTokenId', 'secretDigest'],
    events: ['UPDATE', 'DELETE'],
  },
  {
    table: 'users',
    kind: 'u',
    key: (row) => `${row}.id::text`,
    primaryKey: 'id',
    read: ['email', 'name', 'isActive', 'userKeyDigest', 'createdAt'],
    events: ['UPDATE', 'DELETE'],
  },
  {
    table: 'service_users',
    kind: 's',
    key: (row) => `${row}.id::text`,
    primaryKey: 'id',
    read: ['name', 'role', 'organizationId', 'createdById', 'createdAt'],
    events: ['UPDATE', 'DELETE'],
  },
  {
    // A membership changes what the user's tokens in that organization may do: named by its user, whose entries are few.
    table: 'memberships',
    kind: 'u',
    key: (row) => `${row}."userId"::text`,
    primaryKey: 'id',
    read: ['role', 'status', 'organizationId', 'userId'],
    events: ['INSERT', 'UPDATE', 'DELETE'],
  },
  {
    table: 'token_expiration_policies',
    kind: 'o',
    key: (row) => `${row}."organizationId"::text`,
    primaryKey: 'organizationId',
    read: ['requireExpiration', 'maxLifetimeDays'],
    events: ['INSERT', 'UPDATE', 'DELETE'],
  },
  { table: 'organizations', kind: 'o', key: (row) => `${row}.id::text`, primaryKey: 'id', events: ['DELETE'] },
  {
    table: 'personal_access_tokens',
    kind: 'p',
    key: (row) => `${row}.jti::text`,
    primaryKey: 'id',
    read: ['revokedAt', 'expiresAt', 'userId', 'jti'],
    events: ['UPDATE', 'DELETE'],
  },
  {
    table: 'sessions',
    kind: 'x',
    key: (row) => `${row}.id::text`,
    primaryKey: 'id',
    read: ['expiresAt', 'userId', 'digest'],
    events: ['UPDATE', 'DELETE'],
  },
];

const triggerName = (table: string, event: string) => `TRG_${table}_credentials_${event.toLowerCase()}`;
const functionName = (table: string, event: string) => `idgraph_credentials_${table}_${event.toLowerCase()}`;

/** The keys of the rows a statement changed, from its transition tables. */
function changedKeys(watched: Watched, event: string): string {
  if (event === 'INSERT') return `SELECT ${watched.key('n')} FROM new_rows n`;
  if (event === 'DELETE') return `SELECT ${watched.key('o')} FROM old_rows o`;
  const columns = (row: string) => `(${watched.read!.map((column) => `${row}."${column}"`).join(', ')})`;
  // A row is named under its old key and its new one; a row whose primary key changed has no partner, and is named too.
  return `SELECT k FROM old_rows o FULL JOIN new_rows n ON n."${watched.primaryKey}" = o."${watched.primaryKey}"
            CROSS JOIN LATERAL (VALUES (${watched.key('o')}), (${watched.key('n')})) AS keys(k)
           WHERE o."${watched.primaryKey}" IS NULL OR n."${watched.primaryKey}" IS NULL OR ${columns('o')} IS DISTINCT FROM ${columns('n')}`;
}

export class CredentialInvalidation1795999000000 implements MigrationInterface {
  name = 'CredentialInvalidation1795999000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Names at most 150 a message (a NOTIFY payload holds under 8000 bytes); past 1,000, `*`.
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION idgraph_announce_credentials(kind text, keys text[]) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        distinct_keys text[];
        total integer;
        i integer := 1;
      BEGIN
        SELECT array_agg(DISTINCT k) INTO distinct_keys FROM unnest(keys) AS k WHERE k IS NOT NULL;
        total := coalesce(array_length(distinct_keys, 1), 0);
        IF total = 0 THEN RETURN; END IF;
        IF total > 1000 THEN
          PERFORM pg_notify('idgraph_credentials', '*');
          RETURN;
        END IF;
        WHILE i <= total LOOP
          PERFORM pg_notify('idgraph_credentials', kind || ':' || array_to_string(distinct_keys[i:i + 149], ','));
          i := i + 150;
        END LOOP;
      END $$`);
    // TRUNCATE has no rows to name: everything is forgotten.
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION idgraph_credentials_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('idgraph_credentials', '*');
        RETURN NULL;
      END $$`);
    for (const table of new Set(WATCHED.map((watched) => watched.table))) {
      await queryRunner.query(`DROP TRIGGER IF EXISTS "${triggerName(table, 'TRUNCATE')}" ON "${table}"`);
      await queryRunner.query(`CREATE TRIGGER "${triggerName(table, 'TRUNCATE')}" AFTER TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION idgraph_credentials_truncate()`);
      await queryRunner.query(`ALTER TABLE "${table}" ENABLE ALWAYS TRIGGER "${triggerName(table, 'TRUNCATE')}"`);
    }
    for (const watched of WATCHED) {
      for (const event of watched.events) {
        const transition =
          event === 'INSERT' ? 'NEW TABLE AS new_rows' : event === 'DELETE' ? 'OLD TABLE AS old_rows' : 'OLD TABLE AS old_rows NEW TABLE AS new_rows';
        await queryRunner.query(`
          CREATE OR REPLACE FUNCTION ${functionName(watched.table, event)}() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            PERFORM idgraph_announce_credentials('${watched.kind}', ARRAY(${changedKeys(watched, event)}));
            RETURN NULL;
          END $$`);
        await queryRunner.query(`DROP TRIGGER IF EXISTS "${triggerName(watched.table, event)}" ON "${watched.table}"`);
        await queryRunner.query(`
          CREATE TRIGGER "${triggerName(watched.table, event)}" AFTER ${event} ON "${watched.table}"
          REFERENCING ${transition} FOR EACH STATEMENT EXECUTE FUNCTION ${functionName(watched.table, event)}()`);
        await queryRunner.query(`ALTER TABLE "${watched.table}" ENABLE ALWAYS TRIGGER "${triggerName(watched.table, event)}"`);
      }
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const watched of WATCHED) {
      for (const event of watched.events) {
        await queryRunner.query(`DROP TRIGGER IF EXISTS "${triggerName(watched.table, event)}" ON "${watched.table}"`);
        await queryRunner.query(`DROP FUNCTION IF EXISTS ${functionName(watched.table, event)}()`);
      }
    }
    for (const table of new Set(WATCHED.map((watched) => watched.table))) {
      await queryRunner.query(`DROP TRIGGER IF EXISTS "${triggerName(table, 'TRUNCATE')}" ON "${table}"`);
    }
    await queryRunner.query(`DROP FUNCTION IF EXISTS idgraph_credentials_truncate()`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS idgraph_announce_credentials(text, text[])`);
  }
}
