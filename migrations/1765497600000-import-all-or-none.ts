import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Imports that write every row or none (StartImportInput.allOrNone). */
export class ImportAllOrNone1765497600000 implements MigrationInterface {
  name = 'ImportAllOrNone1765497600000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`ALTER TABLE import_job ADD COLUMN all_or_none boolean NOT NULL DEFAULT false`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`ALTER TABLE import_job DROP COLUMN all_or_none`);
  }
}
