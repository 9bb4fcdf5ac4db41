import { rowMapper } from '../../data/hydrate';
import { isUuid } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { notFound } from '../../kernel/errors';
import { SqlParams } from '../../data/sql';
import type { RecordFilterService } from '../common/record-filter';
import { Stage } from '../pipelines/pipeline.entity';
import { amounts, dealGrouping, decimal, groupKeys, local, PG_PERIOD, PG_PERIOD_STEP, ratio, scopeOf, within } from './analytics-scope';
import {
  type ForecastPoint,
  type Period,
  type PipelineSummary,
  RevenueGrouping,
  type RevenuePoint,
  type SalesCyclePoint,
  type WinRatePoint,
} from './analytics.types';

type Filter = Record<string, unknown> | null | undefined;

/**
 * Weighted amounts: a deal's amount times its own probability, else its stage's. Summed in two steps,
 * per stage first (DealScan.stageSums, alias `x`), then with the stage `s` joined to those few rows:
 * (the sum of amount x own probability + the sum of the amounts without one x the stage's) / 100.
 * Exact in numeric, and far cheaper than joining the stage to every deal or rollup row.
 */
const STAGE_TOTALS = {
  n: 'sum(x.n)::int',
  amount: 'CASE WHEN sum(x.n_amount) > 0 THEN sum(x.amount) END',
  weighted: 'round(CASE WHEN sum(x.n_amount) > 0 THEN (coalesce(sum(x.weighted_own), 0) + coalesce(sum(x.amount_unweighted * s.probability), 0)) / 100 END, 4)',
};

/** Deals counted once: only the line item join (PRODUCT) can repeat a deal, and DISTINCT costs a sort. */
const dealCount = (g: { join: string } | null) => (g?.join.includes('line_item') ? 'count(DISTINCT t.id)::int' : 'count(*)::int');

/**
 * The opportunities a query sums over, as alias `t`: the table itself (any filter, any grouping), or,
 * without a record filter, one of the rollups of migration AnalyticsRollups (thousands of rows for a
 * million deals; exact, kept by triggers in the writing transaction). A rollup row stands for `n`
 * deals, `n_amount` of them with an amount (an all-empty sum stays NULL, as over the table).
 */
interface DealScan {
  p: SqlParams;
  where: string;
  from: string;
  rollup: boolean;
  /** The local day (or time) the deal closed on; may add the time zone as a parameter, so built only where used. */
  closeDay: () => string;
  n: string;
  /** Drops groups whose appended rows cancel out (a deal that moved away): a rollup group of no deal. */
  having: string;
  amount: string;
  /** Per-group sums for STAGE_TOTALS: n, n_amount, amount, weighted_own, amount_unweighted. */
  stageSums: string;
}

type Rollup = 'deal_stage_rollup' | 'deal_open_rollup' | 'deal_close_rollup';

/** Groupings a rollup holds (by owner, so by team; by pipeline); accounts and products need the deals. */
const ROLLUP_GROUPS = new Set<RevenueGrouping | null | undefined>([
  null,
  undefined,
  RevenueGrouping.NONE,
  RevenueGrouping.OWNER,
  RevenueGrouping.TEAM,
  RevenueGrouping.PIPELINE,
]);

/**
 * Deal analytics, in exact decimals (numeric) and never mixing currencies: every amount is a list
 * with one total per currency. Each takes the shared opportunity filter, and covers what the viewer's
 * numbers cover (see scopeOf).
 */
export class DealAnalyticsService {
  constructor(private readonly filters: RecordFilterService) {}

