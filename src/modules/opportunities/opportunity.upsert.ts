import { CreateOpportunityInput, UpdateOpportunityInput, UpsertOpportunityInput } from './opportunity.types';
import type { ServiceContext } from '../../data/context';
import type { FieldError } from '../../kernel/errors';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../../data/upsert';
import { ownerRule, resolveRefs } from '../../data/upsert-refs';
import { trimOrNull } from '../../data/values';
import { type Stage, Stage as StageEntity, StageKind } from '../pipelines/pipeline.entity';
import { rowMapper } from '../../data/hydrate';
import type { WorkspaceService } from '../workspaces/workspace.service';
import { type Opportunity, OpportunityStatus } from './opportunity.entity';
import { OPPORTUNITY_STORE } from './opportunity.descriptor';
import { recordStageEntries, STATUS_OF } from './stage-entry';
import { Role } from '../../kernel/roles';

export function opportunityUpsert(workspaces: WorkspaceService): UpsertConfig<Opportunity, UpsertOpportunityInput> {
  return {
    store: OPPORTUNITY_STORE,
    owned: true,
    customFields: EntityType.OPPORTUNITY,
    required: ['name'],
    match: { [MatchOn.EXTERNAL_ID]: externalIdMatch() },

    async prepare(ctx, inputs) {
      const refs = await resolveRefs(ctx, inputs, [
        ownerRule(),
        {
          target: 'accountId',
          table: 'account',
          label: 'account',
          byId: (i) => i.accountId,
          byKey: ['accountExternalId', 'external_id', false, (i) => i.accountExternalId],
        },
        {
          target: 'primaryContactId',
          table: 'contact',
          label: 'contact',
          byId: (i) => i.primaryContactId,
          byKey: ['primaryContactExternalId', 'external_id', false, (i) => i.primaryContactExternalId],
        },
      ]);
      const currency = await workspaces.currency(ctx.tx);
      const stages = await stageCatalog(ctx);
      const withLines = await externalIdsWithLineItems(
        ctx,
        inputs.filter((i) => i.amount !== undefined).map((i) => i.externalId),
      );
      const mayBackdate = ctx.viewer.kind === 'API_KEY' || ctx.viewer.role === Role.ADMIN;
      return inputs.map((i, n) => {
        const r = refs[n];
        const errors: FieldError[] = Array.isArray(r) ? [...r] : [];
        const pipeline = i.pipelineId ?? i.pipelineName;
        const stage = i.stageId
          ? stages.byId.get(i.stageId)
          : i.stageName
            ? stages.byName(pipeline, i.stageName)
            : pipeline
              ? stages.firstOpen(pipeline)
              : undefined;
        if ((i.stageId || i.stageName) && !stage)
          errors.push({ field: i.stageId ? 'stageId' : 'stageName', message: `no such stage${pipeline ? ` in pipeline ${pipeline}` : ''}` });
        if (pipeline && !stages.pipeline(pipeline)) errors.push({ field: i.pipelineId ? 'pipelineId' : 'pipelineName', message: `no pipeline ${pipeline}` });
        if (stage && pipeline && !stages.inPipeline(stage, pipeline)) errors.push({ field: 'stageId', message: 'the stage belongs to another pipeline' });
        if (i.createdAt && !mayBackdate) errors.push({ field: 'createdAt', message: 'only an ADMIN user or an API key may set createdAt' });
        if (i.amount !== undefined && i.externalId && withLines.has(i.externalId))
          errors.push({ field: 'amount', message: 'the amount follows the line items while the deal has any' });
        if (errors.length || Array.isArray(r)) return errors;
        const first = stages.firstOpen(pipeline);
        const prepared: Prepared = {
          createDefaults: { currency },
          extra: { stage, defaultStage: first },
          values: {
            ...opportunityValues(i),
            accountId: r.accountId,
            primaryContactId: r.primaryContactId,
            amountValue: i.amount === undefined ? undefined : (i.amount?.amount ?? null),
            currency: i.amount?.currency ? i.amount.currency.toUpperCase() : undefined,
            ownerId: r.ownerId,
            closedAt: i.closedAt,
            createdAt: i.createdAt,
          },
        };
        return prepared;
      });
    },

    /** What entering a stage implies: its pipeline, the status, the close time, the time entered. */
    adjust(_ctx, before, prepared, values) {
      const stage = (prepared.extra?.stage ?? (before ? undefined : prepared.extra?.defaultStage)) as Stage | undefined;
      if (stage && (!before || stage.id !== before.stageId)) {
        const closed = stage.kind !== StageKind.OPEN;
        const now = new Date();
        const closedAt = closed ? ((values.closedAt as Date | undefined) ?? now) : null;
        Object.assign(values, {
          pipelineId: stage.pipelineId,
          stageId: stage.id,
          status: STATUS_OF[stage.kind],
          closedAt,
          stageEnteredAt: closedAt ?? (before ? now : ((values.createdAt as Date | undefined) ?? now)),
        });
      } else if (values.closedAt !== undefined && (before?.status ?? OpportunityStatus.OPEN) === OpportunityStatus.OPEN) {
        delete values.closedAt;
      }
    },

    /** Stage history and the stage events of every write that entered a stage. */
    afterWrite: (ctx, writes) => recordStageEntries(ctx, writes),
  };
}

