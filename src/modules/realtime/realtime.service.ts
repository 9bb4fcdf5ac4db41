import type { DataSource } from 'typeorm';
import { inWorkspace, isUuid } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { badField } from '../../kernel/errors';
import type { Activity } from '../activities/activity.entity';
import type { ActivityService } from '../activities/activity.service';
import { actorOf, type Viewer } from '../../kernel/viewer';
import type { EntityType } from '../../graphql/enums';
import { type ChangeEvent, isAfter } from '../../events/change-event';
import type { ChangeFeedService } from '../events/change-feed.service';
import { canReadEvent, readerOf } from '../events/event-visibility';
import { ImportStatus, type ImportJob } from '../imports/import-job.entity';
import type { ImportService } from '../imports/import.service';
import type { Notification } from '../notifications/notification.entity';
import { notificationFromData } from '../notifications/notification.descriptor';
import { inboxOf } from '../notifications/notification.service';
import type { EventBus } from '../../events/event-bus';
import { type DirectSink, liveStream } from './live-stream';

declare module '../../data/context' {
  interface RequestContext {
    /** For subscriptions (set by the WebSocket and SSE layers): this server instance's event sources. */
    realtime?: RealtimeService;
    /** For subscriptions: what takes the source's values past the iterator (set by shared-execution.ts, attached by perEvent). */
    directSink?: DirectSink<unknown>;
  }
}
import { ActivityFeedAction, ActivityFeedItem } from './realtime.types';

const MAX_IDS = 100;
const REPLAY_PAGE = 500;
/** Live events held back while a subscriber replays; past this, it replays once more instead. */
const REPLAY_BUFFER = 10_000;

const FEED_ACTIONS: Record<string, ActivityFeedAction> = {
  'activity.created': ActivityFeedAction.CREATED,
  'activity.updated': ActivityFeedAction.UPDATED,
  'activity.completed': ActivityFeedAction.COMPLETED,
};

interface RecordChangedArgs {
  types?: EntityType[] | null;
  ids?: string[] | null;
  after?: string | null;
}

/**
 * The subscriptions' sources. Each one listens to its workspace on the event bus (so a subscriber
 * never sees another workspace's events), and reads anything else it needs in a transaction of its
 * own in that workspace, with the subscriber's permissions, like a request would.
 */
export class RealtimeService {
  /** Per bus batch, the feed items of each distinct filter: shared by the workspace's subscribers. */
  private readonly feedCache = new WeakMap<readonly ChangeEvent[], Map<string, Promise<ActivityFeedItem[]>>>();

  constructor(
    private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly changeFeed: ChangeFeedService,
    private readonly activities: ActivityService,
    private readonly imports: ImportService,
    private readonly maxQueue: number,
  ) {}

  /**
   * The workspace's events as they commit. With `after`, first every event after that cursor from the
   * log, then live: live events that arrive during the replay wait, and only those past the replay's
   * last position are passed on, so there is no gap and no duplicate at the seam.
   */
  recordChanged(ctx: ServiceContext, args: RecordChangedArgs): AsyncIterable<ChangeEvent | Error> {
    if (args.ids && args.ids.length > MAX_IDS) throw badField('ids', `at most ${MAX_IDS}`);
    const ids = args.ids?.length ? new Set(args.ids.filter(isUuid)) : null;
    if (ids && ids.size === 0) throw badField('ids', 'no valid id');
    const types = args.types?.length ? new Set<string>(args.types) : null;
    const start = args.after ? this.changeFeed.decode(args.after) : null;
    const { viewer } = ctx;
    // The replay reads through the change feed, which applies the same rule in its query.
    const reader = readerOf(viewer);
    const matches = (e: ChangeEvent) => (!types || types.has(e.entityType)) && (!ids || ids.has(e.entityId)) && canReadEvent(reader, e);

    return liveStream<ChangeEvent>(this.maxQueue, (emit) => {
      let last = start ? { tx: BigInt(start.tx), seq: BigInt(start.id) } : this.bus.current;
      let live = !start;
      let held: ChangeEvent[] = [];
      let overflowed = false;
      const unsubscribe = this.bus.subscribe(viewer.workspaceId, (events) => {
        for (const e of events) {
          if (!matches(e)) continue;
          if (live) {
            if (!isAfter(e, last)) continue;
            last = e;
            emit.push(e);
          } else if (!overflowed) {
            held.push(e);
            if (held.length > REPLAY_BUFFER) [held, overflowed] = [[], true];
          }
        }
      });
      if (start) {
        void (async () => {
          let cursor = args.after!;
          for (;;) {
            [held, overflowed] = [[], false];
            for (let more = true; more;) {
              const page = await inWorkspace(this.ds, viewer.workspaceId, (tx) =>
                this.changeFeed.changes({ tx, viewer, actor: actorOf(viewer) }, cursor, args.types, REPLAY_PAGE, ids ? [...ids] : null),
              );
              for (const e of page.events) {
                if (emit.closed) return;
                last = e;
                await emit.pushAndWait(e);
              }
              cursor = page.endCursor ?? cursor;
              more = page.hasMore;
            }
            if (overflowed) continue;
            // No await from here on: live events cannot slip in between the flush and going live.
            for (const e of held) {
              if (!isAfter(e, last)) continue;
              last = e;
              emit.push(e);
            }
            held = [];
            live = true;
            return;
          }
        })().catch((err: Error) => emit.fail(err));
      }
      return unsubscribe;
    });
  }