  /**
   * The live opportunities of the scope and filter, as a DealScan: conditions on alias `t` with $1 the
   * workspace. `rollup` is read when there is no filter to apply (null: the caller's grouping needs the deals).
   */
  private async scan(ctx: ServiceContext, filter: Filter, rollup: Rollup | null, extra: (p: SqlParams, d: DealScan) => string[] = () => []): Promise<DealScan> {
    const scope = await scopeOf(ctx);
    const p = new SqlParams([ctx.tx.workspaceId]);
    const filtered = await this.filters.compile(ctx.tx, 'opportunity', filter ?? null, p);
    const useRollup = rollup !== null && filtered === 'TRUE';
    const d: DealScan = useRollup
      ? {
          p,
          where: '',
          from: `${rollup} t`,
          rollup: true,
          closeDay: () => 't.close_day',
          n: 'sum(t.n)::int',
          having: 'HAVING sum(t.n) <> 0',
          amount: 'CASE WHEN sum(t.n_amount) > 0 THEN sum(t.amount) END',
          stageSums:
            'sum(t.n) AS n, sum(t.n_amount) AS n_amount, sum(t.amount) AS amount, sum(t.weighted_own) AS weighted_own, sum(t.amount_unweighted) AS amount_unweighted',
        }
      : {
          p,
          where: '',
          from: 'opportunity t',
          rollup: false,
          closeDay: () => local(p, 't.closed_at', scope.tz),
          n: 'count(*)::int',
          having: '',
          amount: 'sum(t.amount_value)',
          stageSums:
            'count(*) AS n, count(t.amount_value) AS n_amount, sum(t.amount_value) AS amount, sum(t.amount_value * t.probability) AS weighted_own, sum(t.amount_value) FILTER (WHERE t.probability IS NULL) AS amount_unweighted',
        };
    const conds = ['t.workspace_id = $1', useRollup ? 'TRUE' : 't.deleted_at IS NULL', scope.owners(p, 't.owner_id'), filtered, ...extra(p, d)];
    d.where = conds.filter((c) => c !== 'TRUE').join(' AND ');
    return d;
  }

  async pipelineSummary(ctx: ServiceContext, pipelineId: string | null | undefined, filter: Filter): Promise<PipelineSummary> {
    const pipeline = await this.pipelineOf(ctx, pipelineId);
    const stages = (
      await ctx.tx.query(`SELECT * FROM stage WHERE workspace_id = $1 AND pipeline_id = $2 AND deleted_at IS NULL ORDER BY position, id`, [
        ctx.tx.workspaceId,
        pipeline,
      ])
    ).map(rowMapper(ctx.tx.dataSource, Stage));
    const d = await this.scan(ctx, filter, 'deal_stage_rollup', (p) => [`t.pipeline_id = ${p.add(pipeline)}::uuid`]);
    // One scan: per stage and currency, and per currency for the totals (GROUPING SETS).
    const all = await ctx.tx.query<{ stage_id: string | null; currency: string; n: number; amount: string | null; weighted: string | null }>(
      `SELECT x.stage_id, x.currency, ${STAGE_TOTALS.n} AS n, (${STAGE_TOTALS.amount})::text AS amount, ${STAGE_TOTALS.weighted}::text AS weighted
       FROM (SELECT t.stage_id, t.currency, ${d.stageSums} FROM ${d.from} WHERE ${d.where} GROUP BY 1, 2) x
       JOIN stage s ON s.workspace_id = $1 AND s.id = x.stage_id
       GROUP BY GROUPING SETS ((x.stage_id, x.currency), (x.currency)) HAVING sum(x.n) <> 0 ORDER BY x.currency`,
      d.p.values,
    );
    const rows = all.filter((r) => r.stage_id !== null);
    const byStage = (id: string) => rows.filter((r) => r.stage_id === id);
    const exact = all.filter((r) => r.stage_id === null);
    return {
      stages: stages.map((stage) => {
        const mine = byStage(stage.id);
        return {
          stage,
          count: mine.reduce((a, r) => a + r.n, 0),
          amounts: amounts(mine.map((r) => ({ currency: r.currency, amount: r.amount }))),
          weightedAmounts: amounts(mine.map((r) => ({ currency: r.currency, amount: r.weighted }))),
        };
      }),
      totals: exact.map((r) => ({ currency: r.currency.trim(), count: r.n, amount: decimal(r.amount ?? '0'), weightedAmount: decimal(r.weighted ?? '0') })),
    };
  }

