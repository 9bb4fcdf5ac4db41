import type { MigrationInterface, QueryRunner } from 'typeorm';
import { grantWorkerScan, ownDefinerFunctions, secureTenantTable } from '../src/db/migration-helpers';
import { APP_ROLE, AUTH_ROLE, WORKER_ROLE } from '../src/db/roles';

/**
 * The automation engine: rules, their runs (the log and the exactly-once guard), claimed time slots,
 * the event consumer's durable cursor, the sent-mail log, and the lead intake token.
 *
 * Exactly once: a run of a rule for an event is unique per (rule, event); a run for a time-based
 * trigger is unique per (rule, occasion) (a slot, or a record's due date or last activity). The run
 * row is inserted in the same transaction as the actions it records, so a crash repeats nothing.
 */
export class Automation1764979200000 implements MigrationInterface {
  name = 'Automation1764979200000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`
      CREATE TABLE automation_rule (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        active boolean NOT NULL DEFAULT true,
        trigger jsonb NOT NULL,
        trigger_type text NOT NULL CHECK (trigger_type IN ('RECORD_EVENT', 'SCHEDULE', 'INACTIVITY', 'DATE_RELATIVE')),
        conditions jsonb,
        actions jsonb NOT NULL,
        round_robin bigint NOT NULL DEFAULT 0,
        created_by_id uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1,
        deleted_at timestamptz(3),
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX automation_rule_active_idx ON automation_rule (trigger_type) WHERE active AND deleted_at IS NULL`);
    await secureTenantTable(qr, 'automation_rule');

    await qr.query(`
      CREATE TABLE automation_run (
        workspace_id uuid NOT NULL,
        id uuid NOT NULL,
        rule_id uuid NOT NULL,
        trigger_type text NOT NULL,
        occasion text NOT NULL,
        event_id bigint,
        entity_type text,
        entity_id uuid,
        status text NOT NULL CHECK (status IN ('SUCCEEDED', 'FAILED', 'SKIPPED')),
        actions jsonb NOT NULL DEFAULT '[]',
        error text,
        duration_ms int NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, id),
        UNIQUE (workspace_id, rule_id, occasion),
        FOREIGN KEY (workspace_id, rule_id) REFERENCES automation_rule(workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX automation_run_list_idx ON automation_run (workspace_id, rule_id, created_at DESC, id DESC)`);
    await secureTenantTable(qr, 'automation_run');

    // A time slot of a time-based rule, claimed by the one instance that inserts it.
    await qr.query(`
      CREATE TABLE automation_slot (
        workspace_id uuid NOT NULL,
        rule_id uuid NOT NULL,
        slot timestamptz(3) NOT NULL,
        claimed_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, rule_id, slot),
        FOREIGN KEY (workspace_id, rule_id) REFERENCES automation_rule(workspace_id, id)
      )`);
    await secureTenantTable(qr, 'automation_slot');

    await qr.query(`
      CREATE TABLE sent_email (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        rule_id uuid,
        recipient text NOT NULL,
        subject text NOT NULL,
        body text NOT NULL,
        entity_type text,
        entity_id uuid,
        activity_id uuid,
        transport text NOT NULL CHECK (transport IN ('SMTP', 'LOG')),
        error text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1,
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX sent_email_list_idx ON sent_email (workspace_id, created_at DESC, id DESC)`);
    await secureTenantTable(qr, 'sent_email');

    await qr.query(`CREATE TABLE automation_cursor (id int PRIMARY KEY CHECK (id = 1), tx xid8 NOT NULL, seq bigint NOT NULL)`);
    await qr.query(`INSERT INTO automation_cursor (id, tx, seq) SELECT 1, coalesce(max(tx_id), '0'::xid8), coalesce(max(id), 0) FROM event`);
    await qr.query(`GRANT SELECT, UPDATE ON automation_cursor TO ${APP_ROLE}`);

    await grantWorkerScan(qr, ['automation_rule']);
    await qr.query(`
      CREATE FUNCTION worker_active_automation_rules(p_types text[]) RETURNS TABLE (workspace_id uuid, id uuid, trigger_type text, trigger jsonb, created_at timestamptz)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT workspace_id, id, trigger_type, trigger, created_at FROM automation_rule
        WHERE active AND deleted_at IS NULL AND trigger_type = ANY(p_types)
      $$`);
    await ownDefinerFunctions(qr, WORKER_ROLE, ['worker_active_automation_rules(text[])']);

    // Lead intake: a per-workspace token in the public URL; it only creates leads.
    await qr.query(`ALTER TABLE workspace ADD COLUMN intake_token text UNIQUE`);
    await qr.query(`GRANT SELECT (id, intake_token) ON workspace TO ${AUTH_ROLE}`);
    await qr.query(`CREATE POLICY auth_intake ON workspace FOR SELECT TO ${AUTH_ROLE} USING (true)`);
    await qr.query(`
      CREATE FUNCTION auth_intake_workspace(p_token text) RETURNS uuid
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT id FROM workspace WHERE intake_token = p_token
      $$`);
    await ownDefinerFunctions(qr, AUTH_ROLE, ['auth_intake_workspace(text)']);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION auth_intake_workspace(text)`);
    await qr.query(`DROP POLICY auth_intake ON workspace`);
    await qr.query(`REVOKE SELECT (id, intake_token) ON workspace FROM ${AUTH_ROLE}`);
    await qr.query(`ALTER TABLE workspace DROP COLUMN intake_token`);
    await qr.query(`DROP FUNCTION worker_active_automation_rules(text[])`);
    await qr.query(`DROP TABLE automation_cursor`);
    await qr.query(`DROP TABLE sent_email`);
    await qr.query(`DROP TABLE automation_slot`);
    await qr.query(`DROP TABLE automation_run`);
    await qr.query(`DROP TABLE automation_rule`);
  }
}
