import type { MigrationInterface, QueryRunner } from 'typeorm';
import { foldRollupSql, ownDefinerFunctions, secureRollupTable, secureTenantTable } from '../src/db/migration-helpers';
import { WORKER_ROLE } from '../src/db/roles';

/**
 * The stage funnel's rollup, like those of AnalyticsRollups: per pipeline, owner, local creation day
 * of the deal and stage, how many deals entered the stage (`entered`), for how many it is the
 * furthest open or won stage they entered (`furthest`, by the stages' current positions), and the
 * time spent in it by the entries that left it (`left_n`, `seconds`).
 *
 * What a deal adds is a function of the deal, its stage history and the stages. A write to either
 * table appends, per key, what the touched deals add after the statement minus what they added
 * before it. A change of stage positions or kinds moves "furthest" for the whole pipeline: the
 * pipeline is queued and rebuilt once, when the transaction commits (a reorder updates every stage).
 */

const KEYS = ['workspace_id', 'pipeline_id', 'owner_id', 'created_day', 'stage_id'];
const KEY_TYPES = ['uuid', 'uuid', 'uuid', 'date', 'uuid'];
const SUMS = ['entered', 'furthest', 'left_n', 'seconds'];

/** What the deals `opps` add, given their stage history `hist` (both relations with the tables' columns). */
function contributionSql(opps: string, hist: string): string {
  // A deal's furthest stage: the first of its entries by (LOST last, position descending); it counts
  // only if it is not a LOST stage. A window over the entries, not a join (which the planner, blind to
  // the rows of a trigger's transition table, ran as a nested loop: 0.7 s for 2 000 entries).
  return `(WITH hh AS (
      SELECT h.workspace_id, h.pipeline_id, o.owner_id, (o.created_at AT TIME ZONE w.timezone)::date AS created_day, h.stage_id,
             h.opportunity_id, h.entered_at, h.left_at,
             first_value(h.stage_id) OVER far AS far_stage, first_value(s.kind) OVER far AS far_kind
      FROM ${hist} h
      JOIN ${opps} o ON o.workspace_id = h.workspace_id AND o.id = h.opportunity_id AND o.pipeline_id = h.pipeline_id AND o.deleted_at IS NULL
      JOIN workspace w ON w.id = h.workspace_id
      JOIN stage s ON s.workspace_id = h.workspace_id AND s.id = h.stage_id
      WINDOW far AS (PARTITION BY h.opportunity_id ORDER BY s.kind = 'LOST', s.position DESC, s.id)
    )
    SELECT hh.workspace_id, hh.pipeline_id, hh.owner_id, hh.created_day, hh.stage_id,
           count(DISTINCT hh.opportunity_id) AS entered,
           count(DISTINCT hh.opportunity_id) FILTER (WHERE hh.stage_id = hh.far_stage AND hh.far_kind <> 'LOST') AS furthest,
           count(hh.left_at) AS left_n,
           coalesce(sum(extract(epoch FROM hh.left_at - hh.entered_at)), 0) AS seconds
    FROM hh
    GROUP BY 1, 2, 3, 4, 5)`;
}

/** Appends after minus before (either may be null: nothing). */
function appendSql(after: string | null, before: string | null, compacted = false): string {
  const parts = [after && `SELECT 1 AS sign, * FROM ${after} a`, before && `SELECT -1 AS sign, * FROM ${before} b`].filter(Boolean);
  const sums = SUMS.map((c) => `sum(d.sign * d.${c})`);
  return `INSERT INTO funnel_rollup (${KEYS.join(', ')}, ${SUMS.join(', ')}, compacted)
    SELECT ${KEYS.map((k) => `d.${k}`).join(', ')}, ${sums.join(', ')}, ${compacted}
    FROM (${parts.join(' UNION ALL ')}) d
    GROUP BY ${KEYS.map((_, i) => i + 1).join(', ')} HAVING ${sums.map((s) => `${s} <> 0`).join(' OR ')}`;
}

/**
 * The trigger functions read the deals a statement touched by their ids, held in the variables `ws`
 * and `ids` (every row of a statement is of one workspace: row-level security): index lookups by
 * `= ANY(ids)` whatever the planner believes of the tables' sizes. Joins run as hash joins
 * (`enable_nestloop = off` on the functions): in a database loaded in one transaction (the demo
 * seed) the tables have no statistics yet, and nested loops over them made each statement quadratic.
 */
const HISTORY_OF_IDS = `(SELECT h.* FROM opportunity_stage_history h WHERE h.workspace_id = ws AND h.opportunity_id = ANY(ids))`;
const DEALS_OF_IDS = `(SELECT o.* FROM opportunity o WHERE o.workspace_id = ws AND o.id = ANY(ids))`;
const TRIGGER_SETTINGS = `SET enable_nestloop = off`;

