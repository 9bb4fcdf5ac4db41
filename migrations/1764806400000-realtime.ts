import type { MigrationInterface, QueryRunner } from 'typeorm';
import { secureTenantTable } from '../src/db/migration-helpers';
import { APP_ROLE, WORKER_ROLE } from '../src/db/roles';

/**
 * Real-time delivery and in-app notifications.
 *
 * Each server instance follows the whole event log (every workspace) in commit order to fan events
 * out to its subscribers. It reads through two SECURITY DEFINER functions owned by WORKER_ROLE, which
 * may read the event table through a policy of its own; the application role may only call them.
 * The order is the change feed's: (tx_id, id), and only events of transactions older than the oldest
 * one still running, so that no event appears behind a position already handed out.
 */
export class Realtime1764806400000 implements MigrationInterface {
  name = 'Realtime1764806400000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`CREATE INDEX event_commit_order_idx ON event (tx_id, id)`);
    await qr.query(`GRANT SELECT ON event TO ${WORKER_ROLE}`);
    await qr.query(`CREATE POLICY worker_follow ON event FOR SELECT TO ${WORKER_ROLE} USING (true)`);
    await qr.query(`
      CREATE FUNCTION worker_events_after(p_tx xid8, p_id bigint, p_limit int) RETURNS SETOF event
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT * FROM event
        WHERE (tx_id, id) > (p_tx, p_id) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY tx_id, id
        LIMIT least(p_limit, 5000)
      $$`);
    await qr.query(`
      CREATE FUNCTION worker_events_head() RETURNS TABLE (tx_id xid8, id bigint)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT e.tx_id, e.id FROM event e
        WHERE e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.tx_id DESC, e.id DESC
        LIMIT 1
      $$`);
    for (const fn of ['worker_events_after(xid8, bigint, int)', 'worker_events_head()']) {
      await qr.query(`ALTER FUNCTION ${fn} OWNER TO ${WORKER_ROLE}`);
      await qr.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
      await qr.query(`GRANT EXECUTE ON FUNCTION ${fn} TO ${APP_ROLE}`);
    }

    await qr.query(`
      CREATE TABLE notification (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        user_id uuid NOT NULL,
        title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
        body text CHECK (length(body) <= 5000),
        entity_type text,
        entity_id uuid,
        read_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1,
        PRIMARY KEY (workspace_id, id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES app_user(workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX notification_user_idx ON notification (workspace_id, user_id, created_at DESC, id DESC)`);
    await secureTenantTable(qr, 'notification');
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP TABLE notification`);
    await qr.query(`DROP FUNCTION worker_events_head()`);
    await qr.query(`DROP FUNCTION worker_events_after(xid8, bigint, int)`);
    await qr.query(`DROP POLICY worker_follow ON event`);
    await qr.query(`REVOKE SELECT ON event FROM ${WORKER_ROLE}`);
    await qr.query(`DROP INDEX event_commit_order_idx`);
  }
}
