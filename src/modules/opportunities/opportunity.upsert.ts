import { CreateOpportunityInput, UpdateOpportunityInput, UpsertOpportunityInput } from './opportunity.types';
import type { ServiceContext } from '../../data/context';
import { badField, type FieldError, forbidden } from '../../kernel/errors';
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

    async prepare(ctx, inputs, single) {
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
      const withAmount = inputs.filter((i) => i.amount !== undefined);
      // A single update knows its record; a batch's inputs are matched by externalId.
      const withLines = await dealsWithLineItems(
        ctx,
        single?.target && withAmount.length ? [single.target.id] : [],
        single ? [] : withAmount.map((i) => i.externalId),
      );
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
        const backdating = backdatingError(ctx, i);
        if (backdating) errors.push(backdating);
        const target = single ? single.target : undefined;
        if (i.amount !== undefined && (target ? withLines.has(target.id) : !!i.externalId && withLines.has(i.externalId)))
          errors.push({ field: 'amount', message: 'the amount follows the line items while the deal has any' });
        if (errors.length || Array.isArray(r)) return errors;
        const prepared: Prepared = {
          createDefaults: { currency },
          // A pipeline alone names its first open stage, which a deal already in that pipeline does not move to.
          extra: { stage, stageNamed: !!(i.stageId || i.stageName), defaultStage: stages.firstOpen(pipeline), strictClose: !!single },
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

    /**
     * What entering a stage implies: its pipeline, the status, the close time, the time entered. A
     * close time on a deal that stays open is refused by a single write (`strictClose`) and ignored
     * in a batch, where a sync may send every deal's close date.
     */
    adjust(_ctx, before, prepared, values) {
      const extra = prepared.extra as { stage?: Stage; stageNamed: boolean; defaultStage?: Stage; strictClose: boolean };
      let stage = extra.stage ?? (before ? undefined : extra.defaultStage);
      if (!before && !stage) throw badField('pipelineId', 'the pipeline has no open stage');
      if (before && stage && !extra.stageNamed && stage.pipelineId === before.pipelineId) stage = undefined;
      if (stage && (!before || stage.id !== before.stageId)) {
        const closed = stage.kind !== StageKind.OPEN;
        if (!closed && values.closedAt != null && extra.strictClose) throw badField('closedAt', ONLY_CLOSED);
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
        if (extra.strictClose) throw badField('closedAt', ONLY_CLOSED);
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

/** Of the deals named (by id, or by externalId), those that have line items: their amount follows them. */
async function dealsWithLineItems(ctx: ServiceContext, ids: string[], externalIds: (string | null | undefined)[]): Promise<Set<string>> {
  const keys = externalIds.filter((x): x is string => !!x);
  if (ids.length === 0 && keys.length === 0) return new Set();
  const rows = await ctx.tx.query<{ id: string; external_id: string | null }>(
    `SELECT o.id, o.external_id FROM opportunity o WHERE o.workspace_id = $1 AND (o.id = ANY($2::uuid[]) OR (o.deleted_at IS NULL AND o.external_id = ANY($3::text[])))
       AND EXISTS (SELECT 1 FROM line_item l WHERE l.workspace_id = o.workspace_id AND l.opportunity_id = o.id)`,
    [ctx.tx.workspaceId, ids, keys],
  );
  return new Set(rows.flatMap((r) => (ids.includes(r.id) ? [r.id] : r.external_id ? [r.external_id] : [])));
}

const ONLY_CLOSED = 'only a WON or LOST deal has a close time';

/**
 * `createdAt` rewrites history: ADMIN users and write-scoped API keys only, and not in the future. A
 * batch reports it on the input; a single write answers FORBIDDEN for the permission (assertMayBackdate).
 */
function backdatingError(ctx: ServiceContext, i: { createdAt?: Date | null }): FieldError | null {
  if (i.createdAt == null) return null;
  if (!mayBackdate(ctx)) return { field: 'createdAt', message: 'only an ADMIN user or an API key may set createdAt' };
  if (i.createdAt.getTime() > Date.now() + 60_000) return { field: 'createdAt', message: 'must not be in the future' };
  return null;
}

const mayBackdate = (ctx: ServiceContext) => ctx.viewer.kind === 'API_KEY' || ctx.viewer.role === Role.ADMIN;

/** FORBIDDEN when the input sets `createdAt` and the viewer may not (the single mutations' answer to that rule). */
export function assertMayBackdate(ctx: ServiceContext, i: { createdAt?: Date | null }): void {
  if (i.createdAt != null && !mayBackdate(ctx)) throw forbidden('Only an ADMIN user or an API key may set createdAt');
}

/** An opportunity input's values, normalised: the same for a single write and an upsert (amount, stage and dates have rules of their own). */
const opportunityValues = (i: CreateOpportunityInput | UpdateOpportunityInput) => ({
  name: i.name?.trim(),
  accountId: i.accountId,
  primaryContactId: i.primaryContactId,
  expectedCloseDate: i.expectedCloseDate,
  probability: i.probability,
  externalId: trimOrNull(i.externalId),
  ownerId: i.ownerId,
  customFields: i.customFields,
});
