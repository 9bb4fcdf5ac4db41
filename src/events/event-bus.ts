import { Client } from 'pg';
import { isStopping } from '../kernel/lifecycle';
import type { DataSource } from 'typeorm';
import type { Logger } from '../kernel/logger';
import { type ChangeEvent, changeEventMapper } from './change-event';

type BusListener = (events: readonly ChangeEvent[]) => void;

interface EventBusOptions {
  /** Events read per query. */
  batchSize: number;
  /** A read every so often even without a notification (one lost while reconnecting, say). */
  pollMs: number;
}

const RETRY_MS = [10, 25, 50, 100, 250, 500];
const RECONNECT_MAX_MS = 5_000;
const NOTIFIED_TTL_MS = 30_000;
/**
 * Listeners called before other work gets a turn. Each call sets off that subscriber's delivery
 * (execution, serialisation, the socket write) in the same turn: with a thousand subscribers of one
 * workspace, slices of 500 held the event loop so long that the workspace's own writes held their
 * connections for seconds and were refused (bench:realtime, one workspace: write p99 29 ms alone,
 * 8.9 s beside the fan-out; with slices of 20, tens of milliseconds). Subscribers fall behind instead.
 */
const DISPATCH_SLICE = 20;

/**
 * Follows the event log of every workspace, in commit order, and hands each workspace's new events
 * to that workspace's listeners: the fan-out behind subscriptions, one per server instance.
 *
 * One dedicated connection LISTENs on `trellis_events`; a notification only says "events up to id n
 * committed", and the bus then reads what is new since its position, in batches. The order and the
 * visibility rule are the change feed's (transaction id, then event id; only transactions older than
 * the oldest one running), so a position never has an event appear behind it, and a subscriber can
 * switch from replaying the feed to the live stream without a gap or a duplicate.
 *
 * A notified event may not be readable yet (an older transaction is still running): the bus retries
 * shortly after, with a backoff, until it has seen it. A connection lost is re-established and the bus
 * reads on from its position, so nothing committed in between is missed.
 */
export class EventBus {
  private client?: Client;
  private position = { tx: 0n, seq: 0n };
  private readonly listeners = new Map<string, Set<BusListener>>();
  private readonly everyWorkspace = new Set<BusListener>();
  /** Notified event ids not read yet, with when they were notified. */
  private readonly notified = new Map<bigint, number>();
  private reading = false;
  private readAgain = false;
  private retry = 0;
  private retryTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  private reconnectDelay = 100;
  private stopped = false;
  private started = false;
  private readonly map: (row: Record<string, unknown>) => ChangeEvent;

  constructor(
    private readonly ds: DataSource,
    private readonly log: Logger,
    private readonly opts: EventBusOptions = { batchSize: 500, pollMs: 1_000 },
  ) {
    this.map = changeEventMapper(ds);
  }

  /** Connects, LISTENs and starts at the current end of the log (only new events are delivered). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.connect();
    const head = await this.client!.query<{ tx: string; id: string }>('SELECT tx_id::text AS tx, id::text AS id FROM worker_events_head()');
    if (head.rows[0]) this.position = { tx: BigInt(head.rows[0].tx), seq: BigInt(head.rows[0].id) };
    this.pollTimer = setInterval(() => this.read(), this.opts.pollMs);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.reconnectTimer);
    this.listeners.clear();
    this.everyWorkspace.clear();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** The position the bus has delivered up to (a subscriber joining now gets what comes after it). */
  get current(): { tx: bigint; seq: bigint } {
    return this.position;
  }

