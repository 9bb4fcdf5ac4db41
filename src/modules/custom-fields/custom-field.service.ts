import { rowMapper } from '../../data/hydrate';
import { isUuid, type TenantTransaction } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { badField, badInput, conflict, type FieldError, notFound } from '../../kernel/errors';
import { isIsoDate } from '../../graphql/scalars';
import type { CustomFieldTypes, SqlType } from '../../data/sql';
import { requireAdmin } from '../../kernel/viewer';
import { EntityType } from '../../graphql/enums';
import { recordEvent } from '../../data/event-log';
import { insertRecord, lockRecord, type StoreSpec, updateRecord } from '../../data/record-store';
import { CustomFieldDefinition, CustomFieldType } from './custom-field.entity';
import type { DefineCustomFieldInput, UpdateCustomFieldInput } from './custom-field.types';

const CUSTOM_FIELD_ENTITIES = [EntityType.ACCOUNT, EntityType.CONTACT, EntityType.LEAD, EntityType.OPPORTUNITY, EntityType.ACTIVITY];

const STORE: StoreSpec<CustomFieldDefinition> = {
  table: 'custom_field_definition',
  entity: CustomFieldDefinition,
  entityType: 'custom_field',
  label: 'Custom field',
  trackedFields: ['entityType', 'key', 'label', 'type', 'options', 'required'],
  toData: (d) => ({ id: d.id, entityType: d.entityType, key: d.key, label: d.label, type: d.type, options: d.options, required: d.required }),
};

const SQL_TYPE: Record<CustomFieldType, SqlType | 'text[]'> = {
  TEXT: 'text',
  NUMBER: 'numeric',
  DECIMAL: 'numeric',
  DATE: 'date',
  BOOLEAN: 'boolean',
  SELECT: 'text',
  MULTI_SELECT: 'text[]',
};

const MAX_TEXT = 10_000;

/**
 * Custom fields: per-workspace definitions, and the validation of values on every write. Values live
 * in the record's `custom_fields` JSONB column, typed by their definition so they filter and sort.
 */
/** Names what in a workspace (a stored filter, a rule) still uses custom field `key` of `entityType`. */
type CustomFieldUsers = (ctx: ServiceContext, entityType: string, key: string) => Promise<string[]>;

export class CustomFieldService {
  // Modules that store filters say here what uses a field (they sit above this one: it cannot import them).
  private readonly users: CustomFieldUsers[] = [];
  // Definitions are read once per transaction (a request) and forgotten when it ends.
  private readonly cache = new WeakMap<TenantTransaction, Promise<CustomFieldDefinition[]>>();

  all(tx: TenantTransaction): Promise<CustomFieldDefinition[]> {
    let hit = this.cache.get(tx);
    if (!hit) {
      hit = tx
        .query('SELECT * FROM custom_field_definition WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY entity_type, position, key', [tx.workspaceId])
        .then((rows) => rows.map(rowMapper(tx.dataSource, CustomFieldDefinition)));
      this.cache.set(tx, hit);
    }
    return hit;
  }

  /** Registers a lookup of stored things that use a field: its removal is refused while any does. */
  addUsers(lookup: CustomFieldUsers): void {
    this.users.push(lookup);
  }

  async list(ctx: ServiceContext, entityType?: EntityType | null): Promise<CustomFieldDefinition[]> {
    const all = await this.all(ctx.tx);
    return entityType ? all.filter((d) => d.entityType === entityType) : all;
  }

  /** One live custom field, as `customFieldDefinitions` lists it; a removed one is NOT_FOUND. */
  async get(ctx: ServiceContext, id: string): Promise<CustomFieldDefinition> {
    const found = (await this.all(ctx.tx)).find((d) => d.id === id);
    if (!found) throw notFound('Custom field');
    return found;
  }

  /** SQL types of every custom field, by table name, for the filter compiler. */
  async sqlTypes(tx: TenantTransaction): Promise<Map<string, CustomFieldTypes>> {
    const out = new Map<string, Map<string, SqlType | 'text[]'>>();
    for (const d of await this.all(tx)) {
      if (!out.has(d.entityType)) out.set(d.entityType, new Map());
      out.get(d.entityType)!.set(d.key, SQL_TYPE[d.type]);
    }
    return out;
  }