/** Every live stage of the workspace, to resolve stage names of a batch without a query per input. */
async function stageCatalog(ctx: ServiceContext) {
  const rows = await ctx.tx.query(
    'SELECT s.*, p.name AS pipeline_name, p.is_default FROM stage s JOIN pipeline p ON p.workspace_id = s.workspace_id AND p.id = s.pipeline_id WHERE s.workspace_id = $1 AND s.deleted_at IS NULL AND p.deleted_at IS NULL ORDER BY s.position',
    [ctx.tx.workspaceId],
  );
  const toStage = rowMapper(ctx.tx.dataSource, StageEntity);
  const all = rows.map((r) => ({ id: r.id as string, pipeline_name: r.pipeline_name as string, is_default: r.is_default as boolean, stage: toStage(r) }));
  // A pipeline is named by id or by name (ignoring case); none means the default pipeline.
  const matches = (s: (typeof all)[number], ref?: string) =>
    ref ? s.stage.pipelineId === ref || s.pipeline_name.toLowerCase() === ref.toLowerCase() : s.is_default;
  const of = (ref?: string) => all.filter((s) => matches(s, ref));
  return {
    byId: new Map(all.map((s) => [s.id, s.stage])),
    pipeline: (ref: string) => all.some((s) => matches(s, ref)),
    inPipeline: (stage: Stage, ref: string) => of(ref).some((s) => s.id === stage.id),
    byName: (ref: string | undefined, stage: string) => of(ref).find((s) => s.stage.name.toLowerCase() === stage.toLowerCase())?.stage,
    firstOpen: (ref?: string) => of(ref).find((s) => s.stage.kind === StageKind.OPEN)?.stage,
  };
}

async function externalIdsWithLineItems(ctx: ServiceContext, externalIds: (string | null | undefined)[]): Promise<Set<string>> {
  const ids = externalIds.filter((x): x is string => !!x);
  if (ids.length === 0) return new Set();
  const rows = await ctx.tx.query<{ external_id: string }>(
    `SELECT o.external_id FROM opportunity o WHERE o.workspace_id = $1 AND o.deleted_at IS NULL AND o.external_id = ANY($2::text[])
       AND EXISTS (SELECT 1 FROM line_item l WHERE l.workspace_id = o.workspace_id AND l.opportunity_id = o.id)`,
    [ctx.tx.workspaceId, ids],
  );
  return new Set(rows.map((r) => r.external_id));
}

/** An opportunity input's values, normalised: the same for a single write and an upsert (amount, stage and dates have rules of their own). */
export const opportunityValues = (i: CreateOpportunityInput | UpdateOpportunityInput) => ({
  name: i.name?.trim(),
  accountId: i.accountId,
  primaryContactId: i.primaryContactId,
  expectedCloseDate: i.expectedCloseDate,
  probability: i.probability,
  externalId: trimOrNull(i.externalId),
  ownerId: i.ownerId,
  customFields: i.customFields,
});
