import { rowMapper } from '../../data/hydrate';
import type { ServiceContext } from '../../data/context';
import { SqlParams } from '../../data/sql';
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
   * stage counts the opportunities that entered it, and converts to nothing. Read from funnel_rollup
   * (migration FunnelRollup): per stage, the deals that entered it, those for which it is the furthest
   * OPEN/WON stage entered, and the time spent by the entries that left it.
   */
  async stageFunnel(
    ctx: ServiceContext,
    pipelineId: string | null | undefined,
    from: string | null | undefined,
    to: string | null | undefined,
  ): Promise<FunnelStep[]> {
    const pipeline = await this.deals.pipelineOf(ctx, pipelineId);
    const scope = await scopeOf(ctx);
    // Deleted stages too: a deal's furthest stage may be one since deleted, and still counts by its position.
    const all = (
      await ctx.tx.query(`SELECT * FROM stage WHERE workspace_id = $1 AND pipeline_id = $2 ORDER BY position, id`, [ctx.tx.workspaceId, pipeline])
    ).map(rowMapper(ctx.tx.dataSource, Stage));
    const stages = all.filter((st) => !st.deletedAt);
    const p = new SqlParams([ctx.tx.workspaceId, pipeline]);
    const where = [`t.workspace_id = $1`, `t.pipeline_id = $2`, scope.owners(p, 't.owner_id'), within(p, 't.created_day', from, to)]
      .filter((c) => c !== 'TRUE')
      .join(' AND ');
    const sums = await ctx.tx.query<{ stage_id: string; entered: number; furthest: number; avg_days: number | null }>(
      `SELECT t.stage_id, sum(t.entered)::int AS entered, sum(t.furthest)::int AS furthest,
              (sum(t.seconds) / nullif(sum(t.left_n), 0) / 86400)::float8 AS avg_days
       FROM funnel_rollup t WHERE ${where} GROUP BY t.stage_id`,
      p.values,
    );
    // "Reached" adds up, from the last stage back, the deals whose furthest stage is at or past it.
    const furthestAt = all
      .filter((st) => st.kind !== 'LOST')
      .map((st) => ({ position: st.position, n: sums.find((x) => x.stage_id === st.id)?.furthest ?? 0 }));
    const reachedAt = (pos: number) => furthestAt.filter((f) => f.position >= pos).reduce((a, f) => a + f.n, 0);
    const rows = stages.map((st) => {
      const r = sums.find((x) => x.stage_id === st.id);
      return { stage_id: st.id, reached_exact: r?.entered ?? 0, furthest: st.kind === 'LOST' ? 0 : reachedAt(st.position), avg_days: r?.avg_days ?? null };
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
  async activityStats(
    ctx: ServiceContext,
    from: string | null | undefined,
    to: string | null | undefined,
    groupBy: ActivityGrouping | null | undefined,
  ): Promise<ActivityStat[]> {
    const scope = await scopeOf(ctx);
    const p = new SqlParams([ctx.tx.workspaceId]);
    const g = groupBy ?? ActivityGrouping.NONE;
    const team = (alias: string) =>
      g === ActivityGrouping.TEAM ? `LEFT JOIN app_user u ON u.workspace_id = ${alias}.workspace_id AND u.id = ${alias}.owner_id` : '';
    const group = (alias: string, day: () => string) =>
      g === ActivityGrouping.OWNER
        ? `${alias}.owner_id::text`
        : g === ActivityGrouping.TEAM
          ? 'u.team_id::text'
          : g === ActivityGrouping.DAY
            ? `${day()}::text`
            : 'NULL';
    const where = (alias: string, day: () => string) =>
      [`${alias}.workspace_id = $1`, scope.owners(p, `${alias}.owner_id`), within(p, day, from, to)].filter((c) => c !== 'TRUE').join(' AND ');
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
    const keys = names
      ? await groupKeys(
          ctx,
          { namesFrom: names },
          rows.map((r) => r.gid),
        )
      : null;
    return rows.map((r) => ({
      group: g === ActivityGrouping.DAY ? { id: null, name: r.gid! } : keys ? (keys.get(r.gid ?? '') ?? { id: r.gid, name: '(unknown)' }) : null,
      type: r.type,
      count: r.n,
      completed: r.completed,
      overdue: r.overdue,
      callSeconds: r.call_seconds,
    }));
  }
}