  /** Activities created, updated or completed, as the filter selects them, in the order they happened. */
  activityFeed(ctx: ServiceContext, filter: object | null | undefined): AsyncIterable<ActivityFeedItem | Error> {
    const { viewer } = ctx;
    const filterKey = JSON.stringify(filter ?? null);
    return liveStream<ActivityFeedItem>(this.maxQueue, (emit) => {
      let chain = Promise.resolve();
      const unsubscribe = this.bus.subscribe(viewer.workspaceId, (events) => {
        if (!events.some((e) => FEED_ACTIONS[e.type])) return;
        const items = this.feedItems(viewer, events, filter, filterKey);
        chain = chain
          .then(async () => {
            for (const item of await items) if (!emit.closed) emit.push(item);
          })
          .catch((err: Error) => emit.fail(err));
      });
      return unsubscribe;
    });
  }

  /**
   * The feed items of a bus batch for one filter, made once for all the workspace's subscribers with
   * that filter (the same objects, so that their execution is shared too: see shared-execution.ts).
   * Every role reads every activity of its workspace, so the answer is the same for each of them.
   */
  private feedItems(viewer: Viewer, events: readonly ChangeEvent[], filter: object | null | undefined, key: string): Promise<ActivityFeedItem[]> {
    let perFilter = this.feedCache.get(events);
    if (!perFilter) this.feedCache.set(events, (perFilter = new Map()));
    let hit = perFilter.get(key);
    if (!hit) {
      const feedEvents = events.filter((e) => FEED_ACTIONS[e.type]);
      const ids = [...new Set(feedEvents.map((e) => e.entityId))];
      hit = inWorkspace(this.ds, viewer.workspaceId, async (tx) => {
        const ctx = { tx, viewer, actor: actorOf(viewer) };
        const found = new Map<string, Activity>();
        for (let i = 0; i < ids.length; i += REPLAY_PAGE) {
          const chunk = ids.slice(i, i + REPLAY_PAGE);
          const page = await this.activities.list(ctx, { filter, first: chunk.length }, (p) => `t.id = ANY(${p.add(chunk)}::uuid[])`);
          for (const edge of page.edges) found.set(edge.node.id, edge.node);
        }
        return feedEvents
          .filter((e) => found.has(e.entityId))
          .map((e) =>
            Object.assign(new ActivityFeedItem(), {
              action: FEED_ACTIONS[e.type],
              activity: found.get(e.entityId)!,
              changes: e.changes,
              actor: e.actor(),
              occurredAt: e.occurredAt,
              cursor: e.cursor,
            }),
          );
      });
      perFilter.set(key, hit);
    }
    return hit;
  }

  /** The viewer's new notifications (users only: an API key has no inbox). */
  notificationReceived(ctx: ServiceContext): AsyncIterable<Notification | Error> {
    const userId = inboxOf(ctx.viewer);
    const workspaceId = ctx.viewer.workspaceId;
    return liveStream<Notification>(this.maxQueue, (emit) =>
      this.bus.subscribe(workspaceId, (events) => {
        for (const e of events) {
          if (e.type === 'notification.created' && e.data?.userId === userId) emit.push(notificationFromData(workspaceId, e.data));
        }
      }),
    );
  }

  /** The job now, then after every step it takes, until it has COMPLETED or FAILED. */
  async importJobProgress(ctx: ServiceContext, id: string): Promise<AsyncIterable<ImportJob | Error>> {
    const initial = await this.imports.get(ctx, id);
    const { viewer } = ctx;
    const done = (job: ImportJob) => job.status === ImportStatus.COMPLETED || job.status === ImportStatus.FAILED;
    return liveStream<ImportJob>(this.maxQueue, async (emit) => {
      let chain: Promise<unknown> = emit.pushAndWait(initial);
      if (done(initial)) {
        void chain.then(() => emit.complete());
        return () => undefined;
      }
      const unsubscribe = this.bus.subscribe(viewer.workspaceId, (events) => {
        if (!events.some((e) => e.entityType === 'import_job' && e.entityId === id)) return;
        chain = chain
          .then(async () => {
            if (emit.closed) return;
            const job = await inWorkspace(this.ds, viewer.workspaceId, (tx) => this.imports.get({ tx, viewer, actor: actorOf(viewer) }, id));
            await emit.pushAndWait(job);
            if (done(job)) emit.complete();
          })
          .catch((err: Error) => emit.fail(err));
      });
      return unsubscribe;
    });
  }
}
