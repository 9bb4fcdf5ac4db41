import { rowMapper } from '../../db/hydrate';
import { isUuid } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../graphql/context';
import { type ConnectionBase, paginate, SortDirection } from '../../graphql/connection';
import { notFound } from '../../graphql/errors';
import { col, type EntitySpec } from '../../graphql/sql';
import { Event } from '../events/event.entity';

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
    const exists = await ctx.tx.one('SELECT 1 FROM event WHERE workspace_id = $1 AND entity_id = $2 LIMIT 1', [ctx.tx.workspaceId, recordId]);
    if (!exists) throw notFound('Record');
    return paginate<Event>({
      tx: ctx.tx,
      spec: EVENT_SPEC,
      first,
      after,
      defaultOrder: [{ field: 'ID', direction: SortDirection.DESC }],
      where: (p) => {
        const rid = p.add(recordId);
        return `(t.entity_id = ${rid}::uuid OR t.entity_id IN (
          SELECT a.id FROM activity a WHERE a.workspace_id = t.workspace_id AND (
            a.account_id = ${rid}::uuid OR a.contact_id = ${rid}::uuid OR a.lead_id = ${rid}::uuid OR a.opportunity_id = ${rid}::uuid
            OR a.contact_id IN (SELECT c.id FROM contact c WHERE c.workspace_id = t.workspace_id AND c.account_id = ${rid}::uuid)
            OR a.opportunity_id IN (SELECT o.id FROM opportunity o WHERE o.workspace_id = t.workspace_id AND o.account_id = ${rid}::uuid))))`;
      },
      map: rowMapper(ctx.tx.dataSource, Event),
    });
  }
}
