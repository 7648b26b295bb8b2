import type { DataSource } from 'typeorm';
import type { PrincipalServiceUser, PrincipalUser } from '../auth/principal';
import type { OrganizationRole, RightSet } from '../auth/rights';

/** A user as verification reads it: never the password hash or the key digest. */
export type UserRecord = PrincipalUser;

export type SessionRecord = { sessionId: string; expiresAt: Date; user: UserRecord };

/** An API token with what its use needs about its owner and organization, read in one statement. */
export type ApiTokenRecord = {
  id: string;
  organizationId: string;
  tokenPrefix: string;
  rights: RightSet;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
  user: UserRecord | null;
  serviceUser: PrincipalServiceUser | null;
  /** The owner's role while their membership is ACTIVE; null otherwise. */
  memberRole: OrganizationRole | null;
  policy: { requireExpiration: boolean; maxLifetimeDays: number | null } | null;
  /** Found by a secret that regeneration replaced: when it was replaced, and when its grace period ends. */
  replaced: { retiredAt: Date; graceEndsAt: Date } | null;
};

export type PatRecord = { id: string; jti: string; userId: string; expiresAt: Date | null; revokedAt: Date | null; user: UserRecord };

const USER_COLUMNS = (alias: string, prefix = '') =>
  [
    `${alias}.id AS "${prefix}id"`,
    `${alias}.email AS "${prefix}email"`,
    `${alias}.name AS "${prefix}name"`,
    `${alias}."isActive" AS "${prefix}isActive"`,
    `${alias}."createdAt" AS "${prefix}createdAt"`,
  ].join(', ');

type Row = Record<string, any>;

function userOf(row: Row, prefix = ''): UserRecord {
  return {
    id: row[`${prefix}id`],
    email: row[`${prefix}email`],
    name: row[`${prefix}name`],
    isActive: row[`${prefix}isActive`],
    createdAt: row[`${prefix}createdAt`],
  };
}

/**
 * The current secret or, failing that, a replaced one: one statement, two
 * unique-index probes, so a well-formed but unknown token costs one lookup.
 * Selected columns only: never a digest or a hash.
 */
const API_TOKEN_SQL = `
  WITH found AS (
    SELECT t.id, NULL::timestamptz AS "retiredAt", NULL::timestamptz AS "graceEndsAt" FROM api_tokens t WHERE t."secretDigest" = $1
    UNION ALL
    SELECT r."apiTokenId", r."retiredAt", r."graceEndsAt" FROM api_token_retired_secrets r WHERE r."secretDigest" = $1
    LIMIT 1)
  SELECT t.id, t."organizationId", t."tokenPrefix", t.rights, t."expiresAt", t."revokedAt", t."createdAt",
         found."retiredAt", found."graceEndsAt",
         ${USER_COLUMNS('u', 'user_')},
         su.id AS "serviceUserId", su.name AS "serviceUserName", su.role AS "serviceUserRole",
         su."createdById" AS "serviceUserCreatedById", su."createdAt" AS "serviceUserCreatedAt",
         m.role AS "memberRole", p."requireExpiration", p."maxLifetimeDays"
    FROM found
    JOIN api_tokens t ON t.id = found.id
    LEFT JOIN users u ON u.id = t."ownerUserId"
    LEFT JOIN service_users su ON su.id = t."ownerServiceUserId"
    LEFT JOIN memberships m ON m."organizationId" = t."organizationId" AND m."userId" = t."ownerUserId" AND m.status = 'ACTIVE'
    LEFT JOIN token_expiration_policies p ON p."organizationId" = t."organizationId"`;

/**
 * Every read verification makes, as plain SQL: the hottest path, so one
 * indexed statement per credential and no entity hydration.
 */
export class CredentialRecords {
  constructor(private readonly dataSource: DataSource) {}

  async userByKeyDigest(digest: Buffer): Promise<UserRecord | null> {
    const [row] = await this.dataSource.query(`SELECT ${USER_COLUMNS('u')} FROM users u WHERE u."userKeyDigest" = $1`, [digest]);
    return row ? userOf(row) : null;
  }

  async sessionByDigest(digest: Buffer): Promise<SessionRecord | null> {
    const [row] = await this.dataSource.query(
      `SELECT s.id AS "sessionId", s."expiresAt" AS "sessionExpiresAt", ${USER_COLUMNS('u', 'user_')}
         FROM sessions s JOIN users u ON u.id = s."userId" WHERE s.digest = $1`,
      [digest],
    );
    return row ? { sessionId: row.sessionId, expiresAt: row.sessionExpiresAt, user: userOf(row, 'user_') } : null;
  }

  async apiTokenByDigest(digest: Buffer): Promise<ApiTokenRecord | null> {
    const [row] = await this.dataSource.query(API_TOKEN_SQL, [digest]);
    if (!row) return null;
    return {
      id: row.id,
      organizationId: row.organizationId,
      tokenPrefix: row.tokenPrefix,
      rights: row.rights,
      expiresAt: row.expiresAt,
      revokedAt: row.revokedAt,
      createdAt: row.createdAt,
      user: row.user_id ? userOf(row, 'user_') : null,
      serviceUser: row.serviceUserId
        ? {
            id: row.serviceUserId,
            name: row.serviceUserName,
            role: row.serviceUserRole,
            organizationId: row.organizationId,
            createdById: row.serviceUserCreatedById,
            createdAt: row.serviceUserCreatedAt,
          }
        : null,
      memberRole: row.memberRole,
      policy: row.requireExpiration === null ? null : { requireExpiration: row.requireExpiration, maxLifetimeDays: row.maxLifetimeDays },
      replaced: row.graceEndsAt ? { retiredAt: row.retiredAt, graceEndsAt: row.graceEndsAt } : null,
    };
  }

  async patByJti(jti: string): Promise<PatRecord | null> {
    const [row] = await this.dataSource.query(
      `SELECT p.id AS "patId", p.jti, p."userId" AS "patUserId", p."expiresAt" AS "patExpiresAt", p."revokedAt" AS "patRevokedAt", ${USER_COLUMNS('u', 'user_')}
         FROM personal_access_tokens p JOIN users u ON u.id = p."userId" WHERE p.jti = $1`,
      [jti],
    );
    if (!row) return null;
    return { id: row.patId, jti: row.jti, userId: row.patUserId, expiresAt: row.patExpiresAt, revokedAt: row.patRevokedAt, user: userOf(row, 'user_') };
  }
}
