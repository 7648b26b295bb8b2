import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ExpiryNotifications1795341846835 implements MigrationInterface {
    name = 'ExpiryNotifications1795341846835';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "token_expiry_notifications" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "apiTokenId" uuid NOT NULL, "expiresAt" TIMESTAMP WITH TIME ZONE NOT NULL, "recipients" character varying(320) array NOT NULL, "sentAt" TIMESTAMP WITH TIME ZONE, "createdAt" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_token_expiry_notifications_token_expiry" UNIQUE ("apiTokenId", "expiresAt"), CONSTRAINT "PK_c0ab1183d655562607e92e14313" PRIMARY KEY ("id"))`);
        await queryRunner.query(`ALTER TABLE "token_expiry_notifications" ADD CONSTRAINT "FK_1a0daa8c52fcb2a6c03a5cbdc78" FOREIGN KEY ("apiTokenId") REFERENCES "api_tokens"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "token_expiry_notifications" DROP CONSTRAINT "FK_1a0daa8c52fcb2a6c03a5cbdc78"`);
        await queryRunner.query(`DROP TABLE "token_expiry_notifications"`);
    }
}
