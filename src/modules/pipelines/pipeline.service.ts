import { rowMapper } from '../../data/hydrate';
import { isUuid, type TenantTransaction } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { type ConnectionBase, paginate } from '../../data/connection';
import { AppError, badField, conflict, forbidden, notFound } from '../../kernel/errors';
import { requireWrite, systemViewer, type Viewer } from '../../kernel/viewer';
import type { ListInput } from '../common/crud.service';
import { insertRecord, lockRecord, updateRecord } from '../../data/record-store';
import { ForecastCategory, MAX_STAGES, Pipeline, Stage, StageKind } from './pipeline.entity';
import { PIPELINE_SPEC, PIPELINE_STORE, STAGE_STORE } from './pipeline.descriptor';
import type { CreatePipelineInput, StageInput, UpdatePipelineInput, UpdateStageInput } from './pipeline.types';
import { Role } from '../../kernel/roles';
import type { ActorRef } from '../../kernel/viewer';

/** Every new workspace starts with this pipeline. */
const DEFAULT_STAGES: StageInput[] = [
  { name: 'Prospecting', probability: 10, kind: StageKind.OPEN, forecastCategory: ForecastCategory.PIPELINE },
  { name: 'Qualification', probability: 25, kind: StageKind.OPEN, forecastCategory: ForecastCategory.PIPELINE },
  { name: 'Proposal', probability: 50, kind: StageKind.OPEN, forecastCategory: ForecastCategory.BEST_CASE },
  { name: 'Negotiation', probability: 75, kind: StageKind.OPEN, forecastCategory: ForecastCategory.COMMIT },
  { name: 'Closed Won', probability: 100, kind: StageKind.WON, forecastCategory: ForecastCategory.CLOSED },
  { name: 'Closed Lost', probability: 0, kind: StageKind.LOST, forecastCategory: ForecastCategory.OMITTED },
];

function defaultForecastCategory(kind: StageKind, probability: number): ForecastCategory {
  if (kind === StageKind.WON) return ForecastCategory.CLOSED;
  if (kind === StageKind.LOST) return ForecastCategory.OMITTED;
  return probability >= 75 ? ForecastCategory.COMMIT : probability >= 50 ? ForecastCategory.BEST_CASE : ForecastCategory.PIPELINE;
}

/** Pipelines and stages are configuration: ADMIN and MANAGER users, and write-scoped API keys. */
export function requireManager(viewer: Viewer): void {
  requireWrite(viewer);
  if (viewer.kind === 'USER' && viewer.role !== Role.ADMIN && viewer.role !== Role.MANAGER) throw forbidden('Only an ADMIN or MANAGER can change pipelines');
}

export class PipelineService {
  async get(ctx: ServiceContext, id: string): Promise<Pipeline> {
    const pipeline = await this.find(ctx.tx, id);
    if (!pipeline) throw notFound('Pipeline');
    return pipeline;
  }

  /** A pipeline of the workspace (deleted ones included), or null. */
  async find(tx: TenantTransaction, id: string): Promise<Pipeline | null> {
    if (!isUuid(id)) return null;
    const row = await tx.one('SELECT * FROM pipeline WHERE workspace_id = $1 AND id = $2', [tx.workspaceId, id]);
    return row ? rowMapper(tx.dataSource, Pipeline)(row) : null;
  }

  list(ctx: ServiceContext, args: ListInput): Promise<ConnectionBase<Pipeline>> {
    return paginate<Pipeline>({
      tx: ctx.tx,
      spec: PIPELINE_SPEC,
      ...args,
      filter: args.filter as Record<string, unknown>,
      defaultOrder: [{ field: 'POSITION' }, { field: 'NAME' }],
      map: rowMapper(ctx.tx.dataSource, Pipeline),
    });
  }

  async defaultPipeline(tx: TenantTransaction): Promise<Pipeline> {
    const row = await tx.one('SELECT * FROM pipeline WHERE workspace_id = $1 AND is_default AND deleted_at IS NULL', [tx.workspaceId]);
    if (!row) throw new AppError('CONFLICT', 'The workspace has no default pipeline');
    return rowMapper(tx.dataSource, Pipeline)(row);
  }

