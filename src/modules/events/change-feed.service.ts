import type { ServiceContext } from '../../data/context';
import { AppError, badField } from '../../kernel/errors';
import type { EntityType } from '../../graphql/enums';
import { type ChangeEvent, changeEventMapper, feedCursor } from '../../events/change-event';
import { type EventReader, readableEventsSql, readerOf } from './event-visibility';

const MAX_PAGE = 1000;

interface ChangePage {
  events: ChangeEvent[];
  endCursor: string | null;
  hasMore: boolean;
}

/**
 * The change feed: the event log in a total order that never skips an event.
 *
 * Event ids come from a sequence, so a transaction may commit an id lower than one already read
 * (it took its id first, committed last). The feed therefore orders by (transaction id, event id) and
 * shows only events of transactions older than the oldest one still running (`pg_snapshot_xmin`):
 * those are all finished, and any event that becomes visible later belongs to a newer transaction,
 * so it sorts after every cursor already handed out.
 */
export class ChangeFeedService {
  constructor(private readonly retentionDays: number) {}

  /** A page of the events `reader` (by default the viewer) may read: see event-visibility.ts. */
  async changes(
    ctx: ServiceContext,
    after?: string | null,
    types?: readonly EntityType[] | null,
    first?: number | null,
    entityIds?: readonly string[] | null,
    reader: EventReader = readerOf(ctx.viewer),
  ): Promise<ChangePage> {
    const limit = first ?? 100;
    if (limit < 1 || limit > MAX_PAGE) throw badField('first', `must be between 1 and ${MAX_PAGE}`);
    const cursor = after ? this.decode(after) : null;
    const params: unknown[] = [ctx.tx.workspaceId];
    const conds = ['e.workspace_id = $1', 'e.tx_id < pg_snapshot_xmin(pg_current_snapshot())'];
    if (cursor) {
      params.push(cursor.tx, cursor.id);
      conds.push(`(e.tx_id, e.id) > ($2::xid8, $3::bigint)`);
    } else {
      params.push(this.retentionDays);
      conds.push(`e.occurred_at > now() - make_interval(days => $2)`);
    }
    if (types?.length) {
      params.push(types);
      conds.push(`e.entity_type = ANY($${params.length}::text[])`);
    }
    if (entityIds?.length) {
      params.push(entityIds);
      conds.push(`e.entity_id = ANY($${params.length}::uuid[])`);
    }
    conds.push(readableEventsSql(reader, 'e', (v) => `$${params.push(v)}`));
    const rows = await ctx.tx.query(
      `SELECT e.*, e.tx_id::text AS tx FROM event e WHERE ${conds.join(' AND ')} ORDER BY e.tx_id, e.id LIMIT ${limit + 1}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      events: page.map(changeEventMapper(ctx.tx.dataSource)),
      endCursor: last ? feedCursor(last.tx as string, last.id as string, last.occurred_at as Date) : (after ?? null),
      hasMore: rows.length > limit,
    };
  }

  /** Checks a cursor (format and retention) and returns the position it stands for. */
  decode(cursor: string): { tx: string; id: string } {
    const m = /^(\d{1,20}):(\d{1,19}):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!m) throw badField('after', 'is not a change feed cursor');
    if (Number(m[3]) < Date.now() - this.retentionDays * 86_400_000) {
      throw new AppError(
        'BAD_USER_INPUT',
        `This cursor is older than the ${this.retentionDays}-day retention of the change feed: resynchronise, then follow the feed from a new cursor`,
        {
          reason: 'CURSOR_EXPIRED',
          fields: [{ field: 'after', message: 'expired' }],
        },
      );
    }
    return { tx: m[1], id: m[2] };
  }
}
