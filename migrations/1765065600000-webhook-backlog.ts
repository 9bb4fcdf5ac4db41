import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE, WORKER_ROLE } from '../src/db/roles';

/** The webhook backlog across workspaces, for /metrics: counts only, through the worker role. */
export class WebhookBacklog1765065600000 implements MigrationInterface {
  name = 'WebhookBacklog1765065600000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`
      CREATE FUNCTION worker_webhook_backlog() RETURNS TABLE (pending bigint, failed_24h bigint)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT count(*) FILTER (WHERE status = 'PENDING'),
               count(*) FILTER (WHERE status = 'FAILED' AND updated_at > now() - interval '24 hours')
        FROM webhook_delivery WHERE status IN ('PENDING', 'FAILED')
      $$`);
    await qr.query(`ALTER FUNCTION worker_webhook_backlog() OWNER TO ${WORKER_ROLE}`);
    await qr.query(`REVOKE ALL ON FUNCTION worker_webhook_backlog() FROM PUBLIC`);
    await qr.query(`GRANT EXECUTE ON FUNCTION worker_webhook_backlog() TO ${APP_ROLE}`);
    // The FAILED part of the count reads recent failures without scanning every delivered row.
    await qr.query(`CREATE INDEX webhook_delivery_failed_idx ON webhook_delivery (updated_at) WHERE status = 'FAILED'`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP INDEX webhook_delivery_failed_idx`);
    await qr.query(`DROP FUNCTION worker_webhook_backlog()`);
  }
}
