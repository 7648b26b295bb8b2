import type { MigrationInterface, QueryRunner } from 'typeorm';

export class MembershipConsent1795989002826 implements MigrationInterface {
    name = 'MembershipConsent1795989002826';

    // Written to be run again over itself: a development version of these changes was applied under another name
    // (MembershipConsent1795990949026), and a database that has it must start.
    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DO $$ BEGIN CREATE TYPE "public"."membership_status" AS ENUM('ACTIVE', 'INVITED'); EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
        await queryRunner.query(`ALTER TABLE "memberships" ADD COLUMN IF NOT EXISTS "status" "public"."membership_status" NOT NULL DEFAULT 'ACTIVE'`);
        await queryRunner.query(`ALTER TABLE "memberships" ADD COLUMN IF NOT EXISTS "invitedById" uuid`);
        await queryRunner.query(`CREATE INDEX IF NOT EXISTS "IDX_memberships_invited_by" ON "memberships" ("invitedById") `);
        await queryRunner.query(`DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'FK_05240b37eb9f02a6854c88f4d5d') THEN
                ALTER TABLE "memberships" ADD CONSTRAINT "FK_05240b37eb9f02a6854c88f4d5d" FOREIGN KEY ("invitedById") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION;
            END IF; END $$`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "memberships" DROP CONSTRAINT "FK_05240b37eb9f02a6854c88f4d5d"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_memberships_invited_by"`);
        await queryRunner.query(`ALTER TABLE "memberships" DROP COLUMN "invitedById"`);
        await queryRunner.query(`ALTER TABLE "memberships" DROP COLUMN "status"`);
        await queryRunner.query(`DROP TYPE "public"."membership_status"`);
    }
}
