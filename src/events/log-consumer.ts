import type { DataSource, QueryRunner } from 'typeorm';
import { isTransient } from '../db/unavailable';
import type { Logger } from '../kernel/logger';
import { type ChangeEvent, changeEventMapper } from './change-event';

const BATCH = 500;

/** A query on the consumer's own connection (the one holding its lock). */
export type ConsumerQuery = <Row = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<Row[]>;

/** What one reader of the event log supplies; the reading itself is the LogConsumer's. */
interface LogReader<Work> {
  /** The session advisory lock that lets one instance at a time move this reader's cursor (any constant, one per reader). */
  lockKey: number;
  /** The one-row table (id = 1) holding this reader's cursor: the (tx, seq) of the last event it read. A constant, never input. */
  cursorTable: string;
  /**
   * Once per batch, on the consumer's connection: what each workspace of the batch has to do (the
   * endpoints to deliver to, the rules to run). A workspace left out has nothing to do; its events
   * are passed over.
   */
  plan(query: ConsumerQuery, eventsByWorkspace: Map<string, ChangeEvent[]>): Promise<Map<string, Work>>;
  /** Handles one workspace's events of a batch, in transactions of its own; resolves with how much it made (deliveries, runs), if it counts. */
  consumeWorkspace(workspaceId: string, events: ChangeEvent[], work: Work): Promise<number | void>;
  /** The log line of a workspace whose events failed (not transiently) and were skipped. */
  workspaceFailed: string;
  /** Told after each batch's cursor moved, with how much that batch made. */
  afterBatch?(made: number): void;
}

/**
 * Reads the event log for one reader (the webhook dispatcher, the automation engine): the events
 * of every workspace, in commit order, after the reader's durable cursor, a batch at a time; each
 * batch's cursor moves once its workspaces are done with it.
 *
 * One instance at a time holds the reader's lock (a session advisory lock, released if its process
 * dies). The cursor moves only after the batch is handled, so a crash in between means that the
 * batch is handled again: no event is missed, and a reader makes its work idempotent (a delivery is
 * unique per endpoint and event, a run per rule and event) so that none is handled twice.
 *
 * A batch holds every workspace's events, so a failure is contained where it arose: a workspace
 * whose events fail is logged and skipped, and the cursor moves on for everyone else. Only a
 * transient failure (the database out or short of something, a deadlock) holds the cursor back, to
 * try the batch again: it is thrown on, and the pass ends there.
 */
export class LogConsumer<Work> {
  constructor(
    private readonly ds: DataSource,
    private readonly log: Logger,
    private readonly reader: LogReader<Work>,
  ) {}

  /** Reads every event committed so far (nothing if another instance holds the lock): how many events it read, and what was made of them. */
  async consumeAll(): Promise<{ events: number; made: number }> {
    const total = { events: 0, made: 0 };
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    try {
      const [lock] = await runner.query(`SELECT pg_try_advisory_lock(${this.reader.lockKey}) AS ok`);
      if (!lock.ok) return total; // another instance is reading
      try {
        for (;;) {
          const [cursor] = await runner.query(`SELECT tx::text AS tx, seq::text AS seq FROM ${this.reader.cursorTable} WHERE id = 1`);
          const rows: Record<string, unknown>[] = await runner.query(`SELECT e.*, e.tx_id::text AS tx FROM worker_events_after($1::xid8, $2::bigint, $3) e`, [
            cursor.tx,
            cursor.seq,
            BATCH,
          ]);
          if (!rows.length) return total;
          const events = rows.map(changeEventMapper(this.ds));
          const made = await this.consumeBatch(runner, events);
          const last = events[events.length - 1];
          await runner.query(`UPDATE ${this.reader.cursorTable} SET tx = $1::xid8, seq = $2 WHERE id = 1`, [last.tx.toString(), last.id]);
          total.events += events.length;
          total.made += made;
          this.reader.afterBatch?.(made);
          if (rows.length < BATCH) return total;
        }
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(${this.reader.lockKey})`);
      }
    } finally {
      await runner.release();
    }
  }

  /** One batch, workspace by workspace (in the order of their first event), each contained: what the workspaces made. */
  private async consumeBatch(runner: QueryRunner, events: ChangeEvent[]): Promise<number> {
    const byWorkspace = new Map<string, ChangeEvent[]>();
    for (const e of events) byWorkspace.set(e.workspaceId, [...(byWorkspace.get(e.workspaceId) ?? []), e]);
    const plan = await this.reader.plan((sql, params) => runner.query(sql, params), byWorkspace);
    let made = 0;
    for (const [workspaceId, wsEvents] of byWorkspace) {
      if (!plan.has(workspaceId)) continue;
      try {
        made += (await this.reader.consumeWorkspace(workspaceId, wsEvents, plan.get(workspaceId)!)) ?? 0;
      } catch (err) {
        // The database out or short of something (isTransient): the cursor waits, and the batch is tried again.
        if (isTransient(err)) throw err;
        // Anything else is this workspace's alone: the others' work and the cursor go on.
        this.log.error({ err, workspaceId, fromEvent: wsEvents[0].id, toEvent: wsEvents[wsEvents.length - 1].id }, this.reader.workspaceFailed);
      }
    }
    return made;
  }
}
