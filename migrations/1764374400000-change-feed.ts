import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The change feed pages through events by (transaction id, event id): this index serves it. */
export class ChangeFeed1764374400000 implements MigrationInterface {
  name = 'ChangeFeed1764374400000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`CREATE INDEX event_feed_idx ON event (workspace_id, tx_id, id)`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP INDEX event_feed_idx`);
  }
}
