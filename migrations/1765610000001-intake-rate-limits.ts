import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../src/db/roles';

/**
 * The public intake's submission counters, shared by every instance (they were in each instance's
 * memory: N instances let N times the limit through). The layout rate-limiter-flexible's Postgres
 * store expects; created here, never by the library. Keys are hashes of the form's token and the
 * client's address: no workspace data.
 */
export class IntakeRateLimits1765610000001 implements MigrationInterface {
  name = 'IntakeRateLimits1765610000001';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`CREATE TABLE rate_limit_intake (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`);
    await qr.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_intake TO ${APP_ROLE}`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP TABLE rate_limit_intake`);
  }
}
