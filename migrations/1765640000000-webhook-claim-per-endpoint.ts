import type { MigrationInterface, QueryRunner } from 'typeorm';

const SIGNATURE = `worker_claim_webhook_deliveries(p_now timestamptz, p_limit int, p_lease_seconds int)
  RETURNS TABLE (workspace_id uuid, id uuid, endpoint_id uuid, event_id bigint, attempts int)
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp`;

/** A delivery is due when no earlier event of the same record waits for the same endpoint (per-record order). */
const IN_ORDER = `NOT EXISTS (
  SELECT 1 FROM webhook_delivery p
  WHERE p.endpoint_id = d.endpoint_id AND p.entity_id = d.entity_id AND p.status = 'PENDING'
    AND (p.event_tx, p.event_id) < (d.event_tx, d.event_id))`;

const LEASE = `
  UPDATE webhook_delivery w SET leased_until = p_now + make_interval(secs => p_lease_seconds)
  FROM due WHERE w.workspace_id = due.workspace_id AND w.id = due.id
  RETURNING w.workspace_id, w.id, w.endpoint_id, w.event_id, w.attempts`;

/**
 * Claims per endpoint (issue 17, found by bench:isolation). The claim used to walk every due delivery
 * of every workspace in one order: a tenant whose endpoint fails while its imports make thousands of
 * deliveries put its backlog, and the dead row versions each failed attempt leaves while long reads
 * hold the horizon, at the head of every claim. The shared worker spent a core re-reading them (one
 * claim took 1-2 s), at full priority, and every other tenant's requests waited for the CPU.
 *
 * Now each active endpoint's due deliveries are read from an index of its own, so a claim's cost does
 * not depend on another endpoint's backlog; an endpoint that is failing gets one delivery per claim
 * (the next attempt probes it; when one succeeds it has its full share again), so it neither takes the
 * worker's slots nor makes churn; and the rows are filled to 70% so that a lease, which changes no
 * indexed column, is a HOT update that leaves no index entry behind.
 *
 * The price: a claim probes the index once per active endpoint of the instance, so its cost grows
 * with the number of endpoints (a few microseconds each), no longer with anyone's backlog.
 */
export class WebhookClaimPerEndpoint1765640000000 implements MigrationInterface {
  name = 'WebhookClaimPerEndpoint1765640000000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`CREATE INDEX webhook_delivery_endpoint_due_idx ON webhook_delivery (endpoint_id, next_attempt_at) WHERE status = 'PENDING'`);
    await qr.query(`DROP INDEX webhook_delivery_due_idx`);
    await qr.query(`ALTER TABLE webhook_delivery SET (fillfactor = 70)`);
    // CREATE OR REPLACE keeps the function's owner (the worker role) and its grants.
    await qr.query(`
      CREATE OR REPLACE FUNCTION ${SIGNATURE} AS $$
        WITH due AS (
          SELECT c.workspace_id, c.id FROM webhook_endpoint e
          CROSS JOIN LATERAL (
            SELECT d.workspace_id, d.id, d.next_attempt_at FROM webhook_delivery d
            WHERE d.endpoint_id = e.id AND d.workspace_id = e.workspace_id AND d.status = 'PENDING' AND d.next_attempt_at <= p_now
              AND (d.leased_until IS NULL OR d.leased_until < p_now) AND ${IN_ORDER}
            ORDER BY d.next_attempt_at
            LIMIT CASE WHEN e.failing_since IS NULL THEN least(p_limit, 500) ELSE 1 END
            FOR UPDATE OF d SKIP LOCKED) c
          WHERE e.active AND e.deleted_at IS NULL
          ORDER BY c.next_attempt_at
          LIMIT least(p_limit, 500))
        ${LEASE}
      $$`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`
      CREATE OR REPLACE FUNCTION ${SIGNATURE} AS $$
        WITH due AS (
          SELECT d.workspace_id, d.id FROM webhook_delivery d
          JOIN webhook_endpoint e ON e.workspace_id = d.workspace_id AND e.id = d.endpoint_id AND e.active AND e.deleted_at IS NULL
          WHERE d.status = 'PENDING' AND d.next_attempt_at <= p_now AND (d.leased_until IS NULL OR d.leased_until < p_now) AND ${IN_ORDER}
          ORDER BY d.next_attempt_at
          LIMIT least(p_limit, 500)
          FOR UPDATE OF d SKIP LOCKED)
        ${LEASE}
      $$`);
    await qr.query(`ALTER TABLE webhook_delivery RESET (fillfactor)`);
    await qr.query(`CREATE INDEX webhook_delivery_due_idx ON webhook_delivery (next_attempt_at) WHERE status = 'PENDING'`);
    await qr.query(`DROP INDEX webhook_delivery_endpoint_due_idx`);
  }
}