  async stage(tx: TenantTransaction, id: string): Promise<Stage | null> {
    if (!isUuid(id)) return null;
    const row = await tx.one('SELECT * FROM stage WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL', [tx.workspaceId, id]);
    return row ? rowMapper(tx.dataSource, Stage)(row) : null;
  }

  /** The live stages of a pipeline, in order. */
  async stages(tx: TenantTransaction, pipelineId: string): Promise<Stage[]> {
    const rows = await tx.query('SELECT * FROM stage WHERE workspace_id = $1 AND pipeline_id = $2 AND deleted_at IS NULL ORDER BY position, id', [
      tx.workspaceId,
      pipelineId,
    ]);
    return rows.map(rowMapper(tx.dataSource, Stage));
  }

  /** Creates the default pipeline of a new workspace (a workspace initializer). */
  async createDefault(tx: TenantTransaction, actor: ActorRef): Promise<void> {
    const viewer = systemViewer(tx.workspaceId);
    await this.insertPipeline({ tx, actor, viewer }, { name: 'Sales', stages: DEFAULT_STAGES, isDefault: true });
  }

  async create(ctx: ServiceContext, input: CreatePipelineInput): Promise<Pipeline> {
    requireManager(ctx.viewer);
    return ctx.tx.savepoint(() => this.insertPipeline(ctx, input));
  }

  private async insertPipeline(ctx: ServiceContext, input: CreatePipelineInput): Promise<Pipeline> {
    if (!input.stages.some((s) => (s.kind ?? StageKind.OPEN) === StageKind.OPEN)) throw badField('stages', 'a pipeline needs at least one OPEN stage');
    const names = input.stages.map((s) => s.name.trim().toLowerCase());
    if (new Set(names).size !== names.length) throw badField('stages', 'stage names must differ');
    await this.assertNameFree(ctx, input.name);
    if (input.isDefault) await this.clearDefault(ctx);
    const count = (await ctx.tx.one<{ n: number }>('SELECT count(*)::int AS n FROM pipeline WHERE workspace_id = $1 AND deleted_at IS NULL', [
      ctx.tx.workspaceId,
    ]))!.n;
    const { record } = await insertRecord(ctx, PIPELINE_STORE, {
      name: input.name.trim(),
      isDefault: input.isDefault ?? false,
      position: count,
      externalId: input.externalId ?? null,
    });
    for (const [position, s] of input.stages.entries()) await this.insertStage(ctx, record.id, s, position);
    return record;
  }

  async update(ctx: ServiceContext, id: string, input: UpdatePipelineInput, expectedVersion?: number | null): Promise<Pipeline> {
    requireManager(ctx.viewer);
    return ctx.tx.savepoint(async () => {
      const current = await this.lockPipeline(ctx, id);
      if (input.name) await this.assertNameFree(ctx, input.name, id);
      if (input.isDefault === false && current.isDefault) throw badField('isDefault', 'make another pipeline the default instead');
      if (input.isDefault && !current.isDefault) await this.clearDefault(ctx);
      return (
        await updateRecord(
          ctx,
          PIPELINE_STORE,
          id,
          { name: input.name?.trim(), isDefault: input.isDefault, position: input.position },
          { expectedVersion },
          current,
        )
      ).record;
    });
  }

  async addStage(ctx: ServiceContext, pipelineId: string, input: StageInput, position?: number | null): Promise<Stage> {
    requireManager(ctx.viewer);
    return ctx.tx.savepoint(async () => {
      await this.lockPipeline(ctx, pipelineId);
      const stages = await this.stages(ctx.tx, pipelineId);
      if (stages.length >= MAX_STAGES) throw badField('pipelineId', `a pipeline has at most ${MAX_STAGES} stages`);
      if (stages.some((s) => s.name.toLowerCase() === input.name.trim().toLowerCase()))
        throw conflict(`A stage named ${input.name} already exists in this pipeline`);
      const at = position == null ? stages.length : Math.max(0, Math.min(position, stages.length));
      for (const s of stages.filter((x) => x.position >= at).reverse()) await updateRecord(ctx, STAGE_STORE, s.id, { position: s.position + 1 }, {}, s);
      return this.insertStage(ctx, pipelineId, input, at);
    });
  }

