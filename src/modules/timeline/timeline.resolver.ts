import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { ConnectionType } from '../../data/connection';
import type { RequestContext } from '../../data/context';
import { Event } from '../../events/event.entity';
import type { TimelineService } from './timeline.service';

const EventConnection = ConnectionType(Event);

@Resolver()
export class TimelineResolver {
  constructor(private readonly service: TimelineService) {}

  @Authorized('READ')
  @Query(() => EventConnection, { description: 'Everything that happened to a record (and the activities about it), newest first.' })
  timeline(
    @Ctx() ctx: RequestContext,
    @Arg('recordId', () => ID, { description: 'Any record id.' }) recordId: string,
    @Arg('first', () => Int, { nullable: true, description: 'Page size (default 50, at most 1000).' }) first?: number,
    @Arg('after', () => String, { nullable: true, description: 'Continue after this cursor.' }) after?: string,
  ) {
    return this.service.timeline(ctx.auth, recordId, first, after);
  }
}