  /** Won amounts per period of the close date (workspace time zone), optionally per group; empty periods included without groups. */
  async revenue(
    ctx: ServiceContext,
    period: Period,
    from: string | null | undefined,
    to: string | null | undefined,
    groupBy: RevenueGrouping | null | undefined,
    filter: Filter,
  ): Promise<RevenuePoint[]> {
    const g = dealGrouping(groupBy);
    const d = await this.scan(ctx, filter, ROLLUP_GROUPS.has(groupBy) ? 'deal_close_rollup' : null, (p, d) => [
      `t.status = 'WON'`,
      within(p, d.closeDay, from, to),
    ]);
    const periodOf = `date_trunc('${PG_PERIOD[period]}', (${d.closeDay()})::timestamp)::date`;
    const products = g?.join.includes('line_item');
    const rows = await ctx.tx.query<{ period: string; gid: string | null; currency: string; n: number; amount: string | null }>(
      `SELECT ${periodOf}::text AS period, ${g ? `${g.id}::text` : 'NULL'} AS gid, ${products ? 'li.currency' : 't.currency'} AS currency,
              ${products ? dealCount(g) : d.n} AS n, (${products ? 'sum(li.total_value)' : d.amount})::text AS amount
       FROM ${d.from} ${g?.join ?? ''} WHERE ${d.where} GROUP BY ${periodOf}, ${g ? g.id : '2'}, 3 ${d.having} ORDER BY 1, 2, 3`,
      d.p.values,
    );
    const keys = g
      ? await groupKeys(
          ctx,
          g,
          rows.map((r) => r.gid),
        )
      : null;
    const points = new Map<string, RevenuePoint>();
    const counts = new Map<string, number>();
    for (const r of rows) {
      const key = `${r.period}|${r.gid ?? ''}`;
      const point = points.get(key) ?? {
        periodStart: r.period,
        group: keys ? (keys.get(r.gid ?? '') ?? { id: r.gid, name: '(unknown)' }) : null,
        count: 0,
        amounts: [],
      };
      point.amounts.push(...amounts([r]));
      points.set(key, point);
      counts.set(key, r.n + (counts.get(key) ?? 0));
    }
    for (const [key, point] of points) point.count = counts.get(key)!;
    // Deal counts over currencies: a deal has one currency, so the per-currency counts add up (PRODUCT counts deals per product).
    if (!g) return this.withEmptyPeriods(ctx, [...points.values()], period, from, to);
    return [...points.values()];
  }

  /** Fills the periods without deals between from and to (or the first and last period found). */
  private async withEmptyPeriods(
    ctx: ServiceContext,
    points: RevenuePoint[],
    period: Period,
    from: string | null | undefined,
    to: string | null | undefined,
  ): Promise<RevenuePoint[]> {
    const first = from ?? points[0]?.periodStart;
    const last = to ?? points[points.length - 1]?.periodStart;
    if (!first || !last) return points;
    const unit = PG_PERIOD[period];
    const series = await ctx.tx.query<{ p: string }>(
      `SELECT generate_series(date_trunc('${unit}', $1::date), $2::date, interval '${PG_PERIOD_STEP[period]}')::date::text AS p`,
      [first, last],
    );
    const byPeriod = new Map(points.map((pt) => [pt.periodStart, pt]));
    return series.map((s) => byPeriod.get(s.p) ?? { periodStart: s.p, group: null, count: 0, amounts: [] });
  }

