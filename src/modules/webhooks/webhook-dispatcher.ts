import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { inWorkspace } from '../../db/tenant-transaction';
import type { Logger } from '../../logger';
import type { RecordFilterService } from '../common/record-filter';
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
 */
export class WebhookDispatcher {
  private running?: Promise<number>;
  private again = false;

  constructor(
    private readonly ds: DataSource,
    private readonly filters: RecordFilterService,
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
      created += await inWorkspace(this.ds, workspaceId, async (tx) => {
        const deliveries: Record<string, unknown>[] = [];
        for (const endpoint of byWorkspace.get(workspaceId)!) {
          // Events from before the endpoint existed are not its business (replayWebhookEvents sends them on
          // request), nor those its workspace's ADMIN could not read (a user's notifications).
          const matching = wsEvents.filter((e) => matchesPatterns(endpoint.events, e.type) && e.occurredAt >= endpoint.created_at && canReadEvent(WEBHOOK_READER, e));
          if (!matching.length) continue;
          const selected = endpoint.filter
            ? await this.filters.matching(tx, matching[0].entityType, endpoint.filter, [...new Set(matching.map((e) => e.entityId))])
            : null;
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
          [workspaceId, JSON.stringify(deliveries)],
        );
        return inserted.length;
      });
    }
    return created;
  }
}
