import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SigningKeyRetirement1795978932003 implements MigrationInterface {
    name = 'SigningKeyRetirement1795978932003';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "signing_keys" ADD "retiredAt" TIMESTAMP(3) WITH TIME ZONE`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "signing_keys" DROP COLUMN "retiredAt"`);
    }
}
