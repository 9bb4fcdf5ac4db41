import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureRole } from '../src/db/migration-helpers';
import { APP_ROLE, AUTH_ROLE, BACKGROUND_ROLE } from '../src/db/roles';

/** The worker_* functions there are, by signature (those of later migrations are granted by ownDefinerFunctions). */
const WORKER_FUNCTIONS = `SELECT p.oid::regprocedure::text AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = 'public' AND p.proname LIKE 'worker\\_%'`;

const CANDIDATES = `
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT id, workspace_id FROM app_user WHERE lower(email) = lower(p_email) AND deleted_at IS NULL AND active
  $$`;

/**
 * The request role loses what reaches across workspaces (issue 17, finding 10). The background
 * workers connect as BACKGROUND_ROLE (a member of the application role, so their tenant transactions
 * are the same), which alone may call the worker_* functions. Log-in needs the password hashes of an
 * email's accounts in every workspace before any workspace is known: argon2 cannot run in SQL, so the
 * hashes must reach the process; they do through auth_login_password_hashes, which only
 * BACKGROUND_ROLE may call (the password check uses the workers' pool). auth_login_candidates stays
 * for the request role without the hash (the admin CLI finds an email's workspaces with it).
 */
export class WorkerConnection1765620000000 implements MigrationInterface {
  name = 'WorkerConnection1765620000000';

  async up(qr: QueryRunner): Promise<void> {
    await ensureRole(qr, BACKGROUND_ROLE);
    await qr.query(`GRANT ${APP_ROLE} TO ${BACKGROUND_ROLE}`);
    for (const { fn } of (await qr.query(WORKER_FUNCTIONS)) as { fn: string }[]) {
      await qr.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC, ${APP_ROLE}`);
      await qr.query(`GRANT EXECUTE ON FUNCTION ${fn} TO ${BACKGROUND_ROLE}`);
    }
    await qr.query(`ALTER FUNCTION auth_login_candidates(text) RENAME TO auth_login_password_hashes`);
    await qr.query(`REVOKE ALL ON FUNCTION auth_login_password_hashes(text) FROM PUBLIC, ${APP_ROLE}`);
    await qr.query(`GRANT EXECUTE ON FUNCTION auth_login_password_hashes(text) TO ${BACKGROUND_ROLE}`);
    await qr.query(`CREATE FUNCTION auth_login_candidates(p_email text) RETURNS TABLE (user_id uuid, workspace_id uuid) ${CANDIDATES}`);
    await qr.query(`ALTER FUNCTION auth_login_candidates(text) OWNER TO ${AUTH_ROLE}`);
    await qr.query(`REVOKE ALL ON FUNCTION auth_login_candidates(text) FROM PUBLIC`);
    await qr.query(`GRANT EXECUTE ON FUNCTION auth_login_candidates(text) TO ${APP_ROLE}`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION auth_login_candidates(text)`);
    await qr.query(`REVOKE ALL ON FUNCTION auth_login_password_hashes(text) FROM ${BACKGROUND_ROLE}`);
    await qr.query(`ALTER FUNCTION auth_login_password_hashes(text) RENAME TO auth_login_candidates`);
    await qr.query(`GRANT EXECUTE ON FUNCTION auth_login_candidates(text) TO ${APP_ROLE}`);
    for (const { fn } of (await qr.query(WORKER_FUNCTIONS)) as { fn: string }[]) {
      await qr.query(`REVOKE ALL ON FUNCTION ${fn} FROM ${BACKGROUND_ROLE}`);
      await qr.query(`GRANT EXECUTE ON FUNCTION ${fn} TO ${APP_ROLE}`);
    }
    // The role stays: roles belong to the cluster, and other databases of it may use it.
    await qr.query(`REVOKE ${APP_ROLE} FROM ${BACKGROUND_ROLE}`);
  }
}
