import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SigningKeys1795342496497 implements MigrationInterface {
    name = 'SigningKeys1795342496497';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "signing_keys" ("kid" character varying(64) NOT NULL, "alg" character varying(16) NOT NULL, "privateJwk" jsonb NOT NULL, "publicJwk" jsonb NOT NULL, "createdAt" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_13362ac3e792c69417e1a53d355" PRIMARY KEY ("kid"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "signing_keys"`);
    }
}
