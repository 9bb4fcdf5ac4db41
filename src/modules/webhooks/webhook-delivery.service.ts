import { randomUUID } from 'node:crypto';
import { rowMapper } from '../../data/hydrate';
import { isUuid } from '../../db/tenant-transaction';
import { type ConnectionBase, paginate, SortDirection } from '../../data/connection';
import type { ServiceContext } from '../../data/context';
import { badField, notFound } from '../../kernel/errors';
import { col, type EntitySpec } from '../../data/sql';
import type { RecordFilterService } from '../common/record-filter';
import type { ChangeFeedService } from '../events/change-feed.service';
import { recordEvent } from '../../data/event-log';
import { getById } from '../../data/record-store';
import { type DeliveryStatus, WebhookDelivery } from './webhook-delivery.entity';
import type { WebhookEndpoint } from './webhook-endpoint.entity';
import { matchesPatterns } from '../events/event-patterns';
import { WEBHOOK_READER } from '../events/event-visibility';
import type { WebhookEndpointService } from './webhook-endpoint.service';

const DELIVERY_SPEC: EntitySpec = {
  table: 'webhook_delivery',
  softDelete: false,
  fields: { id: col('id', 'uuid'), createdAt: col('created_at', 'timestamptz') },
};

/** Events replayed per call at most; the answer says how many were scheduled. */
const MAX_REPLAY = 10_000;
const REPLAY_PAGE = 1000;

/** The delivery log of the workspace's endpoints, and sending again on request (ADMIN only). */
export class WebhookDeliveryService {
  constructor(
    private readonly endpoints: WebhookEndpointService,
    private readonly changeFeed: ChangeFeedService,
    private readonly filters: RecordFilterService,
    private readonly wake: () => void,
  ) {}

  async list(
    ctx: ServiceContext,
    args: { endpointId?: string | null; status?: DeliveryStatus | null; first?: number | null; after?: string | null },
  ): Promise<ConnectionBase<WebhookDelivery>> {
    if (args.endpointId != null) await this.endpoints.get(ctx, args.endpointId);
    else await this.endpoints.list(ctx); // the ADMIN check
    return paginate<WebhookDelivery>({
      tx: ctx.tx,
      spec: DELIVERY_SPEC,
      first: args.first ?? 50,
      after: args.after ?? undefined,
      defaultOrder: [{ field: 'CREATED_AT', direction: SortDirection.DESC }],
      where: (p) =>
        [args.endpointId ? `t.endpoint_id = ${p.add(args.endpointId)}::uuid` : 'TRUE', args.status ? `t.status = ${p.add(args.status)}` : 'TRUE'].join(' AND '),
      map: rowMapper(ctx.tx.dataSource, WebhookDelivery),
    });
  }

  /** One delivery of the log, as `webhookDeliveries` lists it (ADMIN only). */
  async get(ctx: ServiceContext, id: string): Promise<WebhookDelivery> {
    await this.endpoints.list(ctx); // the ADMIN check
    return getById(ctx, 'webhook_delivery', WebhookDelivery, 'Webhook delivery', id);
  }

  /** Sends a delivery again, from the start of the retry schedule, whatever its status. */
  async redeliver(ctx: ServiceContext, deliveryId: string): Promise<WebhookDelivery> {
    await this.endpoints.list(ctx); // the ADMIN check
    if (!isUuid(deliveryId)) throw notFound('Webhook delivery');
    return ctx.tx.savepoint(() => this.resetDelivery(ctx, deliveryId));
  }

  private async resetDelivery(ctx: ServiceContext, deliveryId: string): Promise<WebhookDelivery> {
    const row = await ctx.tx.one(
      `UPDATE webhook_delivery SET status = 'PENDING', attempts = 0, next_attempt_at = now(), leased_until = NULL, updated_at = now()
       WHERE workspace_id = $1 AND id = $2 RETURNING *`,
      [ctx.tx.workspaceId, deliveryId],
    );
    if (!row) throw notFound('Webhook delivery');
    await recordEvent(ctx.tx, {
      type: 'webhook_endpoint.redelivery_requested',
      entityType: 'webhook_endpoint',
      entityId: row.endpoint_id as string,
      actor: ctx.actor,
      data: { deliveryId, eventId: String(row.event_id) },
    });
    ctx.tx.afterCommit(this.wake);
    return rowMapper(ctx.tx.dataSource, WebhookDelivery)(row);
  }

  /**
   * Sends the endpoint's events after `after` (a change feed cursor) again, as its patterns and
   * filter select them now; events already delivered go out once more with their webhook-id.
   */
  async replay(ctx: ServiceContext, endpointId: string, after: string): Promise<number> {
    const endpoint = await this.endpoints.get(ctx, endpointId);
    if (!after) throw badField('after', 'give the cursor to replay from');
    return ctx.tx.savepoint(() => this.schedule(ctx, endpoint, after));
  }

  private async schedule(ctx: ServiceContext, endpoint: WebhookEndpoint, after: string): Promise<number> {
    let cursor = after;
    let scheduled = 0;
    for (let seen = 0; seen < MAX_REPLAY;) {
      const page = await this.changeFeed.changes(ctx, cursor, null, REPLAY_PAGE, null, WEBHOOK_READER);
      seen += page.events.length;
      const matching = page.events.filter((e) => matchesPatterns(endpoint.events, e.type));
      const selected =
        endpoint.filter && matching.length
          ? await this.filters.matching(ctx.tx, matching[0].entityType, endpoint.filter, [...new Set(matching.map((e) => e.entityId))])
          : null;
      const rows = matching
        .filter((e) => !selected || selected.has(e.entityId))
        .map((e) => ({ id: randomUUID(), event_id: e.id, event_tx: e.tx.toString(), event_type: e.type, entity_id: e.entityId }));
      if (rows.length) {
        const done = await ctx.tx.query(
          `INSERT INTO webhook_delivery (workspace_id, id, endpoint_id, event_id, event_tx, event_type, entity_id, status, next_attempt_at)
           SELECT $1, d.id, $2, d.event_id, d.event_tx::xid8, d.event_type, d.entity_id, 'PENDING', now()
           FROM json_to_recordset($3::json) AS d(id uuid, event_id bigint, event_tx text, event_type text, entity_id uuid)
           ON CONFLICT (workspace_id, endpoint_id, event_id) DO UPDATE SET status = 'PENDING', attempts = 0, next_attempt_at = now(), leased_until = NULL, updated_at = now()
           RETURNING id`,
          [ctx.tx.workspaceId, endpoint.id, JSON.stringify(rows)],
        );
        scheduled += done.length;
      }
      if (!page.hasMore || !page.endCursor) break;
      cursor = page.endCursor;
    }
    await recordEvent(ctx.tx, {
      type: 'webhook_endpoint.replay_requested',
      entityType: 'webhook_endpoint',
      entityId: endpoint.id,
      actor: ctx.actor,
      data: { after, scheduled },
    });
    ctx.tx.afterCommit(this.wake);
    return scheduled;
  }
}
