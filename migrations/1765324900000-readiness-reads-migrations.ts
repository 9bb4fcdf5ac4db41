import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../src/db/roles';

/**
 * `/readyz` compares the migrations the code has with those applied: the service role reads the names
 * in TypeORM's `migrations` table (names and timestamps only, no workspace data).
 */
export class ReadinessReadsMigrations1765324900000 implements MigrationInterface {
  name = 'ReadinessReadsMigrations1765324900000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`GRANT SELECT ON migrations TO ${APP_ROLE}`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`REVOKE SELECT ON migrations FROM ${APP_ROLE}`);
  }
}
