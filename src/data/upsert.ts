import { randomUUID } from 'node:crypto';
import { validate } from 'class-validator';
import type { ServiceContext } from './context';
import { AppError, badField, type FieldError, flattenValidation } from '../kernel/errors';
import { rowMapper } from './hydrate';
import { constraintError } from '../db/pg-errors';
import { snake } from '../db/naming';
import { requireWrite } from '../kernel/viewer';
import { creation, diff, type FieldChange } from './event-log';
import { BatchItemStatus, type BatchResult, MAX_BATCH, MatchOn } from '../graphql/batch.types';
import type { TenantTransaction } from '../db/tenant-transaction';
import type { EntityType } from '../graphql/enums';
import { type CrudRow, insertRows, recordEvents, sameValue, type StoreSpec, updateRows } from './record-store';
import { assertMayChange, ownerOnCreate } from './ownership';

/** What an input asks for, once its references are resolved. */
export interface Prepared {
  /** Values the input sets (entity property names); undefined leaves a field as it is. */
  values: Record<string, unknown>;
  /** Defaults used only when the record is created. */
  createDefaults?: Record<string, unknown>;
  /** Anything the entity's hooks need later (e.g. the stage an opportunity goes to). */
  extra?: Record<string, unknown>;
}

interface MatchSpec<I> {
  /** The SQL expression compared with the key, on alias `t` (null: NONE, nothing matches). */
  sql: string | null;
  /** The input field the key comes from (for errors). */
  field: string;
  key: (input: I) => string | null | undefined;
  /** A unique index to insert against with ON CONFLICT; without one, keys are taken with advisory locks. */
  conflict?: string;
}

