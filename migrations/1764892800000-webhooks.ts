import type { MigrationInterface, QueryRunner } from 'typeorm';
import { grantWorkerScan, ownDefinerFunctions, secureTenantTable } from '../src/db/migration-helpers';
import { APP_ROLE, WORKER_ROLE } from '../src/db/roles';

/**
 * Webhooks: endpoints, the outbox of deliveries, and the dispatcher's durable cursor.
 *
 * The dispatcher reads the event log in commit order from `webhook_dispatch_cursor` and inserts one
 * delivery per matching endpoint, advancing the cursor in the same transaction: a crash loses nothing
 * and repeats nothing. Delivery workers of every instance find due deliveries across workspaces through
 * one SECURITY DEFINER function, which leases them (FOR UPDATE SKIP LOCKED, then `leased_until`) so
 * that no two instances send one at once, and which keeps each record's events in order per endpoint.
 */
export class Webhooks1764892800000 implements MigrationInterface {
  name = 'Webhooks1764892800000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`
      CREATE TABLE webhook_endpoint (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        url text NOT NULL CHECK (length(url) <= 2000),
        description text CHECK (length(description) <= 500),
        events text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 50),
        filter jsonb,
        secret text NOT NULL,
        previous_secret text,
        previous_secret_expires_at timestamptz(3),
        active boolean NOT NULL DEFAULT true,
        disabled_reason text,
        failing_since timestamptz(3),
        created_by_id uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1,
        deleted_at timestamptz(3),
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX webhook_endpoint_active_idx ON webhook_endpoint (workspace_id) WHERE active AND deleted_at IS NULL`);
    await secureTenantTable(qr, 'webhook_endpoint');

    await qr.query(`
      CREATE TABLE webhook_delivery (
        workspace_id uuid NOT NULL,
        id uuid NOT NULL,
        endpoint_id uuid NOT NULL,
        event_id bigint NOT NULL,
        event_tx xid8 NOT NULL,
        event_type text NOT NULL,
        entity_id uuid NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz(3),
        leased_until timestamptz(3),
        last_attempt_at timestamptz(3),
        last_status_code int,
        last_error text,
        last_response_body text,
        last_duration_ms int,
        delivered_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, id),
        UNIQUE (workspace_id, endpoint_id, event_id),
        FOREIGN KEY (workspace_id, endpoint_id) REFERENCES webhook_endpoint(workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX webhook_delivery_due_idx ON webhook_delivery (next_attempt_at) WHERE status = 'PENDING'`);
    await qr.query(`CREATE INDEX webhook_delivery_order_idx ON webhook_delivery (endpoint_id, entity_id, event_tx, event_id) WHERE status = 'PENDING'`);
    await qr.query(`CREATE INDEX webhook_delivery_list_idx ON webhook_delivery (workspace_id, endpoint_id, created_at DESC, id DESC)`);
    await secureTenantTable(qr, 'webhook_delivery');

    // Where the dispatcher stands in the event log: one row, for every workspace. It starts at the
    // end of the log (events before webhooks existed have no endpoint to go to).
    await qr.query(`CREATE TABLE webhook_dispatch_cursor (id int PRIMARY KEY CHECK (id = 1), tx xid8 NOT NULL, seq bigint NOT NULL)`);
    await qr.query(`
      INSERT INTO webhook_dispatch_cursor (id, tx, seq)
      SELECT 1, coalesce(max(tx_id), '0'::xid8), coalesce(max(id), 0) FROM event`);
    await qr.query(`GRANT SELECT, UPDATE ON webhook_dispatch_cursor TO ${APP_ROLE}`);

    // The worker role reads endpoints and deliveries across workspaces, only through these functions.
    await grantWorkerScan(qr, ['webhook_endpoint', 'webhook_delivery']);
    await qr.query(`GRANT UPDATE (leased_until) ON webhook_delivery TO ${WORKER_ROLE}`);
    await qr.query(`CREATE POLICY worker_lease ON webhook_delivery FOR UPDATE TO ${WORKER_ROLE} USING (true) WITH CHECK (true)`);
    await qr.query(`
      CREATE FUNCTION worker_active_webhook_endpoints() RETURNS TABLE (workspace_id uuid, id uuid, events text[], filter jsonb, created_at timestamptz)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT workspace_id, id, events, filter, created_at FROM webhook_endpoint WHERE active AND deleted_at IS NULL
      $$`);
    // Due deliveries whose record has no earlier undelivered event for that endpoint, leased for
    // p_lease_seconds: a worker that dies lets its lease run out and another one sends them.
    await qr.query(`
      CREATE FUNCTION worker_claim_webhook_deliveries(p_now timestamptz, p_limit int, p_lease_seconds int)
      RETURNS TABLE (workspace_id uuid, id uuid, endpoint_id uuid, event_id bigint, attempts int)
      LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        WITH due AS (
          SELECT d.workspace_id, d.id FROM webhook_delivery d
          JOIN webhook_endpoint e ON e.workspace_id = d.workspace_id AND e.id = d.endpoint_id AND e.active AND e.deleted_at IS NULL
          WHERE d.status = 'PENDING' AND d.next_attempt_at <= p_now AND (d.leased_until IS NULL OR d.leased_until < p_now)
            AND NOT EXISTS (
              SELECT 1 FROM webhook_delivery p
              WHERE p.endpoint_id = d.endpoint_id AND p.entity_id = d.entity_id AND p.status = 'PENDING'
                AND (p.event_tx, p.event_id) < (d.event_tx, d.event_id))
          ORDER BY d.next_attempt_at
          LIMIT least(p_limit, 500)
          FOR UPDATE OF d SKIP LOCKED)
        UPDATE webhook_delivery w SET leased_until = p_now + make_interval(secs => p_lease_seconds)
        FROM due WHERE w.workspace_id = due.workspace_id AND w.id = due.id
        RETURNING w.workspace_id, w.id, w.endpoint_id, w.event_id, w.attempts
      $$`);
    await ownDefinerFunctions(qr, WORKER_ROLE, ['worker_active_webhook_endpoints()', 'worker_claim_webhook_deliveries(timestamptz, int, int)']);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION worker_claim_webhook_deliveries(timestamptz, int, int)`);
    await qr.query(`DROP FUNCTION worker_active_webhook_endpoints()`);
    await qr.query(`DROP TABLE webhook_dispatch_cursor`);
    await qr.query(`DROP TABLE webhook_delivery`);
    await qr.query(`DROP TABLE webhook_endpoint`);
  }
}
