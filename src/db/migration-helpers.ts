import type { QueryRunner } from 'typeorm';
import { APP_ROLE, WORKER_ROLE } from './roles';

/**
 * The tenancy wall every table with a `workspace_id` gets: RLS enabled and forced (owners included),
 * one policy on the transaction's `app.workspace_id`, and the application role's grants.
 * NULLIF: once a session has used the setting, it reads '' (not NULL) outside a transaction.
 */
export async function secureTenantTable(qr: QueryRunner, table: string, column = 'workspace_id'): Promise<void> {
  await qr.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
  await qr.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
  await qr.query(
    `CREATE POLICY tenant_isolation ON ${table}
       USING (${column} = NULLIF(current_setting('app.workspace_id', true), '')::uuid)
       WITH CHECK (${column} = NULLIF(current_setting('app.workspace_id', true), '')::uuid)`,
  );
  await qr.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${APP_ROLE}`);
}

export async function ensureRole(qr: QueryRunner, role: string): Promise<void> {
  await qr.query(
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} NOLOGIN; END IF;
     END $$`,
  );
}

/**
 * Hands SECURITY DEFINER functions to the role they run as (WORKER_ROLE, AUTH_ROLE...): that role owns
 * them, and only the application role may call them. Each function is named by its signature, e.g.
 * `worker_active_automation_rules(text[])`.
 */
export async function ownDefinerFunctions(qr: QueryRunner, owner: string, signatures: string[]): Promise<void> {
  for (const fn of signatures) {
    await qr.query(`ALTER FUNCTION ${fn} OWNER TO ${owner}`);
    await qr.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
    await qr.query(`GRANT EXECUTE ON FUNCTION ${fn} TO ${APP_ROLE}`);
  }
}

/** Lets the worker role read every row of these tables (across workspaces), for its functions to scan. */
export async function grantWorkerScan(qr: QueryRunner, tables: string[]): Promise<void> {
  for (const t of tables) {
    await qr.query(`GRANT SELECT ON ${t} TO ${WORKER_ROLE}`);
    await qr.query(`CREATE POLICY worker_scan ON ${t} FOR SELECT TO ${WORKER_ROLE} USING (true)`);
  }
}

/**
 * A key column as an expression that is never NULL, so that rows join on their keys by equality (a
 * hash join; IS NOT DISTINCT FROM only runs as a nested loop). The stand-in for NULL is no real value
 * of the column's type in practice; if one were, the rows would only be matched together, not merged.
 */
export function joinKey(column: string, type: string): string {
  const none = type === 'uuid' ? `'00000000-0000-0000-0000-000000000000'::uuid` : type === 'date' ? `'-infinity'::date` : `''`;
  return `coalesce(${column}, ${none})`;
}
