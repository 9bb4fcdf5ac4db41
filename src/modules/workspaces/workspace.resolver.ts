import { IsBoolean, IsISO4217CurrencyCode, IsOptional, Length, MaxLength } from 'class-validator';
import { Arg, Authorized, Ctx, Field, InputType, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { Workspace } from './workspace.entity';
import type { WorkspaceService } from './workspace.service';

@InputType({ description: 'Changes to the workspace; omitted fields stay as they are.' })
class UpdateWorkspaceInput {
  @Field({ nullable: true, description: 'The workspace name.' }) @IsOptional() @Length(1, 200) name?: string;
  @Field({ nullable: true, description: 'The default currency (ISO 4217).' }) @IsOptional() @IsISO4217CurrencyCode() currency?: string;
  @Field({ nullable: true, description: 'The IANA time zone of analytics periods and schedules, e.g. `Europe/Paris`.' })
  @IsOptional()
  @MaxLength(64)
  timezone?: string;
  @Field({ nullable: true, description: "Whether REPs see the whole workspace's analytics (otherwise their own numbers)." })
  @IsOptional()
  @IsBoolean()
  repsSeeWorkspaceAnalytics?: boolean;
}

@Resolver(() => Workspace)
export class WorkspaceResolver {
  constructor(private readonly workspaces: WorkspaceService) {}

  @Authorized('ADMIN')
  @Mutation(() => Workspace, { description: 'Changes the workspace settings (ADMIN only).' })
  updateWorkspace(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => UpdateWorkspaceInput, { description: 'The changes; omitted fields stay as they are.' }) input: UpdateWorkspaceInput,
  ): Promise<Workspace> {
    return this.workspaces.update(ctx.auth, input);
  }
}