  async updateStage(ctx: ServiceContext, id: string, input: UpdateStageInput, expectedVersion?: number | null): Promise<Stage> {
    requireManager(ctx.viewer);
    return ctx.tx.savepoint(async () => {
      const current = await this.lockStage(ctx, id);
      if (input.name) {
        const taken = await ctx.tx.one(
          'SELECT 1 FROM stage WHERE workspace_id = $1 AND pipeline_id = $2 AND lower(name) = lower($3) AND id <> $4 AND deleted_at IS NULL',
          [ctx.tx.workspaceId, current.pipelineId, input.name.trim(), id],
        );
        if (taken) throw conflict(`A stage named ${input.name} already exists in this pipeline`);
      }
      return (
        await updateRecord(
          ctx,
          STAGE_STORE,
          id,
          { name: input.name?.trim(), probability: input.probability, forecastCategory: input.forecastCategory },
          { expectedVersion },
          current,
        )
      ).record;
    });
  }

  /** Puts the stages of a pipeline in the given order (every live stage, each once). */
  async reorderStages(ctx: ServiceContext, pipelineId: string, stageIds: string[]): Promise<Stage[]> {
    requireManager(ctx.viewer);
    return ctx.tx.savepoint(async () => {
      await this.lockPipeline(ctx, pipelineId);
      const stages = await this.stages(ctx.tx, pipelineId);
      const same = stageIds.length === stages.length && new Set(stageIds).size === stageIds.length && stages.every((s) => stageIds.includes(s.id));
      if (!same) throw badField('stageIds', 'must list every stage of the pipeline exactly once');
      const byId = new Map(stages.map((s) => [s.id, s]));
      const out: Stage[] = [];
      for (const [position, sid] of stageIds.entries()) out.push((await updateRecord(ctx, STAGE_STORE, sid, { position }, {}, byId.get(sid)!)).record);
      return out;
    });
  }

  async lockPipeline(ctx: ServiceContext, id: string): Promise<Pipeline> {
    if (!isUuid(id)) throw notFound('Pipeline');
    const p = await lockRecord(ctx, PIPELINE_STORE, id);
    if (p.deletedAt) throw notFound('Pipeline');
    return p;
  }

  async lockStage(ctx: ServiceContext, id: string): Promise<Stage> {
    if (!isUuid(id)) throw notFound('Stage');
    const s = await lockRecord(ctx, STAGE_STORE, id);
    if (s.deletedAt) throw notFound('Stage');
    return s;
  }

  private async insertStage(ctx: ServiceContext, pipelineId: string, s: StageInput, position: number): Promise<Stage> {
    const kind = s.kind ?? StageKind.OPEN;
    const values = {
      pipelineId,
      name: s.name.trim(),
      position,
      probability: s.probability,
      kind,
      forecastCategory: s.forecastCategory ?? defaultForecastCategory(kind, s.probability),
    };
    return (await insertRecord(ctx, STAGE_STORE, values)).record;
  }

  private async clearDefault(ctx: ServiceContext): Promise<void> {
    const row = await ctx.tx.one('SELECT * FROM pipeline WHERE workspace_id = $1 AND is_default AND deleted_at IS NULL FOR UPDATE', [ctx.tx.workspaceId]);
    if (row) await updateRecord(ctx, PIPELINE_STORE, row.id as string, { isDefault: false }, {}, rowMapper(ctx.tx.dataSource, Pipeline)(row));
  }

  private async assertNameFree(ctx: ServiceContext, name: string, exceptId?: string): Promise<void> {
    const taken = await ctx.tx.one(
      'SELECT 1 FROM pipeline WHERE workspace_id = $1 AND lower(name) = lower($2) AND deleted_at IS NULL AND id IS DISTINCT FROM $3',
      [ctx.tx.workspaceId, name.trim(), exceptId ?? null],
    );
    if (taken) throw conflict(`A pipeline named ${name} already exists`);
  }
}
