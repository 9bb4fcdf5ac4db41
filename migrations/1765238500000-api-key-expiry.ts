import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE, AUTH_ROLE } from '../src/db/roles';

const SIGNATURE = 'auth_api_key(text)';

/**
 * The API key lookup also returns the key's `expires_at`, so that a verified key is cached no longer
 * than it lives (see ApiKeyCache). A new column at the end of the result: callers that read the
 * others by name (`SELECT * FROM auth_api_key($1)`) are unaffected.
 */
export class ApiKeyExpiry1765238500000 implements MigrationInterface {
  name = 'ApiKeyExpiry1765238500000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION ${SIGNATURE}`);
    await qr.query(`
      CREATE FUNCTION auth_api_key(p_hash text)
      RETURNS TABLE (api_key_id uuid, workspace_id uuid, scopes text[], created_by_id uuid, expires_at timestamptz)
      LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        -- last_used_at is kept to the minute: one write per key per minute, not per request.
        UPDATE api_key k SET last_used_at = now()
        WHERE k.key_hash = p_hash AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
        RETURN QUERY SELECT k.id, k.workspace_id, k.scopes, k.created_by_id, k.expires_at FROM api_key k
        WHERE k.key_hash = p_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
      END $$`);
    await grant(qr);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION ${SIGNATURE}`);
    await qr.query(`
      CREATE FUNCTION auth_api_key(p_hash text)
      RETURNS TABLE (api_key_id uuid, workspace_id uuid, scopes text[], created_by_id uuid)
      LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        UPDATE api_key k SET last_used_at = now()
        WHERE k.key_hash = p_hash AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
        RETURN QUERY SELECT k.id, k.workspace_id, k.scopes, k.created_by_id FROM api_key k
        WHERE k.key_hash = p_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
      END $$`);
    await grant(qr);
  }
}

async function grant(qr: QueryRunner): Promise<void> {
  await qr.query(`ALTER FUNCTION ${SIGNATURE} OWNER TO ${AUTH_ROLE}`);
  await qr.query(`REVOKE ALL ON FUNCTION ${SIGNATURE} FROM PUBLIC`);
  await qr.query(`GRANT EXECUTE ON FUNCTION ${SIGNATURE} TO ${APP_ROLE}`);
}