  /**
   * Checks the custom field values of a write against the definitions and returns the merged values
   * to store. Unknown keys, wrong types, values outside the options and missing required values are
   * BAD_USER_INPUT, one entry per field (`customFields.<key>`). `null` removes a value.
   */
  async validate(tx: TenantTransaction, entityType: EntityType, input: unknown, current: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (input != null && (typeof input !== 'object' || Array.isArray(input))) throw badField('customFields', 'must be an object of values by key');
    const defs = new Map((await this.all(tx)).filter((d) => d.entityType === entityType).map((d) => [d.key, d]));
    const merged: Record<string, unknown> = { ...current };
    const errors: FieldError[] = [];
    for (const [key, value] of Object.entries((input ?? {}) as Record<string, unknown>)) {
      const def = defs.get(key);
      if (!def) {
        errors.push({ field: `customFields.${key}`, message: `no custom field ${key} on ${entityType}` });
        continue;
      }
      if (value === null) {
        delete merged[key];
        continue;
      }
      const problem = checkValue(def, value);
      if (problem) errors.push({ field: `customFields.${key}`, message: problem });
      else merged[key] = normalise(def, value);
    }
    for (const def of defs.values()) {
      const v = merged[def.key];
      if (def.required && (v == null || v === '' || (Array.isArray(v) && v.length === 0)))
        errors.push({ field: `customFields.${def.key}`, message: `${def.label} is required` });
    }
    if (errors.length) throw badInput(errors);
    return merged;
  }

  async define(ctx: ServiceContext, input: DefineCustomFieldInput): Promise<CustomFieldDefinition> {
    requireAdmin(ctx.viewer);
    if (!CUSTOM_FIELD_ENTITIES.includes(input.entityType))
      throw badField('entityType', 'custom fields apply to accounts, contacts, leads, opportunities and activities');
    const options = input.options ?? [];
    const isSelect = input.type === CustomFieldType.SELECT || input.type === CustomFieldType.MULTI_SELECT;
    if (isSelect && options.length === 0) throw badField('options', 'a SELECT or MULTI_SELECT field needs options');
    if (!isSelect && options.length > 0) throw badField('options', 'only SELECT and MULTI_SELECT fields take options');
    return ctx.tx.savepoint(async () => {
      const taken = await ctx.tx.one('SELECT 1 FROM custom_field_definition WHERE workspace_id = $1 AND entity_type = $2 AND key = $3 AND deleted_at IS NULL', [
        ctx.tx.workspaceId,
        input.entityType,
        input.key,
      ]);
      if (taken) throw conflict(`A custom field ${input.key} already exists on ${input.entityType}`);
      const position = (await ctx.tx.one<{ n: number }>(
        'SELECT count(*)::int AS n FROM custom_field_definition WHERE workspace_id = $1 AND entity_type = $2 AND deleted_at IS NULL',
        [ctx.tx.workspaceId, input.entityType],
      ))!.n;
      const { record } = await insertRecord(ctx, STORE, {
        entityType: input.entityType,
        key: input.key,
        label: input.label.trim(),
        type: input.type,
        options,
        required: input.required ?? false,
        position,
      });
      this.cache.delete(ctx.tx);
      return record;
    });
  }

  async update(ctx: ServiceContext, id: string, input: UpdateCustomFieldInput): Promise<CustomFieldDefinition> {
    requireAdmin(ctx.viewer);
    if (!isUuid(id)) throw notFound('Custom field');
    return ctx.tx.savepoint(async () => {
      const current = await lockRecord(ctx, STORE, id);
      if (current.deletedAt) throw notFound('Custom field');
      if (input.options) {
        const isSelect = current.type === CustomFieldType.SELECT || current.type === CustomFieldType.MULTI_SELECT;
        if (!isSelect) throw badField('options', 'only SELECT and MULTI_SELECT fields take options');
        const removed = current.options.filter((o) => !input.options!.includes(o));
        if (removed.length) await this.assertOptionsUnused(ctx, current, removed);
      }
      const { record } = await updateRecord(ctx, STORE, id, { label: input.label?.trim(), options: input.options, required: input.required }, {}, current);
      this.cache.delete(ctx.tx);
      return record;
    });
  }