function historyTriggerSql(): string {
  const collect = (rels: string[]) =>
    `SELECT (array_agg(t.workspace_id))[1], array_agg(DISTINCT t.opportunity_id) INTO ws, ids
     FROM (${rels.map((r) => `SELECT workspace_id, opportunity_id FROM ${r}`).join(' UNION ALL ')}) t;`;
  // The history before the statement: today's, less the rows it wrote, plus the rows it replaced or removed.
  const before = (wrote: string | null, removed: string | null) =>
    `(SELECT h.* FROM ${HISTORY_OF_IDS} h ${wrote ? `WHERE NOT EXISTS (SELECT 1 FROM ${wrote} w WHERE w.id = h.id)` : ''} ${removed ? `UNION ALL SELECT * FROM ${removed}` : ''})`;
  const branch = (wrote: string | null, removed: string | null) =>
    `${collect([wrote, removed].filter((r): r is string => !!r))}
     ${appendSql(contributionSql(DEALS_OF_IDS, HISTORY_OF_IDS), contributionSql(DEALS_OF_IDS, before(wrote, removed)))};`;
  return `CREATE FUNCTION trellis_stage_history_funnel() RETURNS trigger LANGUAGE plpgsql ${TRIGGER_SETTINGS} AS $fn$
    DECLARE ws uuid; ids uuid[];
    BEGIN
      IF TG_OP = 'INSERT' THEN ${branch('new_rows', null)}
      ELSIF TG_OP = 'DELETE' THEN ${branch(null, 'old_rows')}
      ELSE ${branch('new_rows', 'old_rows')}
      END IF;
      RETURN NULL;
    END $fn$`;
}

function opportunityTriggerSql(): string {
  // Only what places a deal in the funnel: its pipeline, owner, creation time, deletion.
  const rowsOf = (rel: string) => `(SELECT r.* FROM ${rel} r WHERE r.id = ANY(ids))`;
  return `CREATE FUNCTION trellis_opportunity_funnel() RETURNS trigger LANGUAGE plpgsql ${TRIGGER_SETTINGS} AS $fn$
    DECLARE ws uuid; ids uuid[];
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        SELECT (array_agg(n.workspace_id))[1], array_agg(n.id) INTO ws, ids
        FROM new_rows n JOIN old_rows o ON o.workspace_id = n.workspace_id AND o.id = n.id
        WHERE (n.pipeline_id, n.owner_id, n.created_at, n.deleted_at) IS DISTINCT FROM (o.pipeline_id, o.owner_id, o.created_at, o.deleted_at);
        IF ids IS NOT NULL THEN
          ${appendSql(contributionSql(rowsOf('new_rows'), HISTORY_OF_IDS), contributionSql(rowsOf('old_rows'), HISTORY_OF_IDS))};
        END IF;
      ELSE
        SELECT (array_agg(workspace_id))[1], array_agg(id) INTO ws, ids FROM old_rows;
        ${appendSql(null, contributionSql('old_rows', HISTORY_OF_IDS))};
      END IF;
      RETURN NULL;
    END $fn$`;
}

