import type { QueryRunner } from 'typeorm';
import { APP_ROLE, BACKGROUND_ROLE, WORKER_ROLE } from './roles';

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
 * them, and only the application role may call them, or for WORKER_ROLE's (which read across
 * workspaces) only the workers' connection (BACKGROUND_ROLE), never the request pool. Each function is
 * named by its signature, e.g. `worker_active_automation_rules(text[])`.
 */
export async function ownDefinerFunctions(qr: QueryRunner, owner: string, signatures: string[]): Promise<void> {
  const caller = owner === WORKER_ROLE ? BACKGROUND_ROLE : APP_ROLE;
  if (caller === BACKGROUND_ROLE) await ensureRole(qr, BACKGROUND_ROLE);
  for (const fn of signatures) {
    await qr.query(`ALTER FUNCTION ${fn} OWNER TO ${owner}`);
    await qr.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
    await qr.query(`GRANT EXECUTE ON FUNCTION ${fn} TO ${caller}`);
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
 * An analytics rollup's table walled like every tenant table, and open to the worker role, which
 * folds its appended rows (see foldRollupSql) across workspaces.
 */
export async function secureRollupTable(qr: QueryRunner, table: string): Promise<void> {
  await secureTenantTable(qr, table);
  await qr.query(`GRANT SELECT, INSERT, DELETE ON ${table} TO ${WORKER_ROLE}`);
  await qr.query(`CREATE POLICY worker_compact ON ${table} FOR ALL TO ${WORKER_ROLE} USING (true) WITH CHECK (true)`);
}

/** A key column as an expression that is never NULL (the stand-in is no real value of its type in practice). */
function joinKey(column: string, type: string): string {
  const none = type === 'uuid' ? `'00000000-0000-0000-0000-000000000000'::uuid` : type === 'date' ? `'-infinity'::date` : `''`;
  return `coalesce(${column}, ${none})`;
}

/**
 * The statement that folds the appended rows (`compacted = false`) of up to `p_keys` keys of a rollup
 * into one row per key, dropping a key whose sums are all zero. Keys join by equality on NULL-free
 * expressions, so by hash: IS NOT DISTINCT FROM only runs as a nested loop, quadratic in the keys. A
 * key whose NULL stand-in equalled a real value would only be folded with it and re-inserted apart:
 * the insert groups by the real values. `keys`: [column, type], workspace_id first.
 */
export function foldRollupSql(table: string, keys: [string, string][], sumColumns: string[]): string {
  const sums = sumColumns.map((c) => `sum(g.${c})`);
  return `WITH dirty AS (SELECT DISTINCT ${keys.map(([c, type], i) => `${joinKey(c, type)} AS k${i}`).join(', ')} FROM ${table} WHERE NOT compacted LIMIT p_keys),
      gone AS (DELETE FROM ${table} t USING dirty d WHERE ${keys.map(([c, type], i) => `${joinKey(`t.${c}`, type)} = d.k${i}`).join(' AND ')} RETURNING t.*)
    INSERT INTO ${table} (${keys.map(([c]) => c).join(', ')}, ${sumColumns.join(', ')}, compacted)
    SELECT ${keys.map(([c]) => `g.${c}`).join(', ')}, ${sums.join(', ')}, true FROM gone g
    GROUP BY ${keys.map((_, i) => i + 1).join(', ')} HAVING ${sums.map((s) => `${s} <> 0`).join(' OR ')}`;
}
