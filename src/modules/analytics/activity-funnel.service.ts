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
    const cohort = [`o.workspace_id = $1`, `o.pipeline_id = $2`, `o.deleted_at IS NULL`, scope.owners(p, 'o.owner_id'), within(p, () => local(p, 'o.created_at', scope.tz), from, to)].filter((c) => c !== 'TRUE').join(' AND ');
    // Per opportunity: the furthest OPEN/WON stage it entered, and whether it entered each LOST stage.
    const rows = await ctx.tx.query<{ stage_id: string; reached_exact: number; furthest: number; avg_days: number | null }>(
      `WITH cohort AS (SELECT o.id FROM opportunity o WHERE ${cohort}),
       entries AS (
         SELECT h.opportunity_id, h.stage_id, s.position, s.kind, h.entered_at, h.left_at
         FROM opportunity_stage_history h JOIN cohort c ON c.id = h.opportunity_id
         JOIN stage s ON s.workspace_id = h.workspace_id AND s.id = h.stage_id
         WHERE h.workspace_id = $1 AND h.pipeline_id = $2),
       furthest AS (SELECT opportunity_id, max(position) AS pos FROM entries WHERE kind <> 'LOST' GROUP BY opportunity_id)
       SELECT s.id AS stage_id,
              (SELECT count(DISTINCT e.opportunity_id) FROM entries e WHERE e.stage_id = s.id)::int AS reached_exact,
              (SELECT count(*) FROM furthest f WHERE f.pos >= s.position)::int AS furthest,
              (SELECT avg(extract(epoch FROM e.left_at - e.entered_at) / 86400) FROM entries e WHERE e.stage_id = s.id AND e.left_at IS NOT NULL)::float8 AS avg_days
       FROM stage s WHERE s.workspace_id = $1 AND s.pipeline_id = $2 AND s.deleted_at IS NULL`,
      p.values,
    );
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

  /** Activities created in [from, to] by type, and by owner, team or day: counts, completed, overdue tasks, call time. */
  async activityStats(ctx: ServiceContext, from: string | null | undefined, to: string | null | undefined, groupBy: ActivityGrouping | null | undefined): Promise<ActivityStat[]> {
    const scope = await scopeOf(ctx);
    const p = new SqlParams([ctx.tx.workspaceId]);
    const where = [`a.workspace_id = $1`, `a.deleted_at IS NULL`, scope.owners(p, 'a.owner_id'), within(p, () => local(p, 'a.created_at', scope.tz), from, to)].filter((c) => c !== 'TRUE').join(' AND ');
    const g = groupBy ?? ActivityGrouping.NONE;
    const group =
      g === ActivityGrouping.OWNER ? 'a.owner_id::text' : g === ActivityGrouping.TEAM ? 'u.team_id::text' : g === ActivityGrouping.DAY ? `(${local(p, 'a.created_at', scope.tz)})::date::text` : 'NULL';
    const rows = await ctx.tx.query<{ gid: string | null; type: ActivityType; n: number; completed: number; overdue: number; call_seconds: number }>(
      `SELECT ${group} AS gid, a.type, count(*)::int AS n,
              count(*) FILTER (WHERE a.status = 'COMPLETED')::int AS completed,
              count(*) FILTER (WHERE a.type = 'TASK' AND a.status = 'OPEN' AND a.due_at < now())::int AS overdue,
              coalesce(sum(a.duration_seconds) FILTER (WHERE a.type = 'CALL'), 0)::int AS call_seconds
       FROM activity a ${g === ActivityGrouping.TEAM ? 'LEFT JOIN app_user u ON u.workspace_id = a.workspace_id AND u.id = a.owner_id' : ''}
       WHERE ${where} GROUP BY 1, 2 ORDER BY 1, 2`,
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