export class FunnelRollup1765324800000 implements MigrationInterface {
  name = 'FunnelRollup1765324800000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`
      CREATE TABLE funnel_rollup (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        pipeline_id uuid NOT NULL,
        owner_id uuid,
        created_day date NOT NULL,
        stage_id uuid NOT NULL,
        entered bigint NOT NULL,
        furthest bigint NOT NULL,
        left_n bigint NOT NULL,
        seconds numeric NOT NULL,
        compacted boolean NOT NULL DEFAULT false
      )`);
    // The backfill reads every workspace: as the tables' owner, for this transaction only.
    const read = ['workspace', 'opportunity', 'opportunity_stage_history', 'stage'];
    for (const t of read) await qr.query(`ALTER TABLE ${t} NO FORCE ROW LEVEL SECURITY`);
    await qr.query(appendSql(contributionSql('opportunity', 'opportunity_stage_history'), null, true));
    for (const t of read) await qr.query(`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`);
    await qr.query(`CREATE INDEX funnel_rollup_key_idx ON funnel_rollup (${KEYS.join(', ')})`);
    await qr.query(`CREATE INDEX funnel_rollup_dirty_idx ON funnel_rollup (workspace_id) WHERE NOT compacted`);
    await secureRollupTable(qr, 'funnel_rollup');

    await qr.query(historyTriggerSql());
    await qr.query(
      `CREATE TRIGGER stage_history_funnel_insert AFTER INSERT ON opportunity_stage_history REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION trellis_stage_history_funnel()`,
    );
    await qr.query(
      `CREATE TRIGGER stage_history_funnel_update AFTER UPDATE ON opportunity_stage_history REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION trellis_stage_history_funnel()`,
    );
    await qr.query(
      `CREATE TRIGGER stage_history_funnel_delete AFTER DELETE ON opportunity_stage_history REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION trellis_stage_history_funnel()`,
    );
    await qr.query(opportunityTriggerSql());
    await qr.query(
      `CREATE TRIGGER opportunity_funnel_update AFTER UPDATE ON opportunity REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION trellis_opportunity_funnel()`,
    );
    await qr.query(
      `CREATE TRIGGER opportunity_funnel_delete AFTER DELETE ON opportunity REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION trellis_opportunity_funnel()`,
    );

    // Rebuilds: a pipeline whose stage positions or kinds changed (once per transaction, at commit), a workspace whose time zone changed.
    const rebuild = (where: string) =>
      `DELETE FROM funnel_rollup WHERE ${where};
       ${appendSql(contributionSql(`(SELECT * FROM opportunity WHERE ${where})`, `(SELECT * FROM opportunity_stage_history WHERE ${where})`), null, true)};`;
    await qr.query(`CREATE TABLE funnel_rebuild (workspace_id uuid NOT NULL, pipeline_id uuid NOT NULL, PRIMARY KEY (workspace_id, pipeline_id))`);
    await secureTenantTable(qr, 'funnel_rebuild');
    await qr.query(`CREATE FUNCTION trellis_queue_funnel_rebuild() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        INSERT INTO funnel_rebuild (workspace_id, pipeline_id) VALUES (NEW.workspace_id, NEW.pipeline_id) ON CONFLICT DO NOTHING;
        RETURN NULL;
      END $fn$`);
    await qr.query(`CREATE TRIGGER stage_funnel_rebuild AFTER UPDATE OF position, kind ON stage FOR EACH ROW
      WHEN (OLD.position IS DISTINCT FROM NEW.position OR OLD.kind IS DISTINCT FROM NEW.kind) EXECUTE FUNCTION trellis_queue_funnel_rebuild()`);
    await qr.query(`CREATE FUNCTION trellis_rebuild_pipeline_funnel() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        ${rebuild(`workspace_id = NEW.workspace_id AND pipeline_id = NEW.pipeline_id`)}
        DELETE FROM funnel_rebuild WHERE workspace_id = NEW.workspace_id AND pipeline_id = NEW.pipeline_id;
        RETURN NULL;
      END $fn$`);
    await qr.query(`CREATE CONSTRAINT TRIGGER funnel_rebuild_at_commit AFTER INSERT ON funnel_rebuild DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION trellis_rebuild_pipeline_funnel()`);
    await qr.query(`CREATE FUNCTION trellis_timezone_funnel() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN ${rebuild('workspace_id = NEW.id')} RETURN NULL; END $fn$`);
    await qr.query(`CREATE TRIGGER workspace_timezone_funnel AFTER UPDATE OF timezone ON workspace FOR EACH ROW
      WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone) EXECUTE FUNCTION trellis_timezone_funnel()`);
    // After a load that bypassed the triggers (the bench's COPY), as trellis_rebuild_rollups.
    await qr.query(`CREATE FUNCTION trellis_rebuild_funnel(p_workspace uuid) RETURNS void LANGUAGE plpgsql AS $fn$
      BEGIN ${rebuild('workspace_id = p_workspace')} END $fn$`);

    await qr.query(`CREATE FUNCTION worker_compact_funnel(p_keys int) RETURNS int
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET enable_nestloop = off AS $fn$
      DECLARE n int;
      BEGIN
        IF NOT pg_try_advisory_xact_lock(hashtext('trellis_compact_funnel')) THEN RETURN 0; END IF;
        ${foldRollupSql(
          'funnel_rollup',
          KEYS.map((k, i): [string, string] => [k, KEY_TYPES[i]]),
          SUMS,
        )};
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
      END $fn$`);
    await ownDefinerFunctions(qr, WORKER_ROLE, ['worker_compact_funnel(int)']);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION worker_compact_funnel(int)`);
    await qr.query(`DROP FUNCTION trellis_rebuild_funnel(uuid)`);
    await qr.query(`DROP TRIGGER workspace_timezone_funnel ON workspace`);
    await qr.query(`DROP FUNCTION trellis_timezone_funnel()`);
    await qr.query(`DROP TRIGGER stage_funnel_rebuild ON stage`);
    await qr.query(`DROP FUNCTION trellis_queue_funnel_rebuild()`);
    await qr.query(`DROP TABLE funnel_rebuild`);
    await qr.query(`DROP FUNCTION trellis_rebuild_pipeline_funnel()`);
    for (const op of ['update', 'delete']) await qr.query(`DROP TRIGGER opportunity_funnel_${op} ON opportunity`);
    await qr.query(`DROP FUNCTION trellis_opportunity_funnel()`);
    for (const op of ['insert', 'update', 'delete']) await qr.query(`DROP TRIGGER stage_history_funnel_${op} ON opportunity_stage_history`);
    await qr.query(`DROP FUNCTION trellis_stage_history_funnel()`);
    await qr.query(`DROP TABLE funnel_rollup`);
  }
}
