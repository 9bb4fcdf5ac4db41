import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lists and counts read live records only (`deleted_at IS NULL`): partial indexes on the common
 * opportunity filters let a count by stage or owner be answered from the index alone.
 */
export class LiveRecordIndexes1764633600000 implements MigrationInterface {
  name = 'LiveRecordIndexes1764633600000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`CREATE INDEX opportunity_live_stage_idx ON opportunity (workspace_id, stage_id) WHERE deleted_at IS NULL`);
    await qr.query(`CREATE INDEX opportunity_live_owner_stage_idx ON opportunity (workspace_id, owner_id, stage_id) WHERE deleted_at IS NULL`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP INDEX opportunity_live_owner_stage_idx`);
    await qr.query(`DROP INDEX opportunity_live_stage_idx`);
  }
}
