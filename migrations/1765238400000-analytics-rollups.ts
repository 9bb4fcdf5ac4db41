import type { MigrationInterface, QueryRunner } from 'typeorm';
import { foldRollupSql, ownDefinerFunctions, secureRollupTable } from '../src/db/migration-helpers';
import { WORKER_ROLE } from '../src/db/roles';

/**
 * Rollups for the analytics queries without a record filter: sums per pipeline, stage, owner,
 * currency and day, so that a workspace with a million opportunities answers from thousands of rows.
 *
 * They are kept by statement-level triggers on opportunity and activity, in the transaction of the
 * write (and of its event), so they are never behind the event log and never approximate. A trigger
 * only appends a row of deltas per key touched (with `compacted = false`): no row is ever updated in
 * place, so concurrent writers never wait on (or deadlock over) a hot rollup row. Readers sum every
 * row of a key; `worker_compact_rollups()` (run by each instance on a timer) folds the appended rows
 * of a key back into one.
 *
 * Days are local to the workspace's time zone; changing it rebuilds that workspace's dated rollups in
 * the same transaction. Stage probabilities, forecast categories and teams are not in the rollups:
 * queries join them, so editing a stage or moving a user between teams needs no rebuild.
 */

interface Rollup {
  table: string;
  source: 'opportunity' | 'activity';
  /** Key columns: [column, type, expression over the source row `r` (and the workspace `w`)]. */
  keys: [string, string, string][];
  /** Summed columns: [column, type, per-row expression]; every sum of a delta is signed. */
  values: [string, string, string][];
  /** Which rows of the source count. */
  where: string;
  /** Keyed by a local day: rebuilt when the workspace's time zone changes. */
  dated: boolean;
}

const DEAL_SUMS: Rollup['values'] = [
  ['n', 'bigint', '1'],
  ['n_amount', 'bigint', '(r.amount_value IS NOT NULL)::int'],
  ['amount', 'numeric', 'coalesce(r.amount_value, 0)'],
  // Weighted = (weighted_own + amount_unweighted x the stage's probability) / 100, the stage joined when read.
  ['amount_unweighted', 'numeric', 'CASE WHEN r.probability IS NULL THEN coalesce(r.amount_value, 0) ELSE 0 END'],
  ['weighted_own', 'numeric', 'coalesce(r.amount_value * r.probability, 0)'],
];

const ROLLUPS: Rollup[] = [
  {
    // pipelineSummary: every live deal by stage.
    table: 'deal_stage_rollup',
    source: 'opportunity',
    keys: [
      ['pipeline_id', 'uuid', 'r.pipeline_id'],
      ['stage_id', 'uuid', 'r.stage_id'],
      ['owner_id', 'uuid', 'r.owner_id'],
      ['currency', 'char(3)', 'r.currency'],
    ],
    values: DEAL_SUMS,
    where: 'r.deleted_at IS NULL',
    dated: false,
  },
  {
    // forecast: open deals by expected close date.
    table: 'deal_open_rollup',
    source: 'opportunity',
    keys: [
      ['pipeline_id', 'uuid', 'r.pipeline_id'],
      ['stage_id', 'uuid', 'r.stage_id'],
      ['owner_id', 'uuid', 'r.owner_id'],
      ['currency', 'char(3)', 'r.currency'],
      ['expected_close_date', 'date', 'r.expected_close_date'],
    ],
    values: DEAL_SUMS,
    where: `r.deleted_at IS NULL AND r.status = 'OPEN' AND r.expected_close_date IS NOT NULL`,
    dated: false,
  },
  {
    // revenue, winRate, forecast's won amounts: closed deals by local close day.
    table: 'deal_close_rollup',
    source: 'opportunity',
    keys: [
      ['pipeline_id', 'uuid', 'r.pipeline_id'],
      ['owner_id', 'uuid', 'r.owner_id'],
      ['currency', 'char(3)', 'r.currency'],
      ['status', 'text', 'r.status'],
      ['close_day', 'date', '(r.closed_at AT TIME ZONE w.timezone)::date'],
    ],
    values: DEAL_SUMS.slice(0, 3),
    where: `r.deleted_at IS NULL AND r.status IN ('WON', 'LOST')`,
    dated: true,
  },
  {
    // activityStats: activities by local creation day (overdue tasks depend on the clock: read live).
    table: 'activity_rollup',
    source: 'activity',
    keys: [
      ['owner_id', 'uuid', 'r.owner_id'],
      ['type', 'text', 'r.type'],
      ['created_day', 'date', '(r.created_at AT TIME ZONE w.timezone)::date'],
    ],
    values: [
      ['n', 'bigint', '1'],
      ['completed', 'bigint', `(r.status = 'COMPLETED')::int`],
      ['call_seconds', 'bigint', `CASE WHEN r.type = 'CALL' THEN coalesce(r.duration_seconds, 0) ELSE 0 END`],
    ],
    where: 'r.deleted_at IS NULL',
    dated: true,
  },
];

