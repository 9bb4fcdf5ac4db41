import { ArrayMaxSize, ArrayMinSize, IsInt, IsOptional, Length, Max, Min, ValidateNested } from 'class-validator';
import { Field, InputType, Int, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderType } from '../../data/connection';
import { BooleanFilter, IDFilter, StringFilter } from '../../data/filter';
import { ForecastCategory, MAX_STAGES, Pipeline, StageKind } from './pipeline.entity';
import { IsOptionalNotNull } from '../../graphql/validators';

@InputType({ description: 'A stage of a pipeline.' })
export class StageInput {
  @Field({ description: 'The stage name, unique in its pipeline.' }) @Length(1, 200) name: string;
  @Field(() => Int, { description: 'The win probability, 0 to 100.' }) @IsInt() @Min(0) @Max(100) probability: number;
  @Field(() => StageKind, { nullable: true, defaultValue: StageKind.OPEN, description: 'OPEN (default), WON or LOST.' }) @IsOptional() kind?: StageKind;
  @Field(() => ForecastCategory, {
    nullable: true,
    description: 'Default: CLOSED for WON, OMITTED for LOST, else by probability (COMMIT from 75, BEST_CASE from 50, else PIPELINE).',
  })
  @IsOptional()
  forecastCategory?: ForecastCategory;
}

@InputType({ description: 'Changes to a stage.' })
export class UpdateStageInput {
  @Field({ nullable: true, description: 'The stage name.' }) @IsOptional() @Length(1, 200) name?: string;
  @Field(() => Int, { nullable: true, description: 'The win probability, 0 to 100.' }) @IsOptionalNotNull() @IsInt() @Min(0) @Max(100) probability?: number;
  @Field(() => ForecastCategory, { nullable: true, description: 'How deals in it count in the forecast.' })
  @IsOptionalNotNull()
  forecastCategory?: ForecastCategory;
}

@InputType({ description: 'A new pipeline and its stages, in order.' })
export class CreatePipelineInput {
  @Field({ description: 'The pipeline name, unique in the workspace.' }) @Length(1, 200) name: string;
  @Field(() => [StageInput], { description: 'The stages, in order; at least one OPEN stage.' })
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_STAGES)
  @ValidateNested({ each: true })
  stages: StageInput[];
  @Field({ nullable: true, defaultValue: false, description: 'Make it the default pipeline.' }) @IsOptional() isDefault?: boolean;
  @Field({ nullable: true, description: 'The id in an integrated system.' }) @IsOptional() @Length(1, 200) externalId?: string;
}

@InputType({ description: 'Changes to a pipeline.' })
export class UpdatePipelineInput {
  @Field({ nullable: true, description: 'The pipeline name.' }) @IsOptional() @Length(1, 200) name?: string;
  @Field({ nullable: true, description: 'true makes it the default pipeline (the previous default stops being it).' }) @IsOptionalNotNull() isDefault?: boolean;
  @Field(() => Int, { nullable: true, description: 'The display order.' }) @IsOptionalNotNull() @IsInt() @Min(0) position?: number;
}

@InputType({ description: 'Conditions on pipelines.' })
export class PipelineFilter {
  @Field(() => IDFilter, { nullable: true, description: 'The id.' }) id?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The name.' }) name?: StringFilter;
  @Field(() => BooleanFilter, { nullable: true, description: 'Whether it is the default.' }) isDefault?: BooleanFilter;
  @Field(() => [PipelineFilter], { nullable: true, description: 'All of these hold.' }) and?: PipelineFilter[];
  @Field(() => [PipelineFilter], { nullable: true, description: 'At least one of these holds.' }) or?: PipelineFilter[];
  @Field(() => PipelineFilter, { nullable: true, description: 'This does not hold.' }) not?: PipelineFilter;
}

enum PipelineOrderField {
  POSITION = 'POSITION',
  NAME = 'NAME',
  CREATED_AT = 'CREATED_AT',
}
registerEnumType(PipelineOrderField, {
  name: 'PipelineOrderField',
  description: 'Fields pipelines can be sorted by.',
  valuesConfig: {
    POSITION: { description: 'The position among pipelines.' },
    NAME: { description: 'The name.' },
    CREATED_AT: { description: 'When it was created.' },
  },
});
export const PipelineOrder = OrderType(PipelineOrderField, 'Pipeline');
export const PipelineConnection = ConnectionType(Pipeline);
