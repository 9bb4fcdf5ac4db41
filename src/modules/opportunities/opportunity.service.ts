import { randomUUID } from 'node:crypto';
import type { TenantTransaction } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { SortDirection } from '../../data/connection';
import { badField, forbidden } from '../../kernel/errors';
import { EntityType } from '../../graphql/enums';
import { CrudService } from '../common/crud.service';
import type { WriteResult } from '../../data/record-store';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import { type Stage, StageKind } from '../pipelines/pipeline.entity';
import type { PipelineService } from '../pipelines/pipeline.service';
import type { WorkspaceService } from '../workspaces/workspace.service';
import { type Opportunity, OpportunityStatus } from './opportunity.entity';
import { opportunityUpsert, opportunityValues } from './opportunity.upsert';
import { OPPORTUNITY_SPEC, OPPORTUNITY_STORE } from './opportunity.descriptor';
import { recordStageEntries, STATUS_OF } from './stage-entry';
import type { CreateOpportunityInput, UpdateOpportunityInput } from './opportunity.types';
import { Role } from '../../kernel/roles';

/**
 * Opportunities: a stage in a pipeline, whose kind decides the status; every stage change is kept in
 * the stage history (entered, left) and recorded as `opportunity.stage_changed`, and entering a WON
 * or LOST stage closes the deal with `opportunity.won` / `opportunity.lost`.
 */
export class OpportunityService extends CrudService<Opportunity> {
  constructor(
    customFields: CustomFieldService,
    private readonly pipelines: PipelineService,
    private readonly workspaces: WorkspaceService,
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

  async create(ctx: ServiceContext, input: CreateOpportunityInput): Promise<Opportunity> {
    this.assertHistoricalDates(ctx, input);
    const stage = await this.resolveStage(ctx.tx, input.pipelineId, input.stageId);
    const closed = stage.kind !== StageKind.OPEN;
    if (input.closedAt && !closed) throw badField('closedAt', 'only a WON or LOST deal has a close time');
    const now = new Date();
    const closedAt = closed ? (input.closedAt ?? now) : null;
    const id = randomUUID();
    const result = await this.insert(
      ctx,
      {
        ...opportunityValues(input),
        amountValue: input.amount?.amount ?? null,
        currency: (input.amount?.currency ?? (await this.workspaces.currency(ctx.tx))).toUpperCase(),
        pipelineId: stage.pipelineId,
        stageId: stage.id,
        status: STATUS_OF[stage.kind],
        closedAt,
        stageEnteredAt: closedAt ?? input.createdAt ?? now,
        createdAt: input.createdAt,
        customFields: input.customFields ?? {},
      },
      id,
    );
    await recordStageEntries(ctx, [{ before: null, after: result.record }]);
    return result.record;
  }

  async update(ctx: ServiceContext, id: string, input: UpdateOpportunityInput, expectedVersion?: number | null): Promise<Opportunity> {
    this.assertHistoricalDates(ctx, input);
    return this.write(ctx, async () => {
      const current = await this.lock(ctx, id);
      const values: Record<string, unknown> = { ...opportunityValues(input), createdAt: input.createdAt };
      if (input.amount !== undefined) {
        if (await this.hasLineItems(ctx, id)) throw badField('amount', 'the amount follows the line items while the deal has any');
        values.amountValue = input.amount?.amount ?? null;
        if (input.amount?.currency) values.currency = input.amount.currency.toUpperCase();
      }
      let newStage: Stage | null = null;
      const stageChanges = (input.stageId && input.stageId !== current.stageId) || (input.pipelineId && input.pipelineId !== current.pipelineId);
      if (stageChanges) {
        newStage = await this.resolveStage(ctx.tx, input.pipelineId ?? (input.stageId ? undefined : current.pipelineId), input.stageId);
        const closed = newStage.kind !== StageKind.OPEN;
        const now = new Date();
        Object.assign(values, {
          pipelineId: newStage.pipelineId,
          stageId: newStage.id,
          status: STATUS_OF[newStage.kind],
          closedAt: closed ? (input.closedAt ?? now) : null,
          stageEnteredAt: closed ? (input.closedAt ?? now) : now,
        });
      } else if (input.closedAt !== undefined) {
        if (current.status === OpportunityStatus.OPEN) throw badField('closedAt', 'only a WON or LOST deal has a close time');
        values.closedAt = input.closedAt;
      }
      const result = await this.patchLocked(ctx, current, values, expectedVersion);
      if (newStage) await recordStageEntries(ctx, [{ before: current, after: result.record }]);
      return result.record;
    });
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

  private async hasLineItems(ctx: ServiceContext, id: string): Promise<boolean> {
    return !!(await ctx.tx.one('SELECT 1 FROM line_item WHERE workspace_id = $1 AND opportunity_id = $2 LIMIT 1', [ctx.tx.workspaceId, id]));
  }

  /** `createdAt` rewrites history: ADMIN users and write-scoped API keys only. */
  private assertHistoricalDates(ctx: ServiceContext, input: { createdAt?: Date | null }): void {
    if (input.createdAt == null) return;
    const allowed = ctx.viewer.kind === 'API_KEY' || ctx.viewer.role === Role.ADMIN;
    if (!allowed) throw forbidden('Only an ADMIN user or an API key may set createdAt');
    if (input.createdAt.getTime() > Date.now() + 60_000) throw badField('createdAt', 'must not be in the future');
  }
}
