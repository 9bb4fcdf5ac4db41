import { rowMapper } from '../../db/hydrate';
import type { ServiceContext } from '../../graphql/context';
import { SqlParams } from '../../graphql/sql';
import type { ActivityType } from '../activities/activity.entity';
import { Stage } from '../pipelines/pipeline.entity';
import { groupKeys, local, ratio, scopeOf, within } from './analytics-scope';
import { ActivityGrouping, type ActivityStat, type FunnelStep } from './analytics.types';
import type { DealAnalyticsService } from './deal-analytics.service';

/** The stage funnel (from the stage history) and activity statistics. */
export class ActivityFunnelService {
  constructor(private readonly deals: DealAnalyticsService) {}

  /**
   * Of the pipeline's opportunities created in [from, to]: how many reached each stage. OPEN and WON
   * stages are a sequence: an opportunity that entered a stage reached every earlier one too. A LOST
   * stage counts the opportunities that entered it, and converts to nothing.
   */
  async stageFunnel(ctx: ServiceContext, pipelineId: string | null | undefined, from: string | null | undefined, to: string | null | undefined): Promise<FunnelStep[]> {
    const pipeline = await this.deals.pipelineOf(ctx, pipelineId);
    const scope = await scopeOf(ctx);
    const stages = (await ctx.tx.query(`SELECT * FROM stage WHERE workspace_id = $1 AND pipeline_id = $2 AND deleted_at IS NULL ORDER BY position, id`, [ctx.tx.workspaceId, pipeline])).map(
      rowMapper(ctx.tx.dataSource, Stage),
    );
    const p = new SqlParams([ctx.tx.workspaceId, pipeline]);
    const cohort = [`o.pipeline_id = $2`, `o.deleted_at IS NULL`, scope.owners(p, 'o.owner_id'), within(p, () => local(p, 'o.created_at', scope.tz), from, to)].filter((c) => c !== 'TRUE').join(' AND ');
    // Two passes over the cohort's stage history: per stage (who entered it, days spent), and per
    // opportunity (the furthest OPEN/WON stage it entered); "reached" adds the latter up from the end.
    const history = `opportunity_stage_history h JOIN opportunity o ON o.workspace_id = h.workspace_id AND o.id = h.opportunity_id
       WHERE h.workspace_id = $1 AND h.pipeline_id = $2 AND ${cohort}`;
    const perStage = await ctx.tx.query<{ stage_id: string; entered: number; avg_days: number | null }>(
      `SELECT h.stage_id, count(DISTINCT h.opportunity_id)::int AS entered,
              avg(extract(epoch FROM h.left_at - h.entered_at) / 86400) FILTER (WHERE h.left_at IS NOT NULL)::float8 AS avg_days
       FROM ${history} GROUP BY h.stage_id`,
      p.values,
    );
    const position = new Map(stages.map((st) => [st.id, st.kind === 'LOST' ? null : st.position]));
    const furthest = await ctx.tx.query<{ pos: number; n: number }>(
      `SELECT f.pos, count(*)::int AS n FROM (
         SELECT max(s.position) AS pos FROM ${history.replace('WHERE', 'JOIN stage s ON s.workspace_id = h.workspace_id AND s.id = h.stage_id AND s.kind <> \'LOST\' WHERE')} GROUP BY h.opportunity_id
       ) f GROUP BY f.pos`,
      p.values,
    );
    const reachedAt = (pos: number) => furthest.filter((f) => f.pos >= pos).reduce((a, f) => a + f.n, 0);
    const rows = stages.map((st) => {
      const r = perStage.find((x) => x.stage_id === st.id);
      const pos = position.get(st.id);
      return { stage_id: st.id, reached_exact: r?.entered ?? 0, furthest: pos == null ? 0 : reachedAt(pos), avg_days: r?.avg_days ?? null };
    });
    const byStage = new Map(rows.map((r) => [r.stage_id, r]));
    const sequence = stages.filter((s) => s.kind !== 'LOST');
    return stages.map((stage) => {
      const r = byStage.get(stage.id)!;
      if (stage.kind === 'LOST') return { stage, reached: r.reached_exact, convertedToNext: 0, conversionRate: null, averageDaysInStage: r.avg_days };
      const next = sequence[sequence.indexOf(stage) + 1];
      const reached = r.furthest;
      const converted = next ? byStage.get(next.id)!.furthest : 0;
      return { stage, reached, convertedToNext: converted, conversionRate: next ? ratio(converted, reached) : null, averageDaysInStage: r.avg_days };
    });
  }

  /**
   * Activities created in [from, to] by type, and by owner, team or day: counts, completed, overdue
   * tasks, call time. Counts come from activity_rollup (per owner, type and local day); overdue tasks
   * depend on the clock, so they are read live (few: the open tasks, through activity_open_task_idx).
   */
  async activityStats(ctx: ServiceContext, from: string | null | undefined, to: string | null | undefined, groupBy: ActivityGrouping | null | undefined): Promise<ActivityStat[]> {
    const scope = await scopeOf(ctx);
    const p = new SqlParams([ctx.tx.workspaceId]);
    const g = groupBy ?? ActivityGrouping.NONE;
    const team = (alias: string) => (g === ActivityGrouping.TEAM ? `LEFT JOIN app_user u ON u.workspace_id = ${alias}.workspace_id AND u.id = ${alias}.owner_id` : '');
    const group = (alias: string, day: () => string) =>
      g === ActivityGrouping.OWNER ? `${alias}.owner_id::text` : g === ActivityGrouping.TEAM ? 'u.team_id::text' : g === ActivityGrouping.DAY ? `${day()}::text` : 'NULL';
    const where = (alias: string, day: () => string) => [`${alias}.workspace_id = $1`, scope.owners(p, `${alias}.owner_id`), within(p, day, from, to)].filter((c) => c !== 'TRUE').join(' AND ');
    const createdDay = () => `(${local(p, 'a.created_at', scope.tz)})::date`;
    const rows = await ctx.tx.query<{ gid: string | null; type: ActivityType; n: number; completed: number; overdue: number; call_seconds: number }>(
      `SELECT gid, type, sum(n)::int AS n, sum(completed)::int AS completed, sum(overdue)::int AS overdue, sum(call_seconds)::int AS call_seconds FROM (
         SELECT ${group('r', () => 'r.created_day')} AS gid, r.type, r.n, r.completed, 0 AS overdue, r.call_seconds
         FROM activity_rollup r ${team('r')} WHERE ${where('r', () => 'r.created_day')}
         UNION ALL
         SELECT ${group('a', createdDay)} AS gid, 'TASK', 0, 0, 1, 0
         FROM activity a ${team('a')}
         WHERE ${where('a', createdDay)} AND a.type = 'TASK' AND a.status = 'OPEN' AND a.deleted_at IS NULL AND a.due_at < now()
       ) x GROUP BY 1, 2 HAVING sum(n) > 0 ORDER BY 1, 2`,
      p.values,
    );
    const names = g === ActivityGrouping.OWNER ? 'app_user' : g === ActivityGrouping.TEAM ? 'team' : null;
    const keys = names ? await groupKeys(ctx, { namesFrom: names }, rows.map((r) => r.gid)) : null;
    return rows.map((r) => ({
      group: g === ActivityGrouping.DAY ? { id: null, name: r.gid! } : keys ? keys.get(r.gid ?? '') ?? { id: r.gid, name: '(unknown)' } : null,
      type: r.type,
      count: r.n,
      completed: r.completed,
      overdue: r.overdue,
      callSeconds: r.call_seconds,
    }));
  }
}
