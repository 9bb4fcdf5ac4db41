import { rowMapper } from '../../data/hydrate';
import { constraintError } from '../../db/pg-errors';
import { isUuid, type TenantTransaction } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { type ConnectionBase, type OrderInput, type PageArgs, paginate } from '../../data/connection';
import { AppError, badField, badInput, conflict, type FieldError, notFound } from '../../kernel/errors';
import type { Include } from '../../data/lookahead';
import type { EntitySpec } from '../../data/sql';
import { rowCodec } from '../../data/row-codec';
import { requireWrite, type Viewer } from '../../kernel/viewer';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import type { EntityType } from '../../graphql/enums';
import type { BatchResult, MatchOn } from '../../graphql/batch.types';
import { type CrudRow, lockRecord, type StoreSpec, updateRecord, type WriteResult } from '../../data/record-store';
import { type UpsertConfig, upsertBatch } from '../../data/upsert';
import { writeOne } from '../../data/single-write';
import { assertMayChange, assertMayDelete } from '../../data/ownership';

interface CrudOptions<T extends CrudRow> {
  store: StoreSpec<T>;
  spec: EntitySpec;
  defaultOrder: OrderInput[];
  /** Has an owner: REPs write only what they own (or what has no owner). */
  owned: boolean;
  /**
   * The fields of its inputs that refer to other records by id (e.g. `accountId`), checked on every
   * write to be live records of the workspace; `ownerId` is checked too when the kind is `owned`.
   */
  references?: Record<string, { table: string; label: string }>;
  /** The entity type custom field definitions are kept under, if it has custom fields. */
  customFields?: EntityType;
  /** How `upsert<Things>` matches and writes batches, for kinds that integrations sync. */

  upsert?: UpsertConfig<T, any>;
}

export interface ListInput extends PageArgs {
  filter?: object | null;
  orderBy?: OrderInput[] | null;
  includeDeleted?: boolean | null;
  /** False when only totalCount is selected. */
  rows?: boolean;
  /** Relations of the rows that the page's statement fetches too (see lookahead.ts). */
  include?: Include[];
  /** The properties the rows need (see graphql/columns.ts); default: all. */
  columns?: ReadonlySet<string> | null;
}

/** A reference an input makes to another record, checked to exist in the workspace. */
interface Ref {
  field: string;
  table: string;
  id: string | null | undefined;
  label: string;
}

/**
 * What every CRM record shares: get by id or external id, lists, create, update with
 * `expectedVersion`, soft delete and restore, each write with its event in a savepoint of the
 * request's transaction, permissions by role and ownership, custom fields.
 */
export class CrudService<T extends CrudRow> {
  constructor(
    protected readonly opts: CrudOptions<T>,
    protected readonly customFields: CustomFieldService,
  ) {}

  protected map(ctx: ServiceContext) {
    return rowMapper(ctx.tx.dataSource, this.opts.store.entity);
  }

  /** By id (deleted records included, so they can be restored) or by external id (live records). */
  async get(ctx: ServiceContext, id?: string | null, externalId?: string | null): Promise<T> {
    const { table, label } = this.opts.store;
    if ((id == null) === (externalId == null)) throw badField('id', 'give either id or externalId');
    if (id != null) {
      if (!isUuid(id)) throw notFound(label);
      const row = await ctx.tx.one(`SELECT * FROM ${table} WHERE workspace_id = $1 AND id = $2`, [ctx.tx.workspaceId, id]);
      if (!row) throw notFound(label);
      return this.map(ctx)(row);
    }
    const row = await ctx.tx.one(`SELECT * FROM ${table} WHERE workspace_id = $1 AND external_id = $2 AND deleted_at IS NULL`, [
      ctx.tx.workspaceId,
      externalId,
    ]);
    if (!row) throw notFound(label);
    return this.map(ctx)(row);
  }

  async list(ctx: ServiceContext, args: ListInput, where?: Parameters<typeof paginate>[0]['where']): Promise<ConnectionBase<T>> {
    const mentionsCustom = this.opts.customFields && /customField/.test(JSON.stringify([args.filter ?? null, args.orderBy ?? null]));
    const codec = rowCodec(ctx.tx.dataSource, this.opts.store.entity, args.columns);
    return paginate<T>({
      tx: ctx.tx,
      spec: this.opts.spec,
      ...args,
      filter: args.filter as Record<string, unknown>,
      defaultOrder: this.opts.defaultOrder,
      customTypes: mentionsCustom ? await this.customFields.sqlTypes(ctx.tx) : undefined,
      where,
      select: codec.select('t'),
      map: codec.map,
    });
  }

  /** A batch of creates-or-updates matched by a key (see upsertBatch). */
  upsert(ctx: ServiceContext, inputs: object[], matchOn: MatchOn, allOrNone: boolean, keylessCreates = false): Promise<BatchResult> {
    return upsertBatch(ctx, this.upsertRules(), this.customFields, inputs, matchOn, allOrNone, keylessCreates);
  }

  /** A single create: a batch of one through the kind's upsert rules (see writeOne). */
  protected createOne(ctx: ServiceContext, input: object): Promise<T> {
    return writeOne(ctx, this.upsertRules(), this.customFields, input);
  }

  /** A single update by id: a batch of one through the kind's upsert rules (see writeOne). */
  protected updateOne(ctx: ServiceContext, id: string, input: object, expectedVersion?: number | null): Promise<T> {
    return writeOne(ctx, this.upsertRules(), this.customFields, input, { id, expectedVersion });
  }

  private upsertRules(): UpsertConfig<T, object> {
    if (!this.opts.upsert) throw new Error(`${this.opts.store.label} has no upsert rules`);
    return this.opts.upsert;
  }

