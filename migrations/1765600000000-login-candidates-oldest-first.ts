import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ownDefinerFunctions } from '../src/db/migration-helpers';
import { AUTH_ROLE } from '../src/db/roles';

const SIGNATURE = 'auth_login_candidates(text)';

/**
 * The accounts of an email come oldest first: a log-in without a workspaceId checks only the first
 * few passwords (LOGIN_MAX_ACCOUNTS_PER_EMAIL), and anyone may sign up under anyone's email, so the
 * accounts made later (by someone else, most likely) must be the ones left out. Same signature and
 * columns: callers are unaffected.
 */
export class LoginCandidatesOldestFirst1765600000000 implements MigrationInterface {
  name = 'LoginCandidatesOldestFirst1765600000000';

  async up(qr: QueryRunner): Promise<void> {
    await define(qr, 'ORDER BY created_at, id');
  }

  async down(qr: QueryRunner): Promise<void> {
    await define(qr, '');
  }
}

async function define(qr: QueryRunner, order: string): Promise<void> {
  await qr.query(`DROP FUNCTION ${SIGNATURE}`);
  await qr.query(`
    CREATE FUNCTION auth_login_candidates(p_email text)
    RETURNS TABLE (user_id uuid, workspace_id uuid, password_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
      SELECT id, workspace_id, password_hash FROM app_user
      WHERE lower(email) = lower(p_email) AND deleted_at IS NULL AND active
      ${order}
    $$`);
  await ownDefinerFunctions(qr, AUTH_ROLE, [SIGNATURE]);
}