const keyColumns = (r: Rollup) => ['workspace_id', ...r.keys.map(([c]) => c)];

/** Appends the sums of `rows` (a relation with the source's columns and a `sign` column) to the rollup. */
function appendSql(r: Rollup, rows: string, compacted: boolean): string {
  const sums = r.values.map(([, , e]) => `sum(r.sign * ${e})`);
  return `INSERT INTO ${r.table} (${keyColumns(r).join(', ')}, ${r.values.map(([c]) => c).join(', ')}, compacted)
    SELECT r.workspace_id, ${r.keys.map(([, , e]) => e).join(', ')}, ${sums.join(', ')}, ${compacted}
    FROM ${rows} r ${r.dated ? 'JOIN workspace w ON w.id = r.workspace_id' : ''}
    WHERE ${r.where}
    GROUP BY ${keyColumns(r)
      .map((_, i) => i + 1)
      .join(', ')}
    HAVING ${sums.map((s) => `${s} <> 0`).join(' OR ')}`;
}

/** The trigger function of a source table: each rollup of it gets the statement's signed rows. */
function triggerFunctionSql(source: Rollup['source']): string {
  const mine = ROLLUPS.filter((r) => r.source === source);
  const branch = (rows: string) => mine.map((r) => appendSql(r, rows, false) + ';').join('\n');
  return `CREATE FUNCTION trellis_${source}_rollups() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        ${branch('(SELECT 1 AS sign, * FROM new_rows)')}
      ELSIF TG_OP = 'DELETE' THEN
        ${branch('(SELECT -1 AS sign, * FROM old_rows)')}
      ELSE
        ${branch('(SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1 AS sign, * FROM old_rows)')}
      END IF;
      RETURN NULL;
    END $fn$`;
}

export class AnalyticsRollups1765238400000 implements MigrationInterface {
  name = 'AnalyticsRollups1765238400000';

