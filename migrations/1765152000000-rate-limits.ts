import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../src/db/roles';

/**
 * Rate limits shared by every instance: the cost buckets of API keys and users (a leaky bucket: a
 * level that drains at a fixed rate), and the log-in attempt counters (the table layout that
 * rate-limiter-flexible's Postgres store expects; created here, never by the library).
 * Neither holds workspace data: the keys are credential ids, hashed emails and addresses.
 */
export class RateLimits1765152000000 implements MigrationInterface {
  name = 'RateLimits1765152000000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`CREATE TABLE rate_limit_bucket (key text PRIMARY KEY, level double precision NOT NULL, updated_at timestamptz NOT NULL)`);
    await qr.query(`CREATE TABLE rate_limit_login (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`);
    await qr.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_bucket, rate_limit_login TO ${APP_ROLE}`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP TABLE rate_limit_login`);
    await qr.query(`DROP TABLE rate_limit_bucket`);
  }
}