/** Checks a record's custom field values against the workspace's definitions (the custom-fields module's service). */
export interface CustomFieldValidator {
  validate(tx: TenantTransaction, entityType: EntityType, input: unknown, current?: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface UpsertConfig<T extends CrudRow, I extends object> {
  store: StoreSpec<T>;
  owned: boolean;
  customFields?: EntityType;
  match: Partial<Record<MatchOn, MatchSpec<I>>>;
  /** Entity properties a new record must have. */
  required: string[];
  /**
   * Resolves references (natural keys) for the whole batch at once, and applies the kind's rules on
   * inputs. `single`: a single create or update (writeOne), with the record it changes (null: a
   * create); a batch's matches are found later.
   */
  prepare(ctx: ServiceContext, inputs: I[], single?: { target: T | null }): Promise<(Prepared | FieldError[])[]>;
  /** Adjusts the values against the current record (null when creating), e.g. what a stage change implies. */
  adjust?(ctx: ServiceContext, before: T | null, prepared: Prepared, values: Record<string, unknown>): void;
  /** The event an update records instead of `<kind>.updated`, when the change means more (e.g. `activity.completed`). */
  updateEventType?(before: T, after: T): string | undefined;
  /** Side records of the writes (stage history, extra events), in the same transaction. */
  afterWrite?(ctx: ServiceContext, writes: { before: T | null; after: T; prepared: Prepared }[]): Promise<void>;
}

interface Item<I> {
  index: number;
  input: I;
  key: string;
  /** No key to match on (MatchOn.NONE, or `keylessCreates`): the input creates a record. */
  keyless?: boolean;
  prepared?: Prepared;
  status?: BatchItemStatus;
  id?: string;
  errors: FieldError[];
}

const EXTERNAL_ID_CONFLICT = '(workspace_id, external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL';
export const externalIdMatch = <I extends { externalId?: string | null }>(): MatchSpec<I> => ({
  sql: 't.external_id',
  field: 'externalId',
  key: (i) => i.externalId,
  conflict: EXTERNAL_ID_CONFLICT,
});
/** MatchOn.NONE, for every kind: no input has a key, so each creates. */
const NO_MATCH: MatchSpec<object> = { sql: null, field: '', key: () => undefined };

class RollBack extends Error {}

/**
 * The upsert of API.md: one result per input, in order. Inputs are checked one by one (a bad one
 * FAILS alone, unless `allOrNone`); the valid ones are written in set-based statements: existing
 * records locked and compared (UNCHANGED writes nothing: no event, no new version), new ones inserted
 * with ON CONFLICT (a concurrent insert of the same key becomes an update, never an error), changed
 * ones updated, and every write recorded in the event log, in one savepoint of the request.
 */
export async function upsertBatch<T extends CrudRow, I extends object>(
  ctx: ServiceContext,
  cfg: UpsertConfig<T, I>,
  customFields: CustomFieldValidator,
  inputs: I[],
  matchOn: MatchOn,
  allOrNone: boolean,
  /** An input without its key creates a record instead of failing (CSV imports: a contact without an email is still a contact). */
  keylessCreates = false,
): Promise<BatchResult> {
  requireWrite(ctx.viewer);
  if (inputs.length > MAX_BATCH) throw badField('inputs', `at most ${MAX_BATCH} inputs per batch`);
  const match = matchOn === MatchOn.NONE ? NO_MATCH : cfg.match[matchOn];
  if (!match) throw badField('matchOn', `${matchOn} does not apply to ${cfg.store.label.toLowerCase()}s`);

  const items: Item<I>[] = inputs.map((input, index) => ({ index, input, key: '', errors: [] }));
  await Promise.all(items.map(async (it) => (it.errors = flattenValidation(await validate(it.input, { forbidUnknownValues: false })))));
  const firstByKey = new Map<string, number>();
  for (const it of items) {
    const raw = match.key(it.input)?.trim();
    if (!raw && (keylessCreates || matchOn === MatchOn.NONE)) it.keyless = true;
    else if (!raw) it.errors.push({ field: match.field, message: `is required to match on ${matchOn}` });
    else {
      it.key = matchOn === MatchOn.EXTERNAL_ID ? raw : raw.toLowerCase();
      const first = firstByKey.get(it.key);
      if (first !== undefined) it.errors.push({ field: match.field, message: `appears twice in this batch (first at index ${first})` });
      else firstByKey.set(it.key, it.index);
    }
  }
  const valid = items.filter((it) => it.errors.length === 0);
  const prepared = await cfg.prepare(
    ctx,
    valid.map((it) => it.input),
  );
  valid.forEach((it, i) => {
    const p = prepared[i];
    if (Array.isArray(p)) it.errors.push(...p);
    else it.prepared = p;
  });
  for (const it of items) if (it.errors.length) it.status = BatchItemStatus.FAILED;

  const pending = items.filter((it) => !it.status);
  try {
    await ctx.tx.savepoint(async () => {
      await write(ctx, cfg, customFields, match, pending);
      if (allOrNone && items.some((it) => it.status === BatchItemStatus.FAILED)) throw new RollBack();
    });
  } catch (err) {
    if (err instanceof RollBack) {
      for (const it of items)
        if (it.status !== BatchItemStatus.FAILED)
          Object.assign(it, {
            status: BatchItemStatus.FAILED,
            id: undefined,
            errors: [{ field: '', message: 'not written: another input of this allOrNone batch failed' }],
          });
    } else if (err instanceof AppError || allOrNone || pending.length <= 1) {
      const message = err instanceof AppError ? err.message : (constraintError(err, cfg.store.label)?.message ?? 'could not be written');
      if (err instanceof AppError && err.code !== 'BAD_USER_INPUT' && err.code !== 'CONFLICT') throw err;
      for (const it of pending) Object.assign(it, { status: BatchItemStatus.FAILED, id: undefined, errors: [{ field: '', message }] });
      if (allOrNone) for (const it of items) if (it.status !== BatchItemStatus.FAILED) Object.assign(it, { status: BatchItemStatus.FAILED, id: undefined });
    } else {
      // A statement of the set failed (a constraint the checks did not foresee): write the inputs one
      // by one, so that only the culprit fails.
      for (const it of pending) {
        const one = await upsertBatch(ctx, cfg, customFields, [it.input], matchOn, false, keylessCreates);
        Object.assign(it, { status: one.results[0].status, id: one.results[0].id ?? undefined, errors: one.results[0].errors });
      }
    }
  }

  const results = items.map((it) => ({
    index: it.index,
    status: it.status!,
    id: it.status === BatchItemStatus.FAILED ? null : (it.id ?? null),
    errors: it.errors,
  }));
  const count = (s: BatchItemStatus) => results.filter((r) => r.status === s).length;
  return {
    results,
    created: count(BatchItemStatus.CREATED),
    updated: count(BatchItemStatus.UPDATED),
    unchanged: count(BatchItemStatus.UNCHANGED),
    failed: count(BatchItemStatus.FAILED),
  };
}

async function write<T extends CrudRow, I extends object>(
  ctx: ServiceContext,
  cfg: UpsertConfig<T, I>,
  customFields: CustomFieldValidator,
  match: MatchSpec<I>,
  pending: Item<I>[],
): Promise<void> {
  if (pending.length === 0) return;
  const { store } = cfg;
  const map = rowMapper(ctx.tx.dataSource, store.entity);
  const keys = pending.filter((it) => !it.keyless).map((it) => it.key);
  const matchSql = match.sql;
  if (matchSql && !match.conflict) {
    // No unique index to lean on: concurrent batches take the same keys in the same order.
    await ctx.tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1 || k, 0)) FROM unnest($2::text[]) AS k ORDER BY k`, [
      `${ctx.tx.workspaceId}:${store.table}:${match.sql}:`,
      keys,
    ]);
  }
  const lockExisting = async (ks: string[]) => {
    const byKey = new Map<string, T>();
    if (!matchSql || ks.length === 0) return byKey;
    const rows = await ctx.tx.query(
      `SELECT *, ${matchSql} AS __key FROM ${store.table} t WHERE t.workspace_id = $1 AND t.deleted_at IS NULL AND ${matchSql} = ANY($2::text[]) ORDER BY t.created_at, t.id FOR UPDATE`,
      [ctx.tx.workspaceId, ks],
    );
    for (const r of rows) if (!byKey.has(r.__key as string)) byKey.set(r.__key as string, map(r));
    return byKey;
  };

  const updates: { it: Item<I>; before: T; values: Record<string, unknown> }[] = [];
  const creates: { it: Item<I>; values: Record<string, unknown> & { id: string } }[] = [];
  const plan = async (it: Item<I>, existing: T | undefined) => {
    try {
      if (existing) {
        const u = await planUpdate(ctx, cfg, customFields, existing, it.prepared!);
        if (u) updates.push({ it, before: existing, values: u });
        else Object.assign(it, { status: BatchItemStatus.UNCHANGED, id: existing.id });
      } else {
        creates.push({ it, values: await planCreate(ctx, cfg, customFields, it.prepared!) });
      }
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      it.status = BatchItemStatus.FAILED;
      it.errors = (err.extensions.fields as FieldError[] | undefined) ?? [{ field: '', message: err.message }];
    }
  };

  const existing = await lockExisting(keys);
  for (const it of pending) await plan(it, it.keyless ? undefined : existing.get(it.key));

  const inserted = await insertRows(
    ctx,
    store,
    creates.map((c) => c.values),
    match.conflict,
  );
  const insertedIds = new Set(inserted.map((r) => r.id));
  const lost = creates.filter((c) => !insertedIds.has(c.values.id));
  if (lost.length) {
    // Another transaction inserted these keys first and has committed: they are updates now.
    const now = await lockExisting(lost.map((c) => c.it.key));
    for (const c of lost) {
      const row = now.get(c.it.key);
      if (row) await plan(c.it, row);
      else Object.assign(c.it, { status: BatchItemStatus.FAILED, errors: [{ field: match.field, message: 'was changed concurrently: retry' }] });
    }
  }
  const updated = await updateRows(
    ctx,
    store,
    updates.map((u) => ({ id: u.before.id, ...u.values })),
  );
  const afterById = new Map(updated.map((r) => [r.id, r]));

  const createById = new Map(creates.map((c) => [c.values.id, c]));
  await recordWrites(ctx, cfg, [
    ...inserted.map((after) => ({ before: null, after, prepared: createById.get(after.id)!.it.prepared! })),
    ...updates.map((u) => ({ before: u.before, after: afterById.get(u.before.id)!, prepared: u.it.prepared! })),
  ]);

  for (const c of creates) if (insertedIds.has(c.values.id)) Object.assign(c.it, { status: BatchItemStatus.CREATED, id: c.values.id });
  for (const u of updates) Object.assign(u.it, { status: BatchItemStatus.UPDATED, id: u.before.id });
}

/**
 * The events of written records (`<kind>.created` for those without a `before`, `<kind>.updated` for
 * the others) and the kind's side records (afterWrite), in the writing transaction.
 */
export async function recordWrites<T extends CrudRow, I extends object>(
  ctx: ServiceContext,
  cfg: UpsertConfig<T, I>,
  writes: { before: T | null; after: T; prepared: Prepared }[],
): Promise<void> {
  const { store } = cfg;
  await recordEvents(
    ctx,
    `${store.entityType}.created`,
    store.entityType,
    writes
      .filter((w) => !w.before)
      .map(({ after }) => {
        const data = store.toData(after);
        return { entityId: after.id, changes: creation(data, store.trackedFields), data };
      }),
  );
  const updates = new Map<string, { entityId: string; changes: FieldChange[]; data: Record<string, unknown> }[]>();
  for (const { before, after } of writes) {
    if (!before) continue;
    const type = cfg.updateEventType?.(before, after) ?? `${store.entityType}.updated`;
    const data = store.toData(after);
    updates.set(type, [...(updates.get(type) ?? []), { entityId: after.id, changes: diff(store.toData(before), data, store.trackedFields), data }]);
  }
  for (const [type, events] of updates) await recordEvents(ctx, type, store.entityType, events);
  await cfg.afterWrite?.(ctx, writes);
}

/** The columns that change, with their new values, or null when nothing would. */
export async function planUpdate<T extends CrudRow, I extends object>(
  ctx: ServiceContext,
  cfg: UpsertConfig<T, I>,
  customFields: CustomFieldValidator,
  before: T,
  p: Prepared,
): Promise<Record<string, unknown> | null> {
  if (cfg.owned) assertMayChange(ctx.viewer, before.ownerId);
  const values: Record<string, unknown> = Object.fromEntries(Object.entries(p.values).filter(([, v]) => v !== undefined));
  if (cfg.customFields && values.customFields !== undefined)
    values.customFields = await customFields.validate(ctx.tx, cfg.customFields, values.customFields, before.customFields ?? {});
  cfg.adjust?.(ctx, before, p, values);
  const changed = Object.keys(values).filter((k) => !sameValue((before as Record<string, unknown>)[k], values[k]));
  if (changed.length === 0) return null;
  return Object.fromEntries(changed.map((k) => [k, values[k]]));
}

export async function planCreate<T extends CrudRow, I extends object>(
  ctx: ServiceContext,
  cfg: UpsertConfig<T, I>,
  customFields: CustomFieldValidator,
  p: Prepared,
): Promise<Record<string, unknown> & { id: string }> {
  const values: Record<string, unknown> = { ...p.createDefaults, ...Object.fromEntries(Object.entries(p.values).filter(([, v]) => v !== undefined)) };
  if (cfg.owned) ownerOnCreate(ctx.viewer, values);
  const missing = cfg.required.filter((f) => values[f] == null || values[f] === '');
  if (missing.length) throw new AppError('BAD_USER_INPUT', 'missing fields', { fields: missing.map((f) => ({ field: f, message: 'is required to create' })) });
  if (cfg.customFields) values.customFields = await customFields.validate(ctx.tx, cfg.customFields, values.customFields ?? {}, {});
  cfg.adjust?.(ctx, null, p, values);
  return { ...values, id: randomUUID() };
}

/** Ids of records by a natural key, for the references of a batch: one query per kind of key. */
export async function idsByKey(
  ctx: ServiceContext,
  table: string,
  column: string,
  keys: (string | null | undefined)[],
  lower = false,
): Promise<Map<string, string>> {
  const wanted = [...new Set(keys.filter((k): k is string => !!k).map((k) => (lower ? k.toLowerCase() : k)))];
  if (wanted.length === 0) return new Map();
  const expr = lower ? `lower(${snake(column)})` : snake(column);
  const live = table === 'app_user' ? 'active AND deleted_at IS NULL' : 'deleted_at IS NULL';
  const cond = column === 'id' ? 'id = ANY($2::uuid[])' : `${expr} = ANY($2::text[])`;
  const rows = await ctx.tx.query<{ k: string; id: string }>(
    `SELECT ${expr}::text AS k, id FROM ${table} WHERE workspace_id = $1 AND ${live} AND ${cond} ORDER BY created_at, id`,
    [ctx.tx.workspaceId, wanted],
  );
  const out = new Map<string, string>();
  for (const r of rows) if (!out.has(r.k)) out.set(r.k, r.id);
  return out;
}
