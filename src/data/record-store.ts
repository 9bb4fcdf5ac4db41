import { randomUUID } from 'node:crypto';
import type { DataSource, ObjectLiteral } from 'typeorm';
import { rowMapper } from './hydrate';
import { snake } from '../db/naming';
import { isUuid } from '../db/tenant-transaction';
import type { ServiceContext } from './context';
import { conflict, notFound } from '../kernel/errors';
import { requireAdmin } from '../kernel/viewer';
import { creation, diff, recordEvent } from './event-log';
import type { FieldChange } from './event-log';

/** What every CRM record row has: what the write engine and the record services rely on. */
export interface CrudRow extends ObjectLiteral {
  id: string;
  version: number;
  deletedAt: Date | null;
  ownerId?: string | null;
  externalId?: string | null;
  customFields?: Record<string, unknown>;
}

/** How one kind of record is written: its table, its event names, and what its events carry. */
export interface StoreSpec<T> {
  table: string;
  entity: new () => T;
  /** The event prefix and `entityType`, e.g. `account`. */
  entityType: string;
  /** A readable name for errors, e.g. `Account`. */
  label: string;
  /** The API fields an event lists in `changes`. */
  trackedFields: string[];
  /** The record as events carry it in `data` (no secrets, no internal columns). */
  toData: (record: T) => Record<string, unknown>;
}

export interface WriteResult<T> {
  record: T;
}

type Values = Record<string, unknown>;

/** Turns a property's value into the parameter its column takes. */
type ToSql = (property: string, value: unknown) => unknown;

const writers = new WeakMap<object, ToSql>();

/**
 * How values of an entity's properties are sent, decided by each column's type (TypeORM metadata):
 * a json/jsonb column gets JSON text (so a JS array is a JSON array, and a string a JSON string), an
 * array column (`text[]`...) gets the JS array, which the driver sends as a PostgreSQL array; null is
 * SQL NULL either way. Other values go as they are.
 */
function sqlWriter(ds: DataSource, entity: new () => unknown): ToSql {
  const hit = writers.get(entity);
  if (hit) return hit;
  const json = new Set(
    ds
      .getMetadata(entity)
      .columns.filter((c) => !c.isArray && (c.type === 'jsonb' || c.type === 'json'))
      .map((c) => c.propertyName),
  );
  const write: ToSql = (property, value) => (value != null && json.has(property) ? JSON.stringify(value) : value);
  writers.set(entity, write);
  return write;
}

/** Inserts a record and its `<type>.created` event in the caller's transaction (the bulk path, for one). */
export async function insertRecord<T extends ObjectLiteral>(
  ctx: ServiceContext,
  spec: StoreSpec<T>,
  values: Values,
  id: string = randomUUID(),
): Promise<WriteResult<T>> {
  const [record] = await insertMany(ctx, spec, [{ ...values, id }]);
  return { record };
}

const BULK_CHUNK = 1000;

/**
 * Inserts rows of one kind in one statement per chunk and returns what was inserted. With
 * `onConflict` (e.g. the external id's unique index) rows that collide are skipped, not failed.
 */
export async function insertRows<T extends ObjectLiteral>(
  ctx: ServiceContext,
  spec: StoreSpec<T>,
  rows: (Values & { id: string })[],
  onConflict?: string,
): Promise<T[]> {
  const out: T[] = [];
  const map = rowMapper(ctx.tx.dataSource, spec.entity);
  for (let i = 0; i < rows.length; i += BULK_CHUNK) {
    const chunk = rows.slice(i, i + BULK_CHUNK);
    const cols = [...new Set(chunk.flatMap((r) => Object.keys(r).filter((k) => k !== 'id' && r[k] !== undefined)))];
    const json = chunk.map((r) => Object.fromEntries([['id', r.id], ...cols.map((c) => [snake(c), r[c] ?? null])]));
    const inserted = await ctx.tx.query(
      `INSERT INTO ${spec.table} (workspace_id, id, version${cols.map((c) => `, ${snake(c)}`).join('')})
       SELECT $1, r.id, 1${cols.map((c) => `, r.${snake(c)}`).join('')} FROM json_populate_recordset(NULL::${spec.table}, $2::json) r
       ${onConflict ? `ON CONFLICT ${onConflict} DO NOTHING` : ''} RETURNING *`,
      [ctx.tx.workspaceId, JSON.stringify(json)],
    );
    out.push(...inserted.map(map));
  }
  return out;
}