  /** Removes the definition and its values from every record (each record change is an event). */
  async remove(ctx: ServiceContext, id: string): Promise<CustomFieldDefinition> {
    requireAdmin(ctx.viewer);
    if (!isUuid(id)) throw notFound('Custom field');
    return ctx.tx.savepoint(async () => {
      const current = await lockRecord(ctx, STORE, id);
      if (current.deletedAt) throw notFound('Custom field');
      // A stored filter naming a field that is gone could no longer run (and a field defined again with
      // another type would change what it means): what uses a field keeps it.
      const usedBy = (await Promise.all(this.users.map((lookup) => lookup(ctx, current.entityType, current.key)))).flat();
      if (usedBy.length) throw conflict(`Custom field ${current.key} is still used by ${usedBy.join(', ')}: change or delete them first`, { usedBy });
      const { record } = await updateRecord(ctx, STORE, id, { deletedAt: new Date() }, { eventType: 'custom_field.removed' }, current);
      const table = current.entityType;
      const changed = await ctx.tx.query<{ id: string; old: unknown }>(
        `WITH old AS (SELECT id, custom_fields->$3 AS old FROM ${table} WHERE workspace_id = $1 AND custom_fields ? $2 FOR UPDATE)
         UPDATE ${table} t SET custom_fields = t.custom_fields - $2, version = t.version + 1, updated_at = now()
         FROM old WHERE t.workspace_id = $1 AND t.id = old.id RETURNING t.id, old.old`,
        [ctx.tx.workspaceId, current.key, current.key],
      );
      for (const row of changed) {
        await recordEvent(ctx.tx, {
          type: `${table}.updated`,
          entityType: table,
          entityId: row.id,
          actor: ctx.actor,
          changes: [{ field: `customFields.${current.key}`, old: row.old, new: null }],
        });
      }
      this.cache.delete(ctx.tx);
      return record;
    });
  }

  private async assertOptionsUnused(ctx: ServiceContext, def: CustomFieldDefinition, removed: string[]): Promise<void> {
    const cond = def.type === CustomFieldType.MULTI_SELECT ? `custom_fields->$2 ?| $3::text[]` : `custom_fields->>$2 = ANY($3::text[])`;
    const used = await ctx.tx.one(`SELECT 1 FROM ${def.entityType} WHERE workspace_id = $1 AND deleted_at IS NULL AND ${cond} LIMIT 1`, [
      ctx.tx.workspaceId,
      def.key,
      removed,
    ]);
    if (used) throw conflict(`Options still in use cannot be removed: ${removed.join(', ')}`);
  }
}

function checkValue(def: CustomFieldDefinition, v: unknown): string | null {
  switch (def.type) {
    case CustomFieldType.TEXT:
      return typeof v === 'string' && v.length <= MAX_TEXT ? null : `must be text of at most ${MAX_TEXT} characters`;
    case CustomFieldType.NUMBER:
      return typeof v === 'number' && Number.isFinite(v) ? null : 'must be a number';
    case CustomFieldType.DECIMAL:
      return (typeof v === 'string' && /^-?\d{1,18}(\.\d{1,6})?$/.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v))
        ? null
        : 'must be a decimal written as a string, e.g. "12.50"';
    case CustomFieldType.DATE:
      return isIsoDate(v) ? null : 'must be a date YYYY-MM-DD';
    case CustomFieldType.BOOLEAN:
      return typeof v === 'boolean' ? null : 'must be true or false';
    case CustomFieldType.SELECT:
      return typeof v === 'string' && def.options.includes(v) ? null : `must be one of: ${def.options.join(', ')}`;
    case CustomFieldType.MULTI_SELECT:
      return Array.isArray(v) && v.every((x) => typeof x === 'string' && def.options.includes(x)) ? null : `must be a list of: ${def.options.join(', ')}`;
  }
}

function normalise(def: CustomFieldDefinition, v: unknown): unknown {
  if (def.type === CustomFieldType.DECIMAL) return String(v);
  if (def.type === CustomFieldType.MULTI_SELECT) return [...new Set(v as string[])];
  return v;
}
