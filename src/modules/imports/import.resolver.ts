import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { ImportJob } from './import-job.entity';
import type { ImportService } from './import.service';
import { StartImportInput } from './import.types';

@Resolver(() => ImportJob)
export class ImportResolver {
  constructor(private readonly service: ImportService) {}

  @Authorized('WRITE')
  @Mutation(() => ImportJob, { description: 'Starts a CSV import in the background; follow it with importJob(id).' })
  startImport(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => StartImportInput, { description: 'The CSV, its mapping and how to match rows.' }) input: StartImportInput,
  ): Promise<ImportJob> {
    return this.service.start(ctx.auth, input);
  }

  @Authorized('READ')
  @Query(() => ImportJob, { nullable: true, description: 'An import job: its progress and row errors.' })
  importJob(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The job id.' }) id: string): Promise<ImportJob> {
    return this.service.get(ctx.auth, id);
  }
}
