import type { MigrationInterface, QueryRunner } from 'typeorm';

export class MembershipConsent1795989002826 implements MigrationInterface {
    name = 'MembershipConsent1795989002826';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TYPE "public"."membership_status" AS ENUM('ACTIVE', 'INVITED')`);
        await queryRunner.query(`ALTER TABLE "memberships" ADD "status" "public"."membership_status" NOT NULL DEFAULT 'ACTIVE'`);
        await queryRunner.query(`ALTER TABLE "memberships" ADD "invitedById" uuid`);
        await queryRunner.query(`CREATE INDEX "IDX_memberships_invited_by" ON "memberships" ("invitedById") `);
        await queryRunner.query(`ALTER TABLE "memberships" ADD CONSTRAINT "FK_05240b37eb9f02a6854c88f4d5d" FOREIGN KEY ("invitedById") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "memberships" DROP CONSTRAINT "FK_05240b37eb9f02a6854c88f4d5d"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_memberships_invited_by"`);
        await queryRunner.query(`ALTER TABLE "memberships" DROP COLUMN "invitedById"`);
        await queryRunner.query(`ALTER TABLE "memberships" DROP COLUMN "status"`);
        await queryRunner.query(`DROP TYPE "public"."membership_status"`);
    }
}
