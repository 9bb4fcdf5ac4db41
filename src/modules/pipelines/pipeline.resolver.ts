import { Arg, Args, ArgsType, Authorized, Ctx, Extensions, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import type { Loaded } from '../../data/loaders';
import { ListArgs } from '../../graphql/list-args';
import type { PipelineDeletionService } from './pipeline-deletion.service';
import { MAX_STAGES, Pipeline, Stage } from './pipeline.entity';
import type { PipelineService } from './pipeline.service';
import { CreatePipelineInput, PipelineConnection, PipelineFilter, PipelineOrder, StageInput, UpdatePipelineInput, UpdateStageInput } from './pipeline.types';
import { LIST_CAP } from '../../graphql/list-cost';

@ArgsType()
class PipelineListArgs extends ListArgs {
  @Field(() => PipelineFilter, { nullable: true, description: 'Conditions the pipelines must meet.' }) filter?: PipelineFilter;
  @Field(() => [PipelineOrder], { nullable: true, description: 'Sort keys; default by position.' }) orderBy?: InstanceType<typeof PipelineOrder>[];
}

@Resolver(() => Pipeline)
export class PipelineResolver {
  constructor(
    private readonly service: PipelineService,
    private readonly deletion: PipelineDeletionService,
  ) {}

  @Authorized('READ')
  @Query(() => Pipeline, { nullable: true, description: 'A pipeline by id.' })
  pipeline(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The pipeline id.' }) id: string): Promise<Pipeline> {
    return this.service.get(ctx.auth, id);
  }

  @Authorized('READ')
  @Query(() => PipelineConnection, { description: 'The pipelines of the workspace.' })
  pipelines(@Ctx() ctx: RequestContext, @Args(() => PipelineListArgs) args: PipelineListArgs) {
    return this.service.list(ctx.auth, args);
  }

  @Authorized('WRITE')
  @Mutation(() => Pipeline, { description: 'Creates a pipeline with its stages (ADMIN, MANAGER or API key).' })
  createPipeline(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreatePipelineInput, { description: 'The new pipeline and its stages.' }) input: CreatePipelineInput,
  ): Promise<Pipeline> {
    return this.service.create(ctx.auth, input);
  }

  @Authorized('WRITE')
  @Mutation(() => Pipeline, { description: 'Renames a pipeline, makes it the default, or moves it.' })
  updatePipeline(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { description: 'The pipeline id.' }) id: string,
    @Arg('input', () => UpdatePipelineInput, { description: 'The changes; omitted fields stay as they are.' }) input: UpdatePipelineInput,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'The version you read.' }) expectedVersion?: number,
  ): Promise<Pipeline> {
    return this.service.update(ctx.auth, id, input, expectedVersion);
  }

  @Authorized('WRITE')
  @Mutation(() => Pipeline, { description: 'Deletes a pipeline and its stages; its opportunities move to targetStageId (required if it has any).' })
  deletePipeline(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { description: 'The pipeline id.' }) id: string,
    @Arg('targetStageId', () => ID, { nullable: true, description: 'The stage (of another pipeline) that receives its opportunities.' }) targetStageId?: string,
  ): Promise<Pipeline> {
    return this.deletion.deletePipeline(ctx.auth, id, targetStageId);
  }

  @Authorized('WRITE')
  @Mutation(() => Stage, { description: 'Adds a stage to a pipeline, at `position` (default: last).' })
  createStage(
    @Ctx() ctx: RequestContext,
    @Arg('pipelineId', () => ID, { description: 'The pipeline.' }) pipelineId: string,
    @Arg('input', () => StageInput, { description: 'The new stage.' }) input: StageInput,
    @Arg('position', () => Int, { nullable: true, description: 'Where to insert it, from 0.' }) position?: number,
  ): Promise<Stage> {
    return this.service.addStage(ctx.auth, pipelineId, input, position);
  }

  @Authorized('WRITE')
  @Mutation(() => Stage, { description: 'Renames a stage or changes its probability or forecast category.' })
  updateStage(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { description: 'The stage id.' }) id: string,
    @Arg('input', () => UpdateStageInput, { description: 'The changes; omitted fields stay as they are.' }) input: UpdateStageInput,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'The version you read.' }) expectedVersion?: number,
  ): Promise<Stage> {
    return this.service.updateStage(ctx.auth, id, input, expectedVersion);
  }

  @Authorized('WRITE')
  @Mutation(() => Stage, { description: 'Deletes a stage; its opportunities move to targetStageId (required if it has any).' })
  deleteStage(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { description: 'The stage id.' }) id: string,
    @Arg('targetStageId', () => ID, { nullable: true, description: 'The stage that receives its opportunities.' }) targetStageId?: string,
  ): Promise<Stage> {
    return this.deletion.deleteStage(ctx.auth, id, targetStageId);
  }

  @Authorized('WRITE')
  @Mutation(() => [Stage], { description: 'Puts the stages of a pipeline in this order (every stage once).' })
  reorderStages(
    @Ctx() ctx: RequestContext,
    @Arg('pipelineId', () => ID, { description: 'The pipeline.' }) pipelineId: string,
    @Arg('stageIds', () => [ID], { description: 'All its stage ids, in the new order.' }) stageIds: string[],
  ): Promise<Stage[]> {
    return this.service.reorderStages(ctx.auth, pipelineId, stageIds);
  }

  @FieldResolver(() => [Stage], { description: 'The stages, in order (at most 50).' })
  @Extensions({ [LIST_CAP]: MAX_STAGES })
  stages(@Root() p: Pipeline, @Ctx() ctx: RequestContext): Loaded<Stage[]> {
    return ctx.loaders.stagesOfPipeline.get(p.id);
  }
}

@Resolver(() => Stage)
export class StageResolver {
  @FieldResolver(() => Pipeline, { description: 'The pipeline the stage belongs to.' })
  pipeline(@Root() s: Stage, @Ctx() ctx: RequestContext): Loaded<Pipeline> {
    // Never null: the foreign key guarantees the row (were it missing, GraphQL reports the null).
    return ctx.loaders.pipeline.get(s.pipelineId) as Loaded<Pipeline>;
  }
}
