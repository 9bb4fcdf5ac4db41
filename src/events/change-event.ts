import { Field, ObjectType } from 'type-graphql';
import type { DataSource } from 'typeorm';
import { rowMapper } from '../data/hydrate';
import { Event } from './event.entity';

/** An event of the log with its place in commit order: what the change feed and subscriptions hand out. */
@ObjectType({ description: 'An event as `recordChanged` delivers it: pass its cursor as `after` to resume right after it.' })
export class ChangeEvent extends Event {
  @Field({ description: 'Resume from here: `recordChanged(after: cursor)` and `changes(after: cursor)` continue after this event.' })
  cursor: string;

  /** Its place in commit order (transaction id, then event id); not part of the API. */
  tx: bigint;
  seq: bigint;
}

/** The cursor of an event: its place in commit order, and its time (for the retention check). */
export const feedCursor = (tx: string, id: string, at: Date) => Buffer.from(`${tx}:${id}:${at.getTime()}`).toString('base64url');

/** True when position a comes after b in commit order. */
export const isAfter = (a: { tx: bigint; seq: bigint }, b: { tx: bigint; seq: bigint }) => a.tx > b.tx || (a.tx === b.tx && a.seq > b.seq);

/** Maps event rows selected with `tx_id::text AS tx` to ChangeEvents. */
export function changeEventMapper(ds: DataSource): (row: Record<string, unknown>) => ChangeEvent {
  const map = rowMapper(ds, Event);
  return (row) => {
    const e = Object.assign(new ChangeEvent(), map(row));
    e.tx = BigInt(row.tx as string);
    e.seq = BigInt(e.id);
    e.cursor = feedCursor(row.tx as string, e.id, e.occurredAt);
    return e;
  };
}
