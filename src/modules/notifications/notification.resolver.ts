import { Arg, Authorized, Ctx, Extensions, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { Notification } from './notification.entity';
import { MAX_NOTIFICATIONS, type NotificationService } from './notification.service';
import { LIST_CAP } from '../../graphql/list-cost';

@Resolver(() => Notification)
export class NotificationResolver {
  constructor(private readonly service: NotificationService) {}

  @Authorized()
  @Query(() => [Notification], { description: "The signed-in user's notifications, newest first (the latest 200)." })
  @Extensions({ [LIST_CAP]: MAX_NOTIFICATIONS })
  notifications(
    @Ctx() ctx: RequestContext,
    @Arg('unreadOnly', () => Boolean, { nullable: true, description: 'Only those not yet marked read.' }) unreadOnly?: boolean,
  ): Promise<Notification[]> {
    return this.service.list(ctx.auth, unreadOnly);
  }

  @Authorized()
  @Mutation(() => Int, {
    description: "Marks the signed-in user's notifications read; returns how many were unread. Ids of other users' notifications are ignored.",
  })
  markNotificationsRead(
    @Ctx() ctx: RequestContext,
    @Arg('ids', () => [ID], { description: 'Notification ids (at most 1000).' }) ids: string[],
  ): Promise<number> {
    return this.service.markRead(ctx.auth, ids);
  }
}