  /** Soft delete: a REP deletes only what it owns. Deleting a deleted record changes nothing. */
  async delete(ctx: ServiceContext, id: string): Promise<T> {
    requireWrite(ctx.viewer);
    return this.write(ctx, async () => {
      const current = await this.lock(ctx, id);
      if (this.opts.owned) assertMayDelete(ctx.viewer, current.ownerId);
      if (current.deletedAt) return current;
      return (await updateRecord(ctx, this.opts.store, id, { deletedAt: new Date() }, { eventType: `${this.opts.store.entityType}.deleted` }, current)).record;
    });
  }

  async restore(ctx: ServiceContext, id: string): Promise<T> {
    requireWrite(ctx.viewer);
    return this.write(ctx, async () => {
      const current = await this.lock(ctx, id);
      this.assertCanWrite(ctx.viewer, current.ownerId);
      if (!current.deletedAt) return current;
      return (await updateRecord(ctx, this.opts.store, id, { deletedAt: null }, { eventType: `${this.opts.store.entityType}.restored` }, current)).record;
    });
  }

  /** Applies a patch after the permission, version, reference (see `references`) and custom field checks. */
  protected async patch(
    ctx: ServiceContext,
    id: string,
    values: Record<string, unknown>,
    expectedVersion?: number | null,
    eventType?: string,
  ): Promise<WriteResult<T>> {
    requireWrite(ctx.viewer);
    return this.write(ctx, async () => {
      const current = await this.lock(ctx, id);
      return this.patchLocked(ctx, current, values, expectedVersion, eventType);
    });
  }

  /** `patch` for a record the caller has locked already (inside its own savepoint). */
  protected async patchLocked(
    ctx: ServiceContext,
    current: T,
    values: Record<string, unknown>,
    expectedVersion?: number | null,
    eventType?: string,
  ): Promise<WriteResult<T>> {
    requireWrite(ctx.viewer);
    if (current.deletedAt) throw conflict(`${this.opts.store.label} is deleted: restore it first`);
    this.assertCanWrite(ctx.viewer, current.ownerId);
    if (expectedVersion != null && expectedVersion !== current.version) {
      throw conflict(`${this.opts.store.label} was changed by someone else (version ${current.version}, expected ${expectedVersion})`, {
        currentVersion: current.version,
      });
    }
    const v = { ...values };
    await assertReferences(ctx.tx, this.referencesIn(v));
    if (this.opts.customFields && v.customFields !== undefined)
      v.customFields = await this.customFields.validate(ctx.tx, this.opts.customFields, v.customFields, current.customFields ?? {});
    return updateRecord(ctx, this.opts.store, current.id, v, { expectedVersion, eventType }, current);
  }

  protected async lock(ctx: ServiceContext, id: string): Promise<T> {
    if (!isUuid(id)) throw notFound(this.opts.store.label);
    return lockRecord(ctx, this.opts.store, id);
  }

  /** ADMIN, MANAGER and write-scoped keys write anything; a REP what it owns or what has no owner. */
  protected assertCanWrite(viewer: Viewer, ownerId: string | null | undefined): void {
    if (this.opts.owned) assertMayChange(viewer, ownerId);
  }

  /** The references `values` makes: the declared reference fields it sets, and its owner. */
  protected referencesIn(values: Record<string, unknown>): Ref[] {
    const refs: Ref[] = Object.entries(this.opts.references ?? {}).map(([field, r]) => ({
      field,
      table: r.table,
      label: r.label,
      id: values[field] as string | null | undefined,
    }));
    if (this.opts.owned) refs.push({ field: 'ownerId', table: 'app_user', id: values.ownerId as string | null | undefined, label: 'user' });
    return refs;
  }

  /**
   * Checks, writing nothing, that the records an update input refers to by id are live records of
   * the workspace (its owner an active user): for inputs kept to be applied later, such as the
   * fields an automation rule sets. BAD_USER_INPUT names each field as `<prefix><field>`.
   */
  async checkReferences(tx: TenantTransaction, input: Record<string, unknown>, prefix = ''): Promise<void> {
    await assertReferences(tx, this.referencesIn(input), prefix);
  }

  /** Runs a write in a savepoint and turns constraint violations into client errors. */
  protected async write<R>(ctx: ServiceContext, fn: () => Promise<R>): Promise<R> {
    try {
      return await ctx.tx.savepoint(fn);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw constraintError(err, this.opts.store.label) ?? err;
    }
  }
}

/**
 * Every referenced id must be a live record of this workspace (a user: an active one): one query for
 * all of them. BAD_USER_INPUT names each missing one as `<prefix><field>`.
 */
async function assertReferences(tx: TenantTransaction, refs: Ref[], prefix = ''): Promise<void> {
  const given = refs.filter((r) => r.id != null);
  if (given.length === 0) return;
  const errors: FieldError[] = [];
  const checks: string[] = [];
  const params: unknown[] = [tx.workspaceId];
  for (const r of given) {
    if (!isUuid(r.id)) {
      errors.push({ field: `${prefix}${r.field}`, message: `no such ${r.label}` });
      continue;
    }
    params.push(r.id);
    const live = r.table === 'app_user' ? 'active AND deleted_at IS NULL' : 'deleted_at IS NULL';
    checks.push(`SELECT ${checks.length} AS i WHERE NOT EXISTS (SELECT 1 FROM ${r.table} WHERE workspace_id = $1 AND id = $${params.length} AND ${live})`);
  }
  const valid = given.filter((r) => isUuid(r.id));
  if (checks.length) {
    const missing = await tx.query<{ i: number }>(checks.join(' UNION ALL '), params);
    for (const m of missing) errors.push({ field: `${prefix}${valid[m.i].field}`, message: `no such ${valid[m.i].label}` });
  }
  if (errors.length) throw badInput(errors);
}
