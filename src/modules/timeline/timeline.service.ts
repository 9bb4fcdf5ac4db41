import { rowMapper } from '../../data/hydrate';
import { isUuid } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { type ConnectionBase, paginate, SortDirection } from '../../data/connection';
import { notFound } from '../../kernel/errors';
import { col, type EntitySpec } from '../../data/sql';
import { Event } from '../../events/event.entity';
import { readableEventsSql, readerOf } from '../events/event-visibility';

const EVENT_SPEC: EntitySpec = {
  table: 'event',
  softDelete: false,
  fields: { id: col('id', 'bigint'), type: col('type', 'text'), entityType: col('entity_type', 'text'), occurredAt: col('occurred_at', 'timestamptz') },
};

/**
 * Everything that happened to a record, newest first: its own events and those of the activities
 * about it; for an account, also the activities of its contacts and opportunities.
 */
export class TimelineService {
  async timeline(ctx: ServiceContext, recordId: string, first?: number | null, after?: string | null): Promise<ConnectionBase<Event>> {
    if (!isUuid(recordId)) throw notFound('Record');
    // Only the events the viewer may read (see event-visibility.ts): a record with none is not found.
    const reader = readerOf(ctx.viewer);
    const params: unknown[] = [ctx.tx.workspaceId, recordId];
    const readable = readableEventsSql(reader, 'e', (v) => `$${params.push(v)}`);
    const exists = await ctx.tx.one(`SELECT 1 FROM event e WHERE e.workspace_id = $1 AND e.entity_id = $2 AND ${readable} LIMIT 1`, params);
    if (!exists) throw notFound('Record');
    return paginate<Event>({
      tx: ctx.tx,
      spec: EVENT_SPEC,
      first,
      after,
      defaultOrder: [{ field: 'ID', direction: SortDirection.DESC }],
      where: (p) => {
        const rid = p.add(recordId);
        return `${readableEventsSql(reader, 't', (v) => p.add(v))} AND (t.entity_id = ${rid}::uuid OR t.entity_id IN (
          SELECT a.id FROM activity a WHERE a.workspace_id = t.workspace_id AND (
            a.account_id = ${rid}::uuid OR a.contact_id = ${rid}::uuid OR a.lead_id = ${rid}::uuid OR a.opportunity_id = ${rid}::uuid
            OR a.contact_id IN (SELECT c.id FROM contact c WHERE c.workspace_id = t.workspace_id AND c.account_id = ${rid}::uuid)
            OR a.opportunity_id IN (SELECT o.id FROM opportunity o WHERE o.workspace_id = t.workspace_id AND o.account_id = ${rid}::uuid))))`;
      },
      map: rowMapper(ctx.tx.dataSource, Event),
    });
  }
}