  /** Open deals by expected close period: amounts, weighted, per forecast category, and what was won in each period. */
  async forecast(
    ctx: ServiceContext,
    period: Period,
    from: string | null | undefined,
    to: string | null | undefined,
    filter: Filter,
  ): Promise<ForecastPoint[]> {
    const unit = PG_PERIOD[period];
    const open = await this.scan(ctx, filter, 'deal_open_rollup', (p, d) => [
      ...(d.rollup ? [] : [`t.status = 'OPEN'`, `t.expected_close_date IS NOT NULL`]),
      within(p, 't.expected_close_date', from, to),
    ]);
    const openRows = await ctx.tx.query<{ period: string; category: string; currency: string; n: number; amount: string | null; weighted: string | null }>(
      `SELECT x.period::text AS period, s.forecast_category AS category, x.currency, ${STAGE_TOTALS.n} AS n, (${STAGE_TOTALS.amount})::text AS amount, ${STAGE_TOTALS.weighted}::text AS weighted
       FROM (SELECT date_trunc('${unit}', t.expected_close_date::timestamp)::date AS period, t.stage_id, t.currency, ${open.stageSums}
             FROM ${open.from} WHERE ${open.where} GROUP BY 1, 2, 3) x
       JOIN stage s ON s.workspace_id = $1 AND s.id = x.stage_id
       GROUP BY x.period, 2, 3 HAVING sum(x.n) <> 0 ORDER BY 1, 2, 3`,
      open.p.values,
    );
    const won = await this.scan(ctx, filter, 'deal_close_rollup', (p, d) => [`t.status = 'WON'`, within(p, d.closeDay, from, to)]);
    // Grouped by the date, made text once per group: per row, the text conversion took a third of the time.
    const wonPeriod = `date_trunc('${unit}', (${won.closeDay()})::timestamp)::date`;
    const wonRows = await ctx.tx.query<{ period: string; currency: string; amount: string | null }>(
      `SELECT ${wonPeriod}::text AS period, t.currency, (${won.amount})::text AS amount
       FROM ${won.from} WHERE ${won.where} GROUP BY ${wonPeriod}, 2 ${won.having} ORDER BY 1, 2`,
      won.p.values,
    );
    const periods = [...new Set([...openRows.map((r) => r.period), ...wonRows.map((r) => r.period)])].sort();
    return periods.map((period) => {
      const mine = openRows.filter((r) => r.period === period);
      const sumBy = (rows: typeof mine, col: 'amount' | 'weighted') => {
        const byCur = new Map<string, string[]>();
        for (const r of rows) if (r[col] != null) byCur.set(r.currency, [...(byCur.get(r.currency) ?? []), r[col]!]);
        return amounts([...byCur].map(([currency, vals]) => ({ currency, amount: sumDecimals(vals) })));
      };
      const byCategory: Record<string, unknown> = {};
      for (const cat of ['PIPELINE', 'BEST_CASE', 'COMMIT']) {
        const rows = mine.filter((r) => r.category === cat);
        byCategory[cat] = { count: rows.reduce((a, r) => a + r.n, 0), amounts: sumBy(rows, 'amount'), weightedAmounts: sumBy(rows, 'weighted') };
      }
      return {
        periodStart: period,
        count: mine.reduce((a, r) => a + r.n, 0),
        amounts: sumBy(mine, 'amount'),
        weightedAmounts: sumBy(mine, 'weighted'),
        byCategory,
        wonAmounts: amounts(wonRows.filter((r) => r.period === period)),
      };
    });
  }

  /** Won / (won + lost) among deals closed in [from, to], by count and by amount. */
  async winRate(
    ctx: ServiceContext,
    from: string | null | undefined,
    to: string | null | undefined,
    groupBy: RevenueGrouping | null | undefined,
    filter: Filter,
  ): Promise<WinRatePoint[]> {
    const g = dealGrouping(groupBy);
    const d = await this.scan(ctx, filter, ROLLUP_GROUPS.has(groupBy) ? 'deal_close_rollup' : null, (p, d) => [
      `t.status IN ('WON', 'LOST')`,
      within(p, d.closeDay, from, to),
    ]);
    const products = g?.join.includes('line_item');
    const rows = await ctx.tx.query<{ gid: string | null; status: string; currency: string; n: number; amount: string | null }>(
      `SELECT ${g ? `${g.id}::text` : 'NULL'} AS gid, t.status, ${products ? 'li.currency' : 't.currency'} AS currency, ${products ? dealCount(g) : d.n} AS n,
              (${products ? 'sum(li.total_value)' : d.amount})::text AS amount
       FROM ${d.from} ${g?.join ?? ''} WHERE ${d.where} GROUP BY ${g ? g.id : '1'}, 2, 3 ${d.having} ORDER BY 1, 2, 3`,
      d.p.values,
    );
    const keys = g
      ? await groupKeys(
          ctx,
          g,
          rows.map((r) => r.gid),
        )
      : null;
    const gids = [...new Set(rows.map((r) => r.gid ?? ''))];
    if (!g && !gids.length) gids.push('');
    return gids.map((gid) => {
      const mine = rows.filter((r) => (r.gid ?? '') === gid);
      const won = mine.filter((r) => r.status === 'WON').reduce((a, r) => a + r.n, 0);
      const lost = mine.filter((r) => r.status === 'LOST').reduce((a, r) => a + r.n, 0);
      return {
        group: keys ? (keys.get(gid) ?? { id: gid, name: '(unknown)' }) : null,
        won,
        lost,
        rate: ratio(won, won + lost),
        wonAmounts: amounts(mine.filter((r) => r.status === 'WON')),
        lostAmounts: amounts(mine.filter((r) => r.status === 'LOST')),
      };
    });
  }

