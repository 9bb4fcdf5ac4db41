import type { MigrationInterface, QueryRunner } from 'typeorm';
import { secureTenantTable } from '../src/db/migration-helpers';

/** Stored responses of mutation requests sent with an Idempotency-Key header, per credential. */
export class IdempotencyKeys1764460800000 implements MigrationInterface {
  name = 'IdempotencyKeys1764460800000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`
      CREATE TABLE idempotency_key (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        credential_id uuid NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        response jsonb,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        PRIMARY KEY (workspace_id, credential_id, key)
      )`);
    await qr.query(`CREATE INDEX idempotency_key_expiry_idx ON idempotency_key (workspace_id, expires_at)`);
    await secureTenantTable(qr, 'idempotency_key');
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP TABLE idempotency_key`);
  }
}
