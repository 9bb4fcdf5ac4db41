import { Arg, Authorized, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { ActivityFilter } from '../activities/activity.types';
import { EntityType } from '../../graphql/enums';
import { ChangeEvent } from '../../events/change-event';
import { ImportJob } from '../imports/import-job.entity';
import { Notification } from '../notifications/notification.entity';
import { perEvent } from './live-stream';
import type { RealtimeService } from './realtime.service';
import { ActivityFeedItem } from './realtime.types';

type SubscribeData = { context: RequestContext; args: Record<string, unknown> };

/** The server instance's realtime service, which the WebSocket and SSE layers put in each subscription's context. */
function realtime(context: RequestContext): RealtimeService {
  if (!context.realtime) throw new Error('subscriptions are served over WebSocket and SSE only');
  return context.realtime;
}

/** A stream delivers errors as values (see liveStream): thrown here, they reach the subscriber as GraphQL errors. */
function deliver<T>(payload: T | Error): T {
  if (payload instanceof Error) throw payload;
  return payload;
}

/**
 * The subscriptions (graphql-ws on /graphql, graphql-sse on /graphql/stream). Each source is built by the RealtimeService for the
 * subscriber's workspace and permissions; every event is then resolved with a fresh transaction and
 * fresh loaders (perEvent).
 */
@Resolver()
export class RealtimeResolver {
  @Authorized('READ')
  @Subscription(() => ChangeEvent, {
    description:
      'Events of the workspace as they commit. With `after` (a cursor from here or from `changes`), first every event since, then live: no gap, no duplicate.',
    subscribe: ({ context, args }: SubscribeData) => perEvent(context, realtime(context).recordChanged(context.auth, args)),
  })
  recordChanged(
    @Root() payload: ChangeEvent | Error,
    @Arg('types', () => [EntityType], { nullable: true, description: 'Only events of these kinds of records.' }) _types?: EntityType[],
    @Arg('ids', () => [ID], { nullable: true, description: 'Only events of these records (at most 100).' }) _ids?: string[],
    @Arg('after', () => String, { nullable: true, description: 'Replay every event after this cursor first.' }) _after?: string,
  ): ChangeEvent {
    return deliver(payload);
  }

  @Authorized('READ')
  @Subscription(() => ActivityFeedItem, {
    description: 'Activities created, updated and completed, live, as the filter selects them.',
    subscribe: ({ context, args }: SubscribeData) => perEvent(context, realtime(context).activityFeed(context.auth, args.filter as object | null)),
  })
  activityFeed(
    @Root() payload: ActivityFeedItem | Error,
    @Arg('filter', () => ActivityFilter, { nullable: true, description: 'Which activities (the filter of `activities`).' }) _filter?: ActivityFilter,
  ): ActivityFeedItem {
    return deliver(payload);
  }

  @Authorized()
  @Subscription(() => Notification, {
    description: "The signed-in user's notifications as they arrive (users only).",
    subscribe: ({ context }: SubscribeData) => perEvent(context, realtime(context).notificationReceived(context.auth)),
  })
  notificationReceived(@Root() payload: Notification | Error): Notification {
    return deliver(payload);
  }

  @Authorized('READ')
  @Subscription(() => ImportJob, {
    description: 'An import job now, then after each batch it processes; ends once it has completed or failed.',
    subscribe: async ({ context, args }: SubscribeData) => perEvent(context, await realtime(context).importJobProgress(context.auth, args.id as string)),
  })
  importJobProgress(@Root() payload: ImportJob | Error, @Arg('id', () => ID, { description: 'The job id.' }) _id: string): ImportJob {
    return deliver(payload);
  }
}
