import { Arg, Authorized, Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { EntityType } from '../../graphql/enums';
import type { ChangeFeedService } from './change-feed.service';
import { Event } from '../../events/event.entity';

@ObjectType({ description: 'A page of the change feed.' })
class ChangeFeed {
  @Field(() => [Event], { description: 'The events, oldest first.' }) events: Event[];
  @Field(() => String, { nullable: true, description: 'Pass as `after` to continue from here (also when the page is empty).' }) endCursor: string | null;
  @Field({ description: 'More events are ready now; when false, poll again later with endCursor.' }) hasMore: boolean;
}

@Resolver()
export class ChangeFeedResolver {
  constructor(private readonly service: ChangeFeedService) {}

  @Authorized('READ')
  @Query(() => ChangeFeed, {
    description: 'Everything that changed, resumable from a cursor: no event is skipped or repeated, whatever the order transactions commit in.',
  })
  changes(
    @Ctx() ctx: RequestContext,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the last page; without it, the feed starts at the oldest retained event.' })
    after?: string,
    @Arg('types', () => [EntityType], { nullable: true, description: 'Only events of these kinds of records.' }) types?: EntityType[],
    @Arg('first', () => Int, { nullable: true, description: 'Page size (default 100, at most 1000).' }) first?: number,
  ): Promise<ChangeFeed> {
    return this.service.changes(ctx.auth, after, types, first);
  }
}
