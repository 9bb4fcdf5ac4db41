import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { SoftDeletableRecord, TenantRecord } from '../../graphql/record';

/** Stages a pipeline may have (what `Pipeline.stages` is priced at in the cost model). */
export const MAX_STAGES = 50;

export enum StageKind {
  OPEN = 'OPEN',
  WON = 'WON',
  LOST = 'LOST',
}
registerEnumType(StageKind, {
  name: 'StageKind',
  description: 'Whether a stage is open, or closes a deal as won or lost.',
  valuesConfig: {
    OPEN: { description: 'Deals in it are still open.' },
    WON: { description: 'Moving a deal into it closes the deal as won.' },
    LOST: { description: 'Moving a deal into it closes the deal as lost.' },
  },
});

export enum ForecastCategory {
  PIPELINE = 'PIPELINE',
  BEST_CASE = 'BEST_CASE',
  COMMIT = 'COMMIT',
  CLOSED = 'CLOSED',
  OMITTED = 'OMITTED',
}
registerEnumType(ForecastCategory, {
  name: 'ForecastCategory',
  description: 'How deals in a stage count in the forecast.',
  valuesConfig: {
    PIPELINE: { description: 'Early: counted as pipeline only (default below 50%).' },
    BEST_CASE: { description: 'Likely, if things go well (default from 50%).' },
    COMMIT: { description: 'Expected to close (default from 75%).' },
    CLOSED: { description: 'Won (the default of WON stages).' },
    OMITTED: { description: 'Left out of the forecast (the default of LOST stages).' },
  },
});

@ObjectType({
  implements: [TenantRecord, SoftDeletableRecord],
  simpleResolvers: true,
  description: 'A sales process: ordered stages that opportunities move through.',
})
@Entity('pipeline')
export class Pipeline extends SoftDeletableRecord {
  @Field({ description: 'The pipeline name, unique in the workspace.' }) @Column('text') name: string;
  @Field({ description: 'New opportunities without a pipeline go to the default one.' }) @Column('boolean') isDefault: boolean;
  @Field(() => Int, { description: 'The display order among pipelines.' }) @Column('int') position: number;
  @Field(() => String, { nullable: true, description: 'The id of this pipeline in an integrated system.' }) @Column('text', { nullable: true }) externalId:
    string | null;
}

@ObjectType({ implements: [TenantRecord, SoftDeletableRecord], simpleResolvers: true, description: 'A step of a pipeline.' })
@Entity('stage')
export class Stage extends SoftDeletableRecord {
  @Column('uuid') pipelineId: string;
  @Field({ description: 'The stage name, unique in its pipeline.' }) @Column('text') name: string;
  @Field(() => Int, { description: 'The order in the pipeline, from 0.' }) @Column('int') position: number;
  @Field(() => Int, { description: 'The chance, 0 to 100, that a deal in this stage is won.' }) @Column('int') probability: number;
  @Field(() => StageKind, { description: 'OPEN, or WON/LOST: entering it closes the deal.' }) @Column('text') kind: StageKind;
  @Field(() => ForecastCategory, { description: 'How deals in this stage count in the forecast.' }) @Column('text') forecastCategory: ForecastCategory;
}