/**
 * Updates many rows of one kind in one statement per chunk: each row gets the values given for it
 * (the full new value of every listed column), a new version and `updated_at`.
 */
export async function updateRows<T extends ObjectLiteral>(ctx: ServiceContext, spec: StoreSpec<T>, rows: (Values & { id: string })[]): Promise<T[]> {
  const out: T[] = [];
  const map = rowMapper(ctx.tx.dataSource, spec.entity);
  for (let i = 0; i < rows.length; i += BULK_CHUNK) {
    const chunk = rows.slice(i, i + BULK_CHUNK);
    const cols = [...new Set(chunk.flatMap((r) => Object.keys(r).filter((k) => k !== 'id')))];
    const json = chunk.map((r) => Object.fromEntries([['id', r.id], ...cols.map((c) => [snake(c), r[c] ?? null])]));
    const updated = await ctx.tx.query(
      `UPDATE ${spec.table} t SET version = t.version + 1, updated_at = now()${cols.map((c) => `, ${snake(c)} = v.${snake(c)}`).join('')}
       FROM json_populate_recordset(NULL::${spec.table}, $2::json) v
       WHERE t.workspace_id = $1 AND t.id = v.id RETURNING t.*`,
      [ctx.tx.workspaceId, JSON.stringify(json)],
    );
    out.push(...updated.map(map));
  }
  return out;
}

/** Records many events of one type in one statement per chunk. */
export async function recordEvents(
  ctx: ServiceContext,
  type: string,
  entityType: string,
  events: { entityId: string; changes: FieldChange[]; data: Record<string, unknown> }[],
): Promise<void> {
  for (let i = 0; i < events.length; i += BULK_CHUNK) {
    const chunk = events.slice(i, i + BULK_CHUNK).map((e) => ({ entity_id: e.entityId, changes: e.changes, data: e.data }));
    await ctx.tx.query(
      `INSERT INTO event (workspace_id, type, entity_type, entity_id, actor_type, actor_id, depth, changes, data)
       SELECT $1, $2, $3, e.entity_id, $4, $5, $6, e.changes, e.data FROM json_to_recordset($7::json) AS e(entity_id uuid, changes jsonb, data jsonb)`,
      [ctx.tx.workspaceId, type, entityType, ctx.actor.type, ctx.actor.id, ctx.actor.depth ?? 0, JSON.stringify(chunk)],
    );
  }
}

/**
 * Inserts many records of one kind, each with its `<type>.created` event, in set-based statements:
 * the bulk path for seeds and imports, recording exactly what `insertRecord` would.
 */
export async function insertMany<T extends ObjectLiteral>(ctx: ServiceContext, spec: StoreSpec<T>, rows: (Values & { id: string })[]): Promise<T[]> {
  const records = await insertRows(ctx, spec, rows);
  await recordEvents(
    ctx,
    `${spec.entityType}.created`,
    spec.entityType,
    records.map((record) => {
      const data = spec.toData(record);
      return { entityId: record.id as string, changes: creation(data, spec.trackedFields), data };
    }),
  );
  return records;
}

/** Reads a record and locks it for the rest of the transaction. */
export async function lockRecord<T extends ObjectLiteral>(ctx: ServiceContext, spec: StoreSpec<T>, id: string): Promise<T> {
  const row = await ctx.tx.one(`SELECT * FROM ${spec.table} WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, [ctx.tx.workspaceId, id]);
  if (!row) throw notFound(spec.label);
  return rowMapper(ctx.tx.dataSource, spec.entity)(row);
}

/**
 * The live (not deleted) records of a kind only ADMIN users manage (automation rules, webhook
 * endpoints), oldest first. FORBIDDEN for anyone else.
 */
export async function listAdminRecords<T extends ObjectLiteral>(ctx: ServiceContext, spec: StoreSpec<T>): Promise<T[]> {
  requireAdmin(ctx.viewer);
  const rows = await ctx.tx.query(`SELECT * FROM ${spec.table} WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, [ctx.tx.workspaceId]);
  return rows.map(rowMapper(ctx.tx.dataSource, spec.entity));
}