  get subscriberCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Calls `listener` with each batch of the workspace's new events, in order; returns the unsubscribe. */
  subscribe(workspaceId: string, listener: BusListener): () => void {
    let set = this.listeners.get(workspaceId);
    if (!set) this.listeners.set(workspaceId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(workspaceId) === set) this.listeners.delete(workspaceId);
    };
  }

  /** Calls `listener` with every batch of new events, of all workspaces (for workers that wake on them). */
  subscribeAll(listener: BusListener): () => void {
    this.everyWorkspace.add(listener);
    return () => this.everyWorkspace.delete(listener);
  }

  private async connect(): Promise<void> {
    const { url } = this.ds.options as { url?: string };
    const client = new Client({ connectionString: url, application_name: 'trellis-events' });
    client.on('notification', (msg) => {
      if (msg.payload) this.notified.set(BigInt(msg.payload), Date.now());
      // News: if it is not readable yet, the transaction holding it back is likely to end within
      // milliseconds, so the retries start short again.
      this.retry = 0;
      this.read();
    });
    client.on('error', (err) => {
      (isStopping() ? this.log.debug : this.log.warn).call(this.log, { error: err.message }, 'event bus connection lost');
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
    try {
      await client.connect();
      await client.query('LISTEN trellis_events');
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelay = 100;
  }

  private reconnect(broken: Client): void {
    if (this.stopped || this.client !== broken) return;
    this.client = undefined;
    broken.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.reconnectTimer = setTimeout(async () => {
      if (this.stopped) return;
      try {
        await this.connect();
        this.log.info('event bus reconnected');
        this.read();
      } catch (err) {
        this.log.warn({ error: (err as Error).message }, 'event bus reconnect failed');
        this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
        this.scheduleReconnect();
      }
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
  }

  /** Reads everything new; a read asked for while one runs is done right after it. */
  private read(): void {
    if (this.stopped || !this.started) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    void this.drain().finally(() => {
      this.reading = false;
      if (this.readAgain) {
        this.readAgain = false;
        this.read();
      } else this.scheduleRetry();
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const client = this.client;
      if (!client || this.stopped) return;
      this.readAgain = false;
      let rows: Record<string, unknown>[];
      try {
        rows = (
          await client.query('SELECT e.*, e.tx_id::text AS tx FROM worker_events_after($1::xid8, $2::bigint, $3) e', [
            this.position.tx.toString(),
            this.position.seq.toString(),
            this.opts.batchSize,
          ])
        ).rows;
      } catch (err) {
        this.log.warn({ error: (err as Error).message }, 'event bus read failed');
        return;
      }
      if (!rows.length) return;
      await this.dispatch(rows);
      if (rows.length < this.opts.batchSize) return;
    }
  }

  /**
   * Hands the batch to its listeners, a slice at a time: with a thousand subscribers of a workspace,
   * the whole fan-out in one go kept requests waiting (their statements' replies, their commits) for
   * tens of milliseconds per batch. The next read waits until every listener has this batch, so each
   * listener still gets the batches in order (and the events that came meanwhile in one batch).
   */
  private async dispatch(rows: Record<string, unknown>[]): Promise<void> {
    const byWorkspace = new Map<string, ChangeEvent[]>();
    const all: ChangeEvent[] = [];
    for (const row of rows) {
      const event = this.map(row);
      all.push(event);
      this.notified.delete(event.seq);
      this.position = { tx: event.tx, seq: event.seq };
      let list = byWorkspace.get(event.workspaceId);
      if (!list) byWorkspace.set(event.workspaceId, (list = []));
      list.push(event);
    }
    const calls: [BusListener, readonly ChangeEvent[]][] = [];
    for (const [workspaceId, events] of byWorkspace) for (const listener of this.listeners.get(workspaceId) ?? []) calls.push([listener, events]);
    for (const listener of this.everyWorkspace) calls.push([listener, all]);
    for (let i = 0; i < calls.length; i++) {
      if (i > 0 && i % DISPATCH_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      const [listener, events] = calls[i];
      try {
        listener(events);
      } catch (err) {
        this.log.error({ err }, 'event bus listener failed');
      }
    }
  }

  /**
   * Notified events still unread belong to transactions that became visible to NOTIFY before the
   * oldest running transaction ended: read again soon, backing off, until they show.
   */
  private scheduleRetry(): void {
    const now = Date.now();
    for (const [id, at] of this.notified) if (now - at > NOTIFIED_TTL_MS) this.notified.delete(id);
    clearTimeout(this.retryTimer);
    if (this.notified.size === 0 || this.stopped) {
      this.retry = 0;
      return;
    }
    const delay = RETRY_MS[Math.min(this.retry++, RETRY_MS.length - 1)];
    this.retryTimer = setTimeout(() => this.read(), delay);
    this.retryTimer.unref();
  }
}
