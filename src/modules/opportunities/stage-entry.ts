import { randomUUID } from 'node:crypto';
import type { ServiceContext } from '../../data/context';
import { recordEvents } from '../../data/record-store';
import { StageKind } from '../pipelines/pipeline.entity';
import { type Opportunity, OpportunityStatus } from './opportunity.entity';
import { opportunityData } from './opportunity.descriptor';

/** A deal's status follows the kind of its stage. */
export const STATUS_OF: Record<StageKind, OpportunityStatus> = { OPEN: OpportunityStatus.OPEN, WON: OpportunityStatus.WON, LOST: OpportunityStatus.LOST };

/**
 * For every write that put a deal in a stage (created, or moved): the stage history (the previous
 * entry left, a new one entered at `stageEnteredAt`) and the events `opportunity.stage_changed`,
 * `opportunity.won`, `opportunity.lost`, in set-based statements. One path for single writes and
 * batches alike.
 */
export async function recordStageEntries(ctx: ServiceContext, writes: { before: Opportunity | null; after: Opportunity }[]): Promise<void> {
  const entered = writes.filter((w) => !w.before || w.before.stageId !== w.after.stageId);
  if (entered.length === 0) return;
  const moved = entered.filter((w) => w.before);
  if (moved.length) {
    await ctx.tx.query(
      `UPDATE opportunity_stage_history h SET left_at = v.at FROM json_to_recordset($2::json) AS v(id uuid, at timestamptz)
       WHERE h.workspace_id = $1 AND h.opportunity_id = v.id AND h.left_at IS NULL`,
      [ctx.tx.workspaceId, JSON.stringify(moved.map((w) => ({ id: w.after.id, at: w.after.stageEnteredAt })))],
    );
  }
  await ctx.tx.query(
    `INSERT INTO opportunity_stage_history (workspace_id, id, opportunity_id, pipeline_id, stage_id, entered_at)
     SELECT $1, v.id, v.opportunity_id, v.pipeline_id, v.stage_id, v.entered_at
     FROM json_to_recordset($2::json) AS v(id uuid, opportunity_id uuid, pipeline_id uuid, stage_id uuid, entered_at timestamptz)`,
    [
      ctx.tx.workspaceId,
      JSON.stringify(
        entered.map((w) => ({
          id: randomUUID(),
          opportunity_id: w.after.id,
          pipeline_id: w.after.pipelineId,
          stage_id: w.after.stageId,
          entered_at: w.after.stageEnteredAt,
        })),
      ),
    ],
  );
  await recordEvents(
    ctx,
    'opportunity.stage_changed',
    'opportunity',
    moved.map((w) => ({ entityId: w.after.id, changes: [{ field: 'stageId', old: w.before!.stageId, new: w.after.stageId }], data: opportunityData(w.after) })),
  );
  for (const status of [OpportunityStatus.WON, OpportunityStatus.LOST]) {
    const closed = entered.filter((w) => w.after.status === status && w.before?.status !== status);
    await recordEvents(
      ctx,
      status === OpportunityStatus.WON ? 'opportunity.won' : 'opportunity.lost',
      'opportunity',
      closed.map((w) => ({ entityId: w.after.id, changes: [{ field: 'status', old: w.before?.status ?? null, new: status }], data: opportunityData(w.after) })),
    );
  }
}
