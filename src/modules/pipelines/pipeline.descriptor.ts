import { belongsTo, col, type EntitySpec } from '../../data/sql';
import type { StoreSpec } from '../../data/record-store';
import { Pipeline, Stage } from './pipeline.entity';
import { byIdLoader, childrenLoader, type Loader, type LoaderFactories, MAX_CHILDREN } from '../../data/loaders';
import { type IncludeSpec, toOne } from '../../data/lookahead';
import type { RecordKind } from '../record-kind';

export const PIPELINE_SPEC: EntitySpec = {
  table: 'pipeline',
  softDelete: true,
  fields: {
    id: col('id', 'uuid'),
    name: col('name', 'text'),
    isDefault: col('is_default', 'boolean'),
    position: col('position', 'int'),
    externalId: col('external_id', 'text', true),
    createdAt: col('created_at', 'timestamptz'),
  },
};

export const STAGE_SPEC: EntitySpec = {
  table: 'stage',
  softDelete: true,
  fields: {
    id: col('id', 'uuid'),
    name: col('name', 'text'),
    pipelineId: col('pipeline_id', 'uuid'),
    position: col('position', 'int'),
    probability: col('probability', 'int'),
    kind: col('kind', 'text'),
    forecastCategory: col('forecast_category', 'text'),
  },
  relations: {
    pipeline: belongsTo(() => PIPELINE_SPEC, 'pipeline_id'),
  },
};

export const PIPELINE_STORE: StoreSpec<Pipeline> = {
  table: 'pipeline',
  entity: Pipeline,
  entityType: 'pipeline',
  label: 'Pipeline',
  trackedFields: ['name', 'isDefault', 'position', 'externalId', 'deletedAt'],
  toData: (p) => ({
    id: p.id,
    name: p.name,
    isDefault: p.isDefault,
    position: p.position,
    externalId: p.externalId,
    deletedAt: p.deletedAt?.toISOString() ?? null,
  }),
};

export const STAGE_STORE: StoreSpec<Stage> = {
  table: 'stage',
  entity: Stage,
  entityType: 'stage',
  label: 'Stage',
  trackedFields: ['name', 'position', 'probability', 'kind', 'forecastCategory', 'deletedAt'],
  toData: (s) => ({
    id: s.id,
    pipelineId: s.pipelineId,
    name: s.name,
    position: s.position,
    probability: s.probability,
    kind: s.kind,
    forecastCategory: s.forecastCategory,
    deletedAt: s.deletedAt?.toISOString() ?? null,
  }),
};

declare module '../../data/loaders' {
  interface Loaders {
    pipeline: Loader<string, Pipeline | null>;
    stage: Loader<string, Stage | null>;
    /** The stages of each pipeline, in order. */
    stagesOfPipeline: Loader<string, Stage[]>;
  }
}

const PIPELINE_LOADERS = {
  pipeline: (tx) => byIdLoader(tx, 'pipeline', Pipeline),
  stage: (tx) => byIdLoader(tx, 'stage', Stage),
  stagesOfPipeline: (tx) => childrenLoader(tx, 'stage', 'pipeline_id', Stage, 'c.position, c.id', MAX_CHILDREN),
} satisfies Pick<LoaderFactories, 'pipeline' | 'stage' | 'stagesOfPipeline'>;

/** A record's `stage`, fetched with its page when selected. */
export const includeStage = (fk = 'stage_id'): IncludeSpec => toOne('stage', Stage, fk, (l) => l.stage);
/** A record's `pipeline`, fetched with its page when selected. */
export const includePipeline = (fk = 'pipeline_id'): IncludeSpec => toOne('pipeline', Pipeline, fk, (l) => l.pipeline);

export const PIPELINE_KIND = { entityType: 'pipeline', entities: [Pipeline], loaders: PIPELINE_LOADERS, eventReaders: 'everyone' } satisfies RecordKind;
export const STAGE_KIND = { entityType: 'stage', entities: [Stage], eventReaders: 'everyone' } satisfies RecordKind;
