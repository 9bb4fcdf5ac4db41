import type { TenantTransaction } from '../db/tenant-transaction';
import type { ActorRef } from '../kernel/viewer';

/** One field's change as an event records it (the API's FieldChange has this shape). */
export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

interface NewEvent {
  type: string;
  entityType: string;
  entityId: string;
  actor: ActorRef;
  changes?: FieldChange[];
  data?: Record<string, unknown> | null;
}

/**
 * The one way to append to the event log. It must be called with the transaction that makes the
 * change, so the record and its event commit (or vanish) together; the insert trigger NOTIFYs on commit.
 */
export async function recordEvent(tx: TenantTransaction, e: NewEvent): Promise<string> {
  const row = await tx.one<{ id: string }>(
    `INSERT INTO event (workspace_id, type, entity_type, entity_id, actor_type, actor_id, depth, changes, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      tx.workspaceId,
      e.type,
      e.entityType,
      e.entityId,
      e.actor.type,
      e.actor.id,
      e.actor.depth ?? 0,
      JSON.stringify(e.changes ?? []),
      e.data == null ? null : JSON.stringify(e.data),
    ],
  );
  return row!.id;
}

/** The fields whose values differ between two versions of a record (timestamps and version excluded). */
export function diff(before: Record<string, unknown>, after: Record<string, unknown>, fields: string[]): FieldChange[] {
  const out: FieldChange[] = [];
  for (const field of fields) {
    const a = normalise(before[field]);
    const b = normalise(after[field]);
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ field, old: a, new: b });
  }
  return out;
}

/** The changes of a created record: every given field from null. */
export function creation(record: Record<string, unknown>, fields: string[]): FieldChange[] {
  return diff({}, record, fields);
}

function normalise(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  return v;
}
