import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import type { Loaded } from '../../data/loaders';
import { ListArgs } from '../../graphql/list-args';
import { Team } from '../teams/team.entity';
import { User } from './user.entity';
import type { UserService } from './user.service';
import { CreateUserInput, UpdateUserInput, UserConnection, UserFilter, UserOrder } from './user.types';

@ArgsType()
class UserListArgs extends ListArgs {
  @Field(() => UserFilter, { nullable: true, description: 'Conditions the users must meet.' }) filter?: UserFilter;
  @Field(() => [UserOrder], { nullable: true, description: 'Sort keys, in order; default by name.' }) orderBy?: InstanceType<typeof UserOrder>[];
}

@Resolver(() => User)
export class UserResolver {
  constructor(private readonly service: UserService) {}

  @Authorized('READ')
  @Query(() => User, { nullable: true, description: 'A user of the workspace by id.' })
  user(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The user id.' }) id: string): Promise<User> {
    return this.service.get(ctx.auth, id);
  }

  @Authorized('READ')
  @Query(() => UserConnection, { description: 'The users of the workspace.' })
  users(@Ctx() ctx: RequestContext, @Args(() => UserListArgs) args: UserListArgs) {
    return this.service.list(ctx.auth, args);
  }

  @Authorized('ADMIN')
  @Mutation(() => User, { description: 'Adds a user to the workspace (ADMIN only).' })
  createUser(@Ctx() ctx: RequestContext, @Arg('input', () => CreateUserInput, { description: 'The new user.' }) input: CreateUserInput): Promise<User> {
    return this.service.create(ctx.auth, input);
  }

  @Authorized('WRITE')
  @Mutation(() => User, { description: 'Changes a user: an ADMIN changes anyone, a user their own name, email and password.' })
  updateUser(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { description: 'The user id.' }) id: string,
    @Arg('input', () => UpdateUserInput, { description: 'The changes; omitted fields stay as they are.' }) input: UpdateUserInput,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'The version you read; if the user changed since, CONFLICT and nothing is written.' })
    expectedVersion?: number,
  ): Promise<User> {
    return this.service.update(ctx.auth, id, input, expectedVersion);
  }

  @Authorized('ADMIN')
  @Mutation(() => User, { description: 'Deactivates a user (ADMIN only): they can no longer sign in and their sessions end.' })
  deactivateUser(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The user id.' }) id: string): Promise<User> {
    return this.service.deactivate(ctx.auth, id);
  }

  @FieldResolver(() => Team, { nullable: true, description: 'The team the user belongs to.' })
  team(@Root() user: User, @Ctx() ctx: RequestContext): Loaded<Team | null> | null {
    return user.teamId ? ctx.loaders.team.get(user.teamId) : null;
  }
}
