import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { inWorkspace, type TenantTransaction } from '../../db/tenant-transaction';
import { isTransient } from '../../db/unavailable';
import { systemViewer } from '../auth/viewer';
import { SYSTEM_ACTOR } from '../events/event.service';
import type { WebhookEndpointService } from './webhook-endpoint.service';
import type { Logger } from '../../kernel/logger';
import { limitStoredFilters, type RecordFilterService, storedFilterFault } from '../common/record-filter';
import { type ChangeEvent, changeEventMapper } from '../events/change-event';
import { matchesPatterns } from '../events/event-patterns';
import { canReadEvent, WEBHOOK_READER } from '../events/event-visibility';

/** Any constant: the advisory lock that lets one instance at a time move the dispatch cursor. */
const DISPATCH_LOCK = 7_466_105_001;
const BATCH = 500;

interface ActiveEndpoint {
  workspace_id: string;
  id: string;
  events: string[];
  filter: Record<string, unknown> | null;
  created_at: Date;
}

/**
 * Turns the event log into the webhook outbox: reads new events in commit order after a durable
 * cursor and adds one PENDING delivery per event and matching endpoint, then moves the cursor.
 *
 * One instance at a time holds the dispatch lock (a session advisory lock, released if its process
 * dies). The cursor moves only after the deliveries are committed, and a delivery is unique per
 * endpoint and event, so a crash in between means the same deliveries are inserted again and
 * ignored: no event is missed and none is sent twice.
 *
 * The batch holds every workspace's events, so a failure is contained where it arose: an endpoint
 * whose stored filter cannot be applied any more is disabled (its admins are told), a workspace
 * whose dispatch fails otherwise is logged and skipped, and the cursor moves on for everyone else.
 * Only a transient failure (the database out or short of something, a deadlock) holds the cursor
 * back, to try the batch again. The workspace transactions here are not gated (see WorkspaceGate) and
 * their statements are limited to STORED_FILTER_TIMEOUT_MS: a tenant cannot make the others wait.
 */
export class WebhookDispatcher {
  private running?: Promise<number>;
  private again = false;

  constructor(
    private readonly ds: DataSource,
    private readonly filters: RecordFilterService,
    private readonly endpoints: WebhookEndpointService,
    private readonly log: Logger,
    private readonly onDispatched: () => void,
  ) {}

  /** Dispatches everything committed so far (a call while one runs makes it go round once more). */
  run(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let total = 0;
      try {
        do {
          this.again = false;
          total += await this.dispatchAll();
        } while (this.again);
      } catch (err) {
        this.log.error({ err }, 'webhook dispatch failed');
      } finally {
        this.running = undefined;
      }
      return total;
    })();
    return this.running;
  }

  /** Resolves once a dispatch in progress (if any) is done. */
  idle(): Promise<unknown> {
    return this.running ?? Promise.resolve();
  }

  private async dispatchAll(): Promise<number> {
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    try {
      const [lock] = await runner.query(`SELECT pg_try_advisory_lock(${DISPATCH_LOCK}) AS ok`);
      if (!lock.ok) return 0; // another instance is dispatching
      try {
        let total = 0;
        for (;;) {
          const [cursor] = await runner.query(`SELECT tx::text AS tx, seq::text AS seq FROM webhook_dispatch_cursor WHERE id = 1`);
          const rows: Record<string, unknown>[] = await runner.query(`SELECT e.*, e.tx_id::text AS tx FROM worker_events_after($1::xid8, $2::bigint, $3) e`, [cursor.tx, cursor.seq, BATCH]);
          if (!rows.length) return total;
          const events = rows.map(changeEventMapper(this.ds));
          const created = await this.dispatch(runner.query.bind(runner), events);
          const last = events[events.length - 1];
          await runner.query(`UPDATE webhook_dispatch_cursor SET tx = $1::xid8, seq = $2 WHERE id = 1`, [last.tx.toString(), last.id]);
          total += created;
          if (created) this.onDispatched();
          if (rows.length < BATCH) return total;
        }
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(${DISPATCH_LOCK})`);
      }
    } finally {
      await runner.release();
    }
  }

  private async dispatch(query: (sql: string) => Promise<ActiveEndpoint[]>, events: ChangeEvent[]): Promise<number> {
    const endpoints = await query(`SELECT * FROM worker_active_webhook_endpoints()`);
    if (!endpoints.length) return 0;
    const byWorkspace = new Map<string, ActiveEndpoint[]>();
    for (const e of endpoints) byWorkspace.set(e.workspace_id, [...(byWorkspace.get(e.workspace_id) ?? []), e]);
    let created = 0;
    const eventsByWorkspace = new Map<string, ChangeEvent[]>();
    for (const e of events) if (byWorkspace.has(e.workspaceId)) eventsByWorkspace.set(e.workspaceId, [...(eventsByWorkspace.get(e.workspaceId) ?? []), e]);
    for (const [workspaceId, wsEvents] of eventsByWorkspace) {
      try {
        created += await inWorkspace(this.ds, workspaceId, (tx) => this.dispatchWorkspace(tx, byWorkspace.get(workspaceId)!, wsEvents), { gated: false });
      } catch (err) {
        // The database out or short of something (isTransient): the cursor waits, and the batch is tried again.
        if (isTransient(err)) throw err;
        // Anything else is this workspace's alone: the others' deliveries and the cursor go on.
        this.log.error({ err, workspaceId, fromEvent: wsEvents[0].id, toEvent: wsEvents[wsEvents.length - 1].id }, 'webhook dispatch failed for one workspace (replayWebhookEvents re-sends its events)');
      }
    }
    return created;
  }

  /** The deliveries of one workspace's events, in its transaction; an endpoint whose filter fails is disabled, the others go on. */
  private async dispatchWorkspace(tx: TenantTransaction, endpoints: ActiveEndpoint[], wsEvents: ChangeEvent[]): Promise<number> {
    const deliveries: Record<string, unknown>[] = [];
    if (endpoints.some((e) => e.filter)) await limitStoredFilters(tx);
    for (const endpoint of endpoints) {
      // Events from before the endpoint existed are not its business (replayWebhookEvents sends them on
      // request), nor those its workspace's ADMIN could not read (a user's notifications).
      const matching = wsEvents.filter((e) => matchesPatterns(endpoint.events, e.type) && e.occurredAt >= endpoint.created_at && canReadEvent(WEBHOOK_READER, e));
      if (!matching.length) continue;
      let selected: Set<string> | null = null;
      if (endpoint.filter) {
        try {
          selected = await tx.savepoint(() => this.filters.matching(tx, matching[0].entityType, endpoint.filter, [...new Set(matching.map((e) => e.entityId))]));
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