  async up(qr: QueryRunner): Promise<void> {
    // The backfill reads every workspace: as the tables' owner, for this transaction only.
    for (const t of ['workspace', 'opportunity', 'activity']) await qr.query(`ALTER TABLE ${t} NO FORCE ROW LEVEL SECURITY`);
    for (const r of ROLLUPS) {
      await qr.query(`
        CREATE TABLE ${r.table} (
          workspace_id uuid NOT NULL REFERENCES workspace(id),
          ${r.keys.map(([c, type]) => `${c} ${type}`).join(',\n          ')},
          ${r.values.map(([c, type]) => `${c} ${type} NOT NULL`).join(',\n          ')},
          compacted boolean NOT NULL DEFAULT false
        )`);
      await qr.query(appendSql(r, `(SELECT 1 AS sign, * FROM ${r.source})`, true));
      await qr.query(`CREATE INDEX ${r.table}_key_idx ON ${r.table} (${keyColumns(r).join(', ')})`);
      await qr.query(`CREATE INDEX ${r.table}_dirty_idx ON ${r.table} (workspace_id) WHERE NOT compacted`);
      await secureRollupTable(qr, r.table);
    }
    for (const t of ['workspace', 'opportunity', 'activity']) await qr.query(`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`);

    for (const source of ['opportunity', 'activity'] as const) {
      await qr.query(triggerFunctionSql(source));
      await qr.query(
        `CREATE TRIGGER ${source}_rollups_insert AFTER INSERT ON ${source} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION trellis_${source}_rollups()`,
      );
      await qr.query(
        `CREATE TRIGGER ${source}_rollups_update AFTER UPDATE ON ${source} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION trellis_${source}_rollups()`,
      );
      await qr.query(
        `CREATE TRIGGER ${source}_rollups_delete AFTER DELETE ON ${source} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION trellis_${source}_rollups()`,
      );
    }

    // Rebuilds a workspace's rollups from its records (as the caller, under its RLS): the dated ones when
    // a new time zone moves every local day; all of them after a load that bypassed triggers (the bench's COPY).
    await qr.query(`CREATE FUNCTION trellis_rebuild_rollups(p_workspace uuid, p_dated_only boolean) RETURNS void LANGUAGE plpgsql AS $fn$
      BEGIN
        ${ROLLUPS.map(
          (r) => `IF ${r.dated ? 'true' : 'NOT p_dated_only'} THEN
          DELETE FROM ${r.table} WHERE workspace_id = p_workspace;
          ${appendSql(r, `(SELECT 1 AS sign, * FROM ${r.source} WHERE workspace_id = p_workspace)`, true)};
        END IF;`,
        ).join('\n')}
      END $fn$`);
    await qr.query(`CREATE FUNCTION trellis_timezone_rollups() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN PERFORM trellis_rebuild_rollups(NEW.id, true); RETURN NULL; END $fn$`);
    await qr.query(`CREATE TRIGGER workspace_timezone_rollups AFTER UPDATE OF timezone ON workspace FOR EACH ROW
      WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone) EXECUTE FUNCTION trellis_timezone_rollups()`);

    await qr.query(`CREATE FUNCTION worker_compact_rollups(p_keys int) RETURNS int
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET enable_nestloop = off AS $fn$
      DECLARE folded int := 0; n int;
      BEGIN
        -- One instance at a time; the others skip this round. Hash joins (see foldRollupSql): the nested
        -- loops a planner picks on tables without statistics are quadratic in the keys.
        IF NOT pg_try_advisory_xact_lock(hashtext('trellis_compact_rollups')) THEN RETURN 0; END IF;
        ${ROLLUPS.map(
          (r) =>
            `${foldRollupSql(
              r.table,
              [['workspace_id', 'uuid'], ...r.keys.map(([c, type]): [string, string] => [c, type])],
              r.values.map(([c]) => c),
            )};\nGET DIAGNOSTICS n = ROW_COUNT; folded := folded + n;`,
        ).join('\n')}
        RETURN folded;
      END $fn$`);
    await ownDefinerFunctions(qr, WORKER_ROLE, ['worker_compact_rollups(int)']);

    // salesCycle's percentiles need each won deal: an index-only scan of this instead of the table.
    await qr.query(`CREATE INDEX opportunity_won_cycle_idx ON opportunity (workspace_id, closed_at) INCLUDE (created_at, owner_id, pipeline_id, account_id)
      WHERE status = 'WON' AND deleted_at IS NULL`);
    // activityStats' overdue tasks, read live.
    await qr.query(`CREATE INDEX activity_open_task_idx ON activity (workspace_id, due_at) INCLUDE (created_at, owner_id)
      WHERE type = 'TASK' AND status = 'OPEN' AND deleted_at IS NULL`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP INDEX activity_open_task_idx`);
    await qr.query(`DROP INDEX opportunity_won_cycle_idx`);
    await qr.query(`DROP FUNCTION worker_compact_rollups(int)`);
    await qr.query(`DROP TRIGGER workspace_timezone_rollups ON workspace`);
    await qr.query(`DROP FUNCTION trellis_timezone_rollups()`);
    await qr.query(`DROP FUNCTION trellis_rebuild_rollups(uuid, boolean)`);
    for (const source of ['opportunity', 'activity']) {
      for (const op of ['insert', 'update', 'delete']) await qr.query(`DROP TRIGGER ${source}_rollups_${op} ON ${source}`);
      await qr.query(`DROP FUNCTION trellis_${source}_rollups()`);
    }
    for (const r of [...ROLLUPS].reverse()) await qr.query(`DROP TABLE ${r.table}`);
  }
}
