import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import type { Loaded } from '../../data/loaders';
import { ListArgs } from '../../graphql/list-args';
import { User } from '../users/user.entity';
import { Team } from './team.entity';
import type { TeamService } from './team.service';
import { CreateTeamInput, TeamConnection, TeamFilter, TeamOrder, UpdateTeamInput } from './team.types';

@ArgsType()
class TeamListArgs extends ListArgs {
  @Field(() => TeamFilter, { nullable: true, description: 'Conditions the teams must meet.' }) filter?: TeamFilter;
  @Field(() => [TeamOrder], { nullable: true, description: 'Sort keys, in order; default by name.' }) orderBy?: InstanceType<typeof TeamOrder>[];
}

@Resolver(() => Team)
export class TeamResolver {
  constructor(private readonly service: TeamService) {}

  @Authorized('READ')
  @Query(() => Team, { nullable: true, description: 'A team by id.' })
  team(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The team id.' }) id: string): Promise<Team> {
    return this.service.get(ctx.auth, id);
  }

  @Authorized('READ')
  @Query(() => TeamConnection, { description: 'The teams of the workspace.' })
  teams(@Ctx() ctx: RequestContext, @Args(() => TeamListArgs) args: TeamListArgs) {
    return this.service.list(ctx.auth, args);
  }

  @Authorized('ADMIN')
  @Mutation(() => Team, { description: 'Creates a team (ADMIN only).' })
  createTeam(@Ctx() ctx: RequestContext, @Arg('input', () => CreateTeamInput, { description: 'The new team.' }) input: CreateTeamInput): Promise<Team> {
    return this.service.create(ctx.auth, input);
  }

  @Authorized('ADMIN')
  @Mutation(() => Team, { description: 'Renames a team or changes its manager (ADMIN only).' })
  updateTeam(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { description: 'The team id.' }) id: string,
    @Arg('input', () => UpdateTeamInput, { description: 'The changes; omitted fields stay as they are.' }) input: UpdateTeamInput,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'The version you read; if the team changed since, CONFLICT.' }) expectedVersion?: number,
  ): Promise<Team> {
    return this.service.update(ctx.auth, id, input, expectedVersion);
  }

  @FieldResolver(() => User, { nullable: true, description: "The team's manager." })
  manager(@Root() team: Team, @Ctx() ctx: RequestContext): Loaded<User | null> | null {
    return team.managerId ? ctx.loaders.user.get(team.managerId) : null;
  }

  @FieldResolver(() => [User], { description: 'The users of the team.' })
  members(@Root() team: Team, @Ctx() ctx: RequestContext): Loaded<User[]> {
    return ctx.loaders.teamMembers.get(team.id);
  }
}
