import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { inWorkspace, type TenantTransaction } from '../../db/tenant-transaction';
import { type ConsumerQuery, LogConsumer } from '../../events/log-consumer';
import { SingleFlight } from '../../kernel/single-flight';
import { systemViewer, SYSTEM_ACTOR } from '../../kernel/viewer';
import type { WebhookEndpointService } from './webhook-endpoint.service';
import type { Logger } from '../../kernel/logger';
import { limitStoredFilters, type RecordFilterService, storedFilterFault } from '../common/record-filter';
import type { ChangeEvent } from '../../events/change-event';
import { matchesPatterns } from '../events/event-patterns';
import { canReadEvent, WEBHOOK_READER } from '../events/event-visibility';

/** Any constant: the advisory lock that lets one instance at a time move the dispatch cursor. */
const DISPATCH_LOCK = 7_466_105_001;

interface ActiveEndpoint {
  workspace_id: string;
  id: string;
  events: string[];
  filter: Record<string, unknown> | null;
  created_at: Date;
}

/**
 * Turns the event log into the webhook outbox: reads new events in commit order after a durable
 * cursor (see LogConsumer: one instance at a time, under the dispatch lock) and adds one PENDING
 * delivery per event and matching endpoint, then moves the cursor. A delivery is unique per endpoint
 * and event, so a crash before the cursor moved means the same deliveries are inserted again and
 * ignored: no event is missed and none is sent twice.
 *
 * A failure is contained where it arose: an endpoint whose stored filter cannot be applied any more
 * is disabled (its admins are told), a workspace whose dispatch fails otherwise is logged and skipped
 * (LogConsumer), and the cursor moves on for everyone else. The workspace transactions here are not
 * gated (see WorkspaceGate) and their statements are limited to STORED_FILTER_TIMEOUT_MS: a tenant
 * cannot make the others wait.
 */
export class WebhookDispatcher {
  private readonly consumer: LogConsumer<ActiveEndpoint[]>;
  private readonly dispatching: SingleFlight;

  constructor(
    private readonly ds: DataSource,
    private readonly filters: RecordFilterService,
    private readonly endpoints: WebhookEndpointService,
    private readonly log: Logger,
    private readonly onDispatched: () => void,
  ) {
    this.consumer = new LogConsumer(ds, log, {
      lockKey: DISPATCH_LOCK,
      cursorTable: 'webhook_dispatch_cursor',
      plan: (query) => this.activeEndpoints(query),
      consumeWorkspace: (workspaceId, wsEvents, wsEndpoints) =>
        inWorkspace(this.ds, workspaceId, (tx) => this.dispatchWorkspace(tx, wsEndpoints, wsEvents), { gated: false }),
      workspaceFailed: 'webhook dispatch failed for one workspace (replayWebhookEvents re-sends its events)',
      afterBatch: (created) => {
        if (created) this.onDispatched();
      },
    });
    this.dispatching = new SingleFlight(async () => (await this.consumer.consumeAll()).made, {
      onError: (err) => this.log.error({ err }, 'webhook dispatch failed'),
    });
  }

  /** Dispatches everything committed so far (a call while one runs makes it go round once more); resolves with the deliveries created. */
  run(): Promise<number> {
    return this.dispatching.run();
  }

  /** Resolves once a dispatch in progress (if any) is done. */
  idle(): Promise<unknown> {
    return this.dispatching.current ?? Promise.resolve();
  }

  /** The active endpoints of every workspace, by workspace: a batch's events are dispatched in the workspaces that have some. */
  private async activeEndpoints(query: ConsumerQuery): Promise<Map<string, ActiveEndpoint[]>> {
    const endpoints = await query<ActiveEndpoint>(`SELECT * FROM worker_active_webhook_endpoints()`);
    const byWorkspace = new Map<string, ActiveEndpoint[]>();
    for (const e of endpoints) byWorkspace.set(e.workspace_id, [...(byWorkspace.get(e.workspace_id) ?? []), e]);
    return byWorkspace;
  }

  /** The deliveries of one workspace's events, in its transaction; an endpoint whose filter fails is disabled, the others go on. */
  private async dispatchWorkspace(tx: TenantTransaction, endpoints: ActiveEndpoint[], wsEvents: ChangeEvent[]): Promise<number> {
    const deliveries: Record<string, unknown>[] = [];
    if (endpoints.some((e) => e.filter)) await limitStoredFilters(tx);
    for (const endpoint of endpoints) {
      // Events from before the endpoint existed are not its business (replayWebhookEvents sends them on
      // request), nor those its workspace's ADMIN could not read (a user's notifications).
      const matching = wsEvents.filter(
        (e) => matchesPatterns(endpoint.events, e.type) && e.occurredAt >= endpoint.created_at && canReadEvent(WEBHOOK_READER, e),
      );
      if (!matching.length) continue;
      let selected: Set<string> | null = null;
      if (endpoint.filter) {
        try {
          selected = await tx.savepoint(() =>
            this.filters.matching(tx, matching[0].entityType, endpoint.filter, [...new Set(matching.map((e) => e.entityId))]),
          );
        } catch (err) {
          // Only the filter's own failure (refused: a custom field it names is gone or changed; too slow) is the endpoint's fault.
          const fault = storedFilterFault(err);
          if (!fault) throw err;
          const reason = `Its filter can no longer be applied: ${fault}`;
          this.log.warn({ workspaceId: tx.workspaceId, endpointId: endpoint.id, reason }, 'webhook endpoint disabled');
          await this.endpoints.disable({ tx, viewer: systemViewer(tx.workspaceId), actor: SYSTEM_ACTOR }, endpoint.id, reason);
          continue;
        }
      }
      for (const e of matching) {
        if (selected && !selected.has(e.entityId)) continue;
        deliveries.push({ id: randomUUID(), endpoint_id: endpoint.id, event_id: e.id, event_tx: e.tx.toString(), event_type: e.type, entity_id: e.entityId });
      }
    }
    if (!deliveries.length) return 0;
    const inserted = await tx.query(
      `INSERT INTO webhook_delivery (workspace_id, id, endpoint_id, event_id, event_tx, event_type, entity_id, status, next_attempt_at)
       SELECT $1, d.id, d.endpoint_id, d.event_id, d.event_tx::xid8, d.event_type, d.entity_id, 'PENDING', now()
       FROM json_to_recordset($2::json) AS d(id uuid, endpoint_id uuid, event_id bigint, event_tx text, event_type text, entity_id uuid)
       ON CONFLICT (workspace_id, endpoint_id, event_id) DO NOTHING
       RETURNING id`,
      [tx.workspaceId, JSON.stringify(deliveries)],
    );
    return inserted.length;
  }
}
