import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys keep no secret and replay only to the rights they ran with:
 * - `secret_withheld`: the first answer held a secret (an API key, a token), so it was not kept; a
 *   retry is refused rather than run again or answered with the secret.
 * - `grant`: the role, team and scopes of the credential at the first request; a replay under other
 *   rights is refused.
 * Answers stored before this cannot be told apart (an alias hides a field's name): all are dropped
 * and marked withheld, so that a retry still does not run twice.
 */
export class IdempotencyWithoutSecrets1765610000000 implements MigrationInterface {
  name = 'IdempotencyWithoutSecrets1765610000000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`ALTER TABLE idempotency_key ADD COLUMN secret_withheld boolean NOT NULL DEFAULT false, ADD COLUMN "grant" text`);
    await qr.query(`UPDATE idempotency_key SET response = NULL, secret_withheld = true WHERE response IS NOT NULL`);
  }

  async down(qr: QueryRunner): Promise<void> {
    // A withheld answer cannot come back: those keys go, as if expired.
    await qr.query(`DELETE FROM idempotency_key WHERE secret_withheld`);
    await qr.query(`ALTER TABLE idempotency_key DROP COLUMN secret_withheld, DROP COLUMN "grant"`);
  }
}
