import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate-limit counters are written on every limited request (a failed
 * credential check, a token exchange): as an unlogged table they cost no
 * write-ahead log and no wait for the disk at each commit. What that gives
 * up: after a crash of PostgreSQL the counters start again from zero, and a
 * standby does not hold them, as a Redis store (REDIS_URL) would not either.
 */
export class UnloggedRateLimits1795999100000 implements MigrationInterface {
  name = 'UnloggedRateLimits1795999100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rate_limits" SET UNLOGGED`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rate_limits" SET LOGGED`);
  }
}
