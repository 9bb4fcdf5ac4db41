import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureRole, secureTenantTable } from '../src/db/migration-helpers';
import { APP_ROLE, WORKER_ROLE } from '../src/db/roles';

/**
 * CSV import jobs, and the worker role: background work that must find its jobs across workspaces
 * before it knows their workspace does so through SECURITY DEFINER functions owned by WORKER_ROLE,
 * which may read only what those functions return.
 */
export class ImportJobs1764547200000 implements MigrationInterface {
  name = 'ImportJobs1764547200000';

  async up(qr: QueryRunner): Promise<void> {
    await ensureRole(qr, WORKER_ROLE);
    await qr.query(`GRANT USAGE ON SCHEMA public TO ${WORKER_ROLE}`);
    await qr.query(`
      CREATE TABLE import_job (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        entity_type text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED')),
        dry_run boolean NOT NULL,
        match_on text NOT NULL,
        mapping jsonb NOT NULL,
        date_format text NOT NULL,
        csv text NOT NULL,
        total int NOT NULL DEFAULT 0,
        processed int NOT NULL DEFAULT 0,
        created int NOT NULL DEFAULT 0,
        updated int NOT NULL DEFAULT 0,
        unchanged int NOT NULL DEFAULT 0,
        failed int NOT NULL DEFAULT 0,
        errors jsonb NOT NULL DEFAULT '[]',
        error_count int NOT NULL DEFAULT 0,
        message text,
        created_by_id uuid,
        actor_type text NOT NULL,
        actor_id uuid,
        started_at timestamptz(3),
        finished_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1,
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX import_job_unfinished_idx ON import_job (status) WHERE status IN ('PENDING', 'RUNNING')`);
    await secureTenantTable(qr, 'import_job');
    await qr.query(`GRANT SELECT (workspace_id, id, status) ON import_job TO ${WORKER_ROLE}`);
    await qr.query(`CREATE POLICY worker_scan ON import_job FOR SELECT TO ${WORKER_ROLE} USING (true)`);
    await qr.query(`
      CREATE FUNCTION worker_unfinished_import_jobs() RETURNS TABLE (workspace_id uuid, id uuid)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT workspace_id, id FROM import_job WHERE status IN ('PENDING', 'RUNNING')
      $$`);
    await qr.query(`ALTER FUNCTION worker_unfinished_import_jobs() OWNER TO ${WORKER_ROLE}`);
    await qr.query(`REVOKE ALL ON FUNCTION worker_unfinished_import_jobs() FROM PUBLIC`);
    await qr.query(`GRANT EXECUTE ON FUNCTION worker_unfinished_import_jobs() TO ${APP_ROLE}`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION worker_unfinished_import_jobs()`);
    await qr.query(`DROP TABLE import_job`);
    await qr.query(`REVOKE USAGE ON SCHEMA public FROM ${WORKER_ROLE}`);
  }
}
