import type { TenantTransaction } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { SortDirection } from '../../data/connection';
import { badField } from '../../kernel/errors';
import { EntityType } from '../../graphql/enums';
import { CrudService } from '../common/crud.service';
import type { WriteResult } from '../../data/record-store';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import { type Stage, StageKind } from '../pipelines/pipeline.entity';
import type { PipelineService } from '../pipelines/pipeline.service';
import type { WorkspaceService } from '../workspaces/workspace.service';
import type { Opportunity } from './opportunity.entity';
import { assertMayBackdate, opportunityUpsert } from './opportunity.upsert';
import { OPPORTUNITY_SPEC, OPPORTUNITY_STORE } from './opportunity.descriptor';
import type { CreateOpportunityInput, UpdateOpportunityInput } from './opportunity.types';

/**
 * Opportunities: a stage in a pipeline, whose kind decides the status; every stage change is kept in
 * the stage history (entered, left) and recorded as `opportunity.stage_changed`, and entering a WON
 * or LOST stage closes the deal with `opportunity.won` / `opportunity.lost`.
 */
export class OpportunityService extends CrudService<Opportunity> {
  constructor(
    customFields: CustomFieldService,
    private readonly pipelines: PipelineService,
    workspaces: WorkspaceService,
  ) {
    super(
      {
        store: OPPORTUNITY_STORE,
        spec: OPPORTUNITY_SPEC,
        defaultOrder: [{ field: 'CREATED_AT', direction: SortDirection.DESC }],
        owned: true,
        references: { accountId: { table: 'account', label: 'account' }, primaryContactId: { table: 'contact', label: 'contact' } },
        customFields: EntityType.OPPORTUNITY,
        upsert: opportunityUpsert(workspaces),
      },
      customFields,
    );
  }

  create(ctx: ServiceContext, input: CreateOpportunityInput): Promise<Opportunity> {
    assertMayBackdate(ctx, input);
    return this.createOne(ctx, input);
  }

  update(ctx: ServiceContext, id: string, input: UpdateOpportunityInput, expectedVersion?: number | null): Promise<Opportunity> {
    assertMayBackdate(ctx, input);
    return this.updateOne(ctx, id, input, expectedVersion);
  }

  /** Moves a locked-or-not opportunity to a stage (used when stages or pipelines are deleted). */
  async moveToStage(ctx: ServiceContext, id: string, stage: Stage): Promise<Opportunity> {
    return this.update(ctx, id, { pipelineId: stage.pipelineId, stageId: stage.id });
  }

  /** Sets the amount from line items (the line item service calls it after every change). */
  async setAmountFromLineItems(ctx: ServiceContext, id: string, total: string | null): Promise<WriteResult<Opportunity>> {
    return this.patch(ctx, id, { amountValue: total });
  }

  async lockForLineItems(ctx: ServiceContext, id: string): Promise<Opportunity> {
    const opp = await this.lock(ctx, id);
    if (opp.deletedAt) throw badField('opportunityId', 'the opportunity is deleted');
    this.assertCanWrite(ctx.viewer, opp.ownerId);
    return opp;
  }

  /** Also the stage and pipeline an update input moves the deal to, as `update` resolves them. */
  override async checkReferences(tx: TenantTransaction, input: Record<string, unknown>, prefix = ''): Promise<void> {
    await super.checkReferences(tx, input, prefix);
    const { pipelineId, stageId } = input as UpdateOpportunityInput;
    if (pipelineId || stageId) await this.resolveStage(tx, pipelineId, stageId, prefix);
  }

  /**
   * The stage an input names: a stage (its pipeline must match), else the pipeline's first stage.
   * BAD_USER_INPUT names the field as `<prefix>stageId` or `<prefix>pipelineId`.
   */
  private async resolveStage(tx: TenantTransaction, pipelineId?: string | null, stageId?: string | null, prefix = ''): Promise<Stage> {
    if (stageId) {
      const stage = await this.pipelines.stage(tx, stageId);
      if (!stage) throw badField(`${prefix}stageId`, 'no such stage');
      if (pipelineId && stage.pipelineId !== pipelineId) throw badField(`${prefix}stageId`, 'the stage belongs to another pipeline');
      return stage;
    }
    const pipeline = pipelineId ? await this.pipelines.find(tx, pipelineId) : await this.pipelines.defaultPipeline(tx);
    if (!pipeline || pipeline.deletedAt) throw badField(`${prefix}pipelineId`, 'no such pipeline');
    const first = (await this.pipelines.stages(tx, pipeline.id)).find((s) => s.kind === StageKind.OPEN);
    if (!first) throw badField(`${prefix}pipelineId`, 'the pipeline has no open stage');
    return first;
  }
}