  /** Days from creation to close of the deals won in [from, to]: average, median, 90th percentile. */
  async salesCycle(
    ctx: ServiceContext,
    from: string | null | undefined,
    to: string | null | undefined,
    groupBy: RevenueGrouping | null | undefined,
    filter: Filter,
  ): Promise<SalesCyclePoint[]> {
    const g = dealGrouping(groupBy);
    // Percentiles need every deal: no rollup, but the won deals' covering index (opportunity_won_cycle_idx).
    const { p, where } = await this.scan(ctx, filter, null, (p, d) => [`t.status = 'WON'`, `t.closed_at IS NOT NULL`, within(p, d.closeDay, from, to)]);
    // date_part is float8 (extract is numeric): sorting a million floats for the percentiles is several times faster.
    const days = `date_part('epoch', t.closed_at - t.created_at) / 86400`;
    const rows = await ctx.tx.query<{ gid: string | null; n: number; avg: number | null; median: number | null; p90: number | null }>(
      `SELECT ${g ? `${g.id}::text` : 'NULL'} AS gid, ${dealCount(g)} AS n, avg(${days})::float8 AS avg,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ${days})::float8 AS median, percentile_cont(0.9) WITHIN GROUP (ORDER BY ${days})::float8 AS p90
       FROM opportunity t ${g?.join ?? ''} WHERE ${where} GROUP BY ${g ? g.id : '1'} ORDER BY 1`,
      p.values,
    );
    const keys = g
      ? await groupKeys(
          ctx,
          g,
          rows.map((r) => r.gid),
        )
      : null;
    if (!g && !rows.length) return [{ group: null, count: 0, averageDays: null, medianDays: null, p90Days: null }];
    return rows.map((r) => ({
      group: keys ? (keys.get(r.gid ?? '') ?? { id: r.gid, name: '(unknown)' }) : null,
      count: r.n,
      averageDays: r.avg,
      medianDays: r.median,
      p90Days: r.p90,
    }));
  }

  /** The pipeline asked for (checked to exist), or the workspace's default (first) pipeline. */
  async pipelineOf(ctx: ServiceContext, pipelineId: string | null | undefined): Promise<string> {
    if (pipelineId != null) {
      if (
        !isUuid(pipelineId) ||
        !(await ctx.tx.one(`SELECT 1 FROM pipeline WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`, [ctx.tx.workspaceId, pipelineId]))
      )
        throw notFound('Pipeline');
      return pipelineId;
    }
    const row = await ctx.tx.one<{ id: string }>(`SELECT id FROM pipeline WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1`, [
      ctx.tx.workspaceId,
    ]);
    if (!row) throw notFound('Pipeline');
    return row.id;
  }
}

/** Adds decimal strings exactly (BigInt on the 4 stored places). */
function sumDecimals(values: string[]): string {
  const SCALE = 4;
  let total = 0n;
  for (const v of values) {
    const [i, f = ''] = v.split('.');
    total += BigInt(i + f.padEnd(SCALE, '0').slice(0, SCALE));
  }
  const s = total.toString().padStart(SCALE + 1, '0');
  return `${s.slice(0, -SCALE)}.${s.slice(-SCALE)}`;
}