/**
 * One record of a table by id (deleted ones included), mapped to its entity: NOT_FOUND (as `label`)
 * for a malformed id, another workspace's, or none. `where` narrows it further (e.g. `user_id = $3`,
 * with `params` from $3 on).
 */
export async function getById<T extends ObjectLiteral>(
  ctx: ServiceContext,
  table: string,
  entity: new () => T,
  label: string,
  id: string,
  where = 'TRUE',
  params: unknown[] = [],
): Promise<T> {
  if (!isUuid(id)) throw notFound(label);
  const row = await ctx.tx.one(`SELECT * FROM ${table} WHERE workspace_id = $1 AND id = $2 AND ${where}`, [ctx.tx.workspaceId, id, ...params]);
  if (!row) throw notFound(label);
  return rowMapper(ctx.tx.dataSource, entity)(row);
}

/** One live record of a kind only ADMIN users manage: FORBIDDEN for anyone else, NOT_FOUND for a malformed, unknown or deleted id. */
export async function getAdminRecord<T extends ObjectLiteral>(ctx: ServiceContext, spec: StoreSpec<T>, id: string): Promise<T> {
  requireAdmin(ctx.viewer);
  if (!isUuid(id)) throw notFound(spec.label);
  const row = await ctx.tx.one(`SELECT * FROM ${spec.table} WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`, [ctx.tx.workspaceId, id]);
  if (!row) throw notFound(spec.label);
  return rowMapper(ctx.tx.dataSource, spec.entity)(row);
}

interface UpdateOptions {
  expectedVersion?: number | null;
  /** The event type; default `<type>.updated`. */
  eventType?: string;
  /** Record the event even when no tracked field changed (e.g. a deletion). */
  always?: boolean;
}

/**
 * Applies `patch` to a record: a stale `expectedVersion` is CONFLICT and writes nothing; a patch that
 * changes nothing writes nothing (no event, no new version). The UPDATE is conditional on the version
 * read, so a concurrent writer can never be overwritten silently.
 */
export async function updateRecord<T extends ObjectLiteral & { version: number }>(
  ctx: ServiceContext,
  spec: StoreSpec<T>,
  id: string,
  patch: Values,
  opts: UpdateOptions = {},
  current?: T,
): Promise<WriteResult<T>> {
  const before = current ?? (await lockRecord(ctx, spec, id));
  if (opts.expectedVersion != null && opts.expectedVersion !== before.version) {
    throw conflict(`${spec.label} was changed by someone else (version ${before.version}, expected ${opts.expectedVersion})`, {
      currentVersion: before.version,
    });
  }
  const cols = Object.keys(patch).filter((k) => patch[k] !== undefined && !sameValue((before as Values)[k], patch[k]));
  if (cols.length === 0 && !opts.always) return { record: before };
  const toSql = sqlWriter(ctx.tx.dataSource, spec.entity);
  const params: unknown[] = [ctx.tx.workspaceId, id, before.version, ...cols.map((k) => toSql(k, patch[k]))];
  const row = await ctx.tx.one(
    `UPDATE ${spec.table} SET version = version + 1, updated_at = now()${cols.map((c, i) => `, ${snake(c)} = $${i + 4}`).join('')}
     WHERE workspace_id = $1 AND id = $2 AND version = $3 RETURNING *`,
    params,
  );
  if (!row) throw conflict(`${spec.label} was changed by someone else`);
  const record = rowMapper(ctx.tx.dataSource, spec.entity)(row);
  const data = spec.toData(record);
  const changes = diff(spec.toData(before), data, spec.trackedFields);
  await recordEvent(ctx.tx, {
    type: opts.eventType ?? `${spec.entityType}.updated`,
    entityType: spec.entityType,
    entityId: id,
    actor: ctx.actor,
    changes,
    data,
  });
  return { record };
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
/** "1200.5000" and "1200.50" are the same amount. */
const normDecimal = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);

/** Whether a stored value and a new one are the same (dates by instant, decimals by value). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string' && DECIMAL.test(a) && DECIMAL.test(b)) return normDecimal(a) === normDecimal(b);
  if (a instanceof Date || b instanceof Date) {
    const ta = a instanceof Date ? a.getTime() : a == null ? null : new Date(a as string).getTime();
    const tb = b instanceof Date ? b.getTime() : b == null ? null : new Date(b as string).getTime();
    return ta === tb;
  }
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
