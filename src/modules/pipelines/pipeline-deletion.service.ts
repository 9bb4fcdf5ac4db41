import type { ServiceContext } from '../../data/context';
import { badField, conflict } from '../../kernel/errors';
import { updateRecord } from '../../data/record-store';
import type { OpportunityService } from '../opportunities/opportunity.service';
import { type Pipeline, type Stage, StageKind } from './pipeline.entity';
import { PIPELINE_STORE, STAGE_STORE } from './pipeline.descriptor';
import { type PipelineService, requireManager } from './pipeline.service';

/**
 * Deleting a stage or a pipeline: allowed when no live opportunity is in it, or with a target stage
 * that receives them (each move is a stage change with its history and events).
 */
export class PipelineDeletionService {
  constructor(
    private readonly pipelines: PipelineService,
    private readonly opportunities: OpportunityService,
  ) {}

  async deleteStage(ctx: ServiceContext, id: string, targetStageId?: string | null): Promise<Stage> {
    requireManager(ctx.viewer);
    return ctx.tx.savepoint(async () => {
      const stage = await this.pipelines.lockStage(ctx, id);
      const rest = (await this.pipelines.stages(ctx.tx, stage.pipelineId)).filter((s) => s.id !== id);
      if (!rest.some((s) => s.kind === StageKind.OPEN)) throw conflict('A pipeline keeps at least one OPEN stage');
      await this.moveOut(ctx, 'stage_id', id, targetStageId, (t) => t.id !== id);
      const deleted = (await updateRecord(ctx, STAGE_STORE, id, { deletedAt: new Date() }, { eventType: 'stage.deleted' }, stage)).record;
      for (const [position, s] of rest.entries()) if (s.position !== position) await updateRecord(ctx, STAGE_STORE, s.id, { position }, {}, s);
      return deleted;
    });
  }

  async deletePipeline(ctx: ServiceContext, id: string, targetStageId?: string | null): Promise<Pipeline> {
    requireManager(ctx.viewer);
    return ctx.tx.savepoint(async () => {
      const pipeline = await this.pipelines.lockPipeline(ctx, id);
      if (pipeline.isDefault) throw conflict('The default pipeline cannot be deleted: make another one the default first');
      await this.moveOut(ctx, 'pipeline_id', id, targetStageId, (t) => t.pipelineId !== id);
      for (const s of await this.pipelines.stages(ctx.tx, id))
        await updateRecord(ctx, STAGE_STORE, s.id, { deletedAt: new Date() }, { eventType: 'stage.deleted' }, s);
      return (await updateRecord(ctx, PIPELINE_STORE, id, { deletedAt: new Date() }, { eventType: 'pipeline.deleted' }, pipeline)).record;
    });
  }

  private async moveOut(
    ctx: ServiceContext,
    column: 'stage_id' | 'pipeline_id',
    id: string,
    targetStageId: string | null | undefined,
    targetOk: (t: Stage) => boolean,
  ): Promise<void> {
    const opps = await ctx.tx.query<{ id: string }>(
      `SELECT id FROM opportunity WHERE workspace_id = $1 AND ${column} = $2 AND deleted_at IS NULL ORDER BY id`,
      [ctx.tx.workspaceId, id],
    );
    if (opps.length === 0) return;
    if (!targetStageId) throw conflict(`${opps.length} opportunities are in it: give targetStageId to move them`, { opportunities: opps.length });
    const target = await this.pipelines.stage(ctx.tx, targetStageId);
    if (!target || !targetOk(target)) throw badField('targetStageId', 'must be a live stage outside what is deleted');
    for (const o of opps) await this.opportunities.moveToStage(ctx, o.id, target);
  }
}
