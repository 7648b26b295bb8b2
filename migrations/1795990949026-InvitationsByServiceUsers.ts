import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InvitationsByServiceUsers1795990949026 implements MigrationInterface {
    name = 'InvitationsByServiceUsers1795990949026';

    public async up(queryRunner: QueryRunner): Promise<void> {
        // Idempotent, as MembershipConsent1795989002826 is: a development version applied these under another name.
        await queryRunner.query(`ALTER TABLE "memberships" ADD COLUMN IF NOT EXISTS "invitedByServiceUserId" uuid`);
        await queryRunner.query(`CREATE INDEX IF NOT EXISTS "IDX_memberships_invited_by_service_user" ON "memberships" ("invitedByServiceUserId") `);
        await queryRunner.query(`DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'FK_09a08c0f6a8a257c09aeb87d69d') THEN
                ALTER TABLE "memberships" ADD CONSTRAINT "FK_09a08c0f6a8a257c09aeb87d69d"
                    FOREIGN KEY ("invitedByServiceUserId") REFERENCES "service_users"("id") ON DELETE SET NULL ON UPDATE NO ACTION;
            END IF; END $$`);
        // Until now a removed member's tokens only slept, and would wake if the person were let back in (or,
        // invited again, accepted): they are revoked as a removal now revokes them, and each revocation is audited.
        await queryRunner.query(`
            WITH revoked AS (
                UPDATE "api_tokens" t SET "revokedAt" = now(), "revokedReason" = 'member_removed'
                 WHERE t."ownerUserId" IS NOT NULL AND t."revokedAt" IS NULL
                   AND NOT EXISTS (SELECT 1 FROM "memberships" m
                                    WHERE m."organizationId" = t."organizationId" AND m."userId" = t."ownerUserId" AND m."status" = 'ACTIVE')
                RETURNING t."id", t."organizationId", t."tokenPrefix")
            INSERT INTO "audit_events" ("organizationId", "eventType", "actorKind", "targetType", "targetId", "changes")
            SELECT "organizationId", 'api_token.revoked', 'SYSTEM', 'api_token', "id",
                   jsonb_build_object('reason', 'member_removed', 'tokenPrefix', "tokenPrefix", 'by', 'migration')
              FROM revoked`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "memberships" DROP CONSTRAINT "FK_09a08c0f6a8a257c09aeb87d69d"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_memberships_invited_by_service_user"`);
        await queryRunner.query(`ALTER TABLE "memberships" DROP COLUMN "invitedByServiceUserId"`);
    }
}
