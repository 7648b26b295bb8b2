import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The table rate-limiter-flexible's PostgreSQL store uses (src/common/rate-limits.ts), with the columns it expects. */
export class RateLimits1795338490000 implements MigrationInterface {
    name = 'RateLimits1795338490000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "rate_limits" ("key" character varying(255) NOT NULL, "points" integer NOT NULL DEFAULT 0, "expire" bigint, CONSTRAINT "PK_rate_limits" PRIMARY KEY ("key"))`);
        await queryRunner.query(`CREATE INDEX "IDX_rate_limits_expire" ON "rate_limits" ("expire") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "rate_limits"`);
    }
}
