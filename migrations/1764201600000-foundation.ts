import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureRole, secureTenantTable } from '../src/db/migration-helpers';
import { APP_ROLE, AUTH_ROLE } from '../src/db/roles';

/** Workspaces, users, teams, API keys, refresh tokens and the event log, with row-level security. */
export class Foundation1764201600000 implements MigrationInterface {
  name = 'Foundation1764201600000';

  async up(qr: QueryRunner): Promise<void> {
    await ensureRole(qr, APP_ROLE);
    await ensureRole(qr, AUTH_ROLE);
    await qr.query(`GRANT USAGE ON SCHEMA public TO ${APP_ROLE}, ${AUTH_ROLE}`);
    // Every instant is stored to the millisecond (timestamptz(3)): what the API returns is exactly
    // what is stored, so a value read back filters and pages to its own row.

    await qr.query(`
      CREATE TABLE workspace (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        currency char(3) NOT NULL DEFAULT 'USD',
        timezone text NOT NULL DEFAULT 'UTC',
        settings jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1,
        deleted_at timestamptz(3)
      )`);
    await secureTenantTable(qr, 'workspace', 'id');

    await qr.query(`
      CREATE TABLE team (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        name text NOT NULL,
        manager_id uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1,
        deleted_at timestamptz(3),
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(`CREATE UNIQUE INDEX team_name_key ON team (workspace_id, lower(name)) WHERE deleted_at IS NULL`);
    await secureTenantTable(qr, 'team');

    await qr.query(`
      CREATE TABLE app_user (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        email text NOT NULL,
        name text NOT NULL,
        password_hash text,
        role text NOT NULL CHECK (role IN ('ADMIN', 'MANAGER', 'REP', 'READ_ONLY')),
        team_id uuid,
        active boolean NOT NULL DEFAULT true,
        last_login_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1,
        deleted_at timestamptz(3),
        PRIMARY KEY (workspace_id, id),
        FOREIGN KEY (workspace_id, team_id) REFERENCES team(workspace_id, id)
      )`);
    await qr.query(`CREATE UNIQUE INDEX app_user_email_key ON app_user (workspace_id, lower(email)) WHERE deleted_at IS NULL`);
    // Log-in looks an email up before the workspace is known (through auth_login_candidates).
    await qr.query(`CREATE INDEX app_user_login_idx ON app_user (lower(email))`);
    await qr.query(`CREATE INDEX app_user_team_idx ON app_user (workspace_id, team_id)`);
    await qr.query(`ALTER TABLE team ADD FOREIGN KEY (workspace_id, manager_id) REFERENCES app_user(workspace_id, id)`);
    await secureTenantTable(qr, 'app_user');

    await qr.query(`
      CREATE TABLE api_key (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        name text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        key_prefix text NOT NULL,
        scopes text[] NOT NULL,
        expires_at timestamptz(3),
        last_used_at timestamptz(3),
        revoked_at timestamptz(3),
        created_by_id uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1,
        PRIMARY KEY (workspace_id, id)
      )`);
    await secureTenantTable(qr, 'api_key');

    await qr.query(`
      CREATE TABLE refresh_token (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        user_id uuid NOT NULL,
        family_id uuid NOT NULL,
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz(3) NOT NULL,
        used_at timestamptz(3),
        revoked_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, id),
        FOREIGN KEY (workspace_id, user_id) REFERENCES app_user(workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX refresh_token_family_idx ON refresh_token (workspace_id, family_id)`);
    await secureTenantTable(qr, 'refresh_token');

    await qr.query(`
      CREATE TABLE event (
        id bigserial NOT NULL,
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        type text NOT NULL,
        entity_type text NOT NULL,
        entity_id uuid NOT NULL,
        actor_type text NOT NULL,
        actor_id uuid,
        depth smallint NOT NULL DEFAULT 0,
        changes jsonb NOT NULL DEFAULT '[]',
        data jsonb,
        occurred_at timestamptz(3) NOT NULL DEFAULT now(),
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX event_id_idx ON event (id)`);
    await qr.query(`CREATE INDEX event_entity_idx ON event (workspace_id, entity_id, id)`);
    await secureTenantTable(qr, 'event');
    await qr.query(`GRANT USAGE ON SEQUENCE event_id_seq TO ${APP_ROLE}`);
    // One notification per statement carrying the highest new id: listeners read everything up to it.
    await qr.query(`
      CREATE FUNCTION trellis_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('trellis_events', (SELECT max(id) FROM inserted)::text);
        RETURN NULL;
      END $$`);
    await qr.query(`
      CREATE TRIGGER event_notify AFTER INSERT ON event
      REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION trellis_notify_events()`);

    // The narrow path around RLS for authentication: AUTH_ROLE may read credentials of every workspace,
    // and only through these functions, which return the least the caller needs.
    for (const t of ['app_user', 'api_key', 'refresh_token']) {
      await qr.query(`GRANT SELECT ON ${t} TO ${AUTH_ROLE}`);
      await qr.query(`CREATE POLICY auth_lookup ON ${t} FOR SELECT TO ${AUTH_ROLE} USING (true)`);
    }
    await qr.query(`GRANT UPDATE (last_used_at) ON api_key TO ${AUTH_ROLE}`);
    await qr.query(`CREATE POLICY auth_touch ON api_key FOR UPDATE TO ${AUTH_ROLE} USING (true) WITH CHECK (true)`);

    await qr.query(`
      CREATE FUNCTION auth_login_candidates(p_email text)
      RETURNS TABLE (user_id uuid, workspace_id uuid, password_hash text)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT id, workspace_id, password_hash FROM app_user
        WHERE lower(email) = lower(p_email) AND deleted_at IS NULL AND active
      $$`);
    await qr.query(`
      CREATE FUNCTION auth_api_key(p_hash text)
      RETURNS TABLE (api_key_id uuid, workspace_id uuid, scopes text[], created_by_id uuid)
      LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        -- last_used_at is kept to the minute: one write per key per minute, not per request.
        UPDATE api_key k SET last_used_at = now()
        WHERE k.key_hash = p_hash AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
        RETURN QUERY SELECT k.id, k.workspace_id, k.scopes, k.created_by_id FROM api_key k
        WHERE k.key_hash = p_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
      END $$`);
    await qr.query(`
      CREATE FUNCTION auth_refresh_token_workspace(p_hash text) RETURNS uuid
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT workspace_id FROM refresh_token WHERE token_hash = p_hash
      $$`);
    for (const f of ['auth_login_candidates(text)', 'auth_api_key(text)', 'auth_refresh_token_workspace(text)']) {
      await qr.query(`ALTER FUNCTION ${f} OWNER TO ${AUTH_ROLE}`);
      await qr.query(`REVOKE ALL ON FUNCTION ${f} FROM PUBLIC`);
      await qr.query(`GRANT EXECUTE ON FUNCTION ${f} TO ${APP_ROLE}`);
    }
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION auth_refresh_token_workspace(text)`);
    await qr.query(`DROP FUNCTION auth_api_key(text)`);
    await qr.query(`DROP FUNCTION auth_login_candidates(text)`);
    await qr.query(`DROP TABLE event`);
    await qr.query(`DROP FUNCTION trellis_notify_events()`);
    await qr.query(`DROP TABLE refresh_token`);
    await qr.query(`DROP TABLE api_key`);
    await qr.query(`ALTER TABLE team DROP CONSTRAINT IF EXISTS team_workspace_id_manager_id_fkey`);
    await qr.query(`DROP TABLE app_user`);
    await qr.query(`DROP TABLE team`);
    await qr.query(`DROP TABLE workspace`);
    await qr.query(`REVOKE USAGE ON SCHEMA public FROM ${APP_ROLE}, ${AUTH_ROLE}`);
  }
}
