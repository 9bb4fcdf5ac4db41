import type { MigrationInterface, QueryRunner } from 'typeorm';
import { grantWorkerScan, ownDefinerFunctions, secureTenantTable } from '../src/db/migration-helpers';
import { WORKER_ROLE } from '../src/db/roles';

const CLAIM = 'worker_claim_automation_webhook_calls(timestamptz, int, int)';

/**
 * Automation's CALL_WEBHOOK leaves after its run commits. The run's transaction records the call
 * here, PENDING and leased to the instance that will make it right after the commit; a second, short
 * transaction records its outcome. A call whose lease runs out without an outcome (its instance died
 * between the commit and the answer) is claimed by any instance and made again, with the same
 * webhook-id, at most `attempts` times in all. A run with a call still to make is PENDING.
 */
export class AutomationWebhookCalls1765411500000 implements MigrationInterface {
  name = 'AutomationWebhookCalls1765411500000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`ALTER TABLE automation_run DROP CONSTRAINT automation_run_status_check`);
    await qr.query(`ALTER TABLE automation_run ADD CONSTRAINT automation_run_status_check CHECK (status IN ('SUCCEEDED', 'FAILED', 'SKIPPED', 'PENDING'))`);
    await qr.query(`
      CREATE TABLE automation_webhook_call (
        workspace_id uuid NOT NULL,
        id uuid NOT NULL,
        run_id uuid NOT NULL,
        rule_id uuid NOT NULL,
        depth smallint NOT NULL,
        url text NOT NULL,
        -- Kept while the call may still be made (it is signed at each attempt), cleared once it is done.
        secret text,
        body text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
        attempts int NOT NULL DEFAULT 1,
        leased_until timestamptz(3),
        status_code int,
        error text,
        duration_ms int,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, id),
        FOREIGN KEY (workspace_id, run_id) REFERENCES automation_run(workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX automation_webhook_call_run_idx ON automation_webhook_call (workspace_id, run_id)`);
    await qr.query(`CREATE INDEX automation_webhook_call_pending_idx ON automation_webhook_call (leased_until) WHERE status = 'PENDING'`);
    await secureTenantTable(qr, 'automation_webhook_call');

    // Any instance finds the calls left without an outcome, across workspaces, through this function
    // only (FOR UPDATE SKIP LOCKED, then a new lease): no two instances make one at once.
    await grantWorkerScan(qr, ['automation_webhook_call']);
    await qr.query(`GRANT UPDATE (leased_until, attempts) ON automation_webhook_call TO ${WORKER_ROLE}`);
    await qr.query(`CREATE POLICY worker_lease ON automation_webhook_call FOR UPDATE TO ${WORKER_ROLE} USING (true) WITH CHECK (true)`);
    await qr.query(`
      CREATE FUNCTION ${CLAIM.replace('(timestamptz, int, int)', '(p_now timestamptz, p_limit int, p_lease_seconds int)')}
      RETURNS TABLE (workspace_id uuid, id uuid, attempts int)
      LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        WITH due AS (
          SELECT c.workspace_id, c.id FROM automation_webhook_call c
          WHERE c.status = 'PENDING' AND c.leased_until < p_now
          ORDER BY c.leased_until
          LIMIT least(p_limit, 500)
          FOR UPDATE SKIP LOCKED)
        UPDATE automation_webhook_call w SET leased_until = p_now + make_interval(secs => p_lease_seconds), attempts = w.attempts + 1
        FROM due WHERE w.workspace_id = due.workspace_id AND w.id = due.id
        RETURNING w.workspace_id, w.id, w.attempts
      $$`);
    await ownDefinerFunctions(qr, WORKER_ROLE, [CLAIM]);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION ${CLAIM}`);
    await qr.query(`DROP TABLE automation_webhook_call`);
    await qr.query(
      `UPDATE automation_run SET status = 'FAILED', error = coalesce(error, 'a webhook call was still pending when this migration was reverted') WHERE status = 'PENDING'`,
    );
    await qr.query(`ALTER TABLE automation_run DROP CONSTRAINT automation_run_status_check`);
    await qr.query(`ALTER TABLE automation_run ADD CONSTRAINT automation_run_status_check CHECK (status IN ('SUCCEEDED', 'FAILED', 'SKIPPED'))`);
  }
}
