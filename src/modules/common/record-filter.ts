import { isStatementTimeout, type TenantTransaction } from '../../db/tenant-transaction';
import { AppError, badField } from '../../kernel/errors';
import { compileFilter } from '../../data/filter';
import { type EntitySpec, SqlParams } from '../../data/sql';
import { RECORD_KINDS } from '../registry';
import type { CustomFieldService } from '../custom-fields/custom-field.service';

/** The kinds of records a stored filter (of a webhook endpoint, an automation rule) may select, by event entity type: those whose descriptor says how. */
export const FILTERABLE: Readonly<Record<string, { spec: EntitySpec; graphqlType: string }>> = Object.fromEntries(
  RECORD_KINDS.flatMap((k) => (k.filter ? [[k.entityType, k.filter]] : [])),
);

/**
 * How long a statement of a shared consumer's transaction may run (a stored filter on a workspace's
 * records): the consumer works through every workspace's events one workspace after the other, so a
 * slow filter would hold up everyone. Longer is the filter's own fault.
 */
const STORED_FILTER_TIMEOUT_MS = 5000;

/** Limits the statements of the rest of a consumer's transaction to STORED_FILTER_TIMEOUT_MS. */
export async function limitStoredFilters(tx: TenantTransaction): Promise<void> {
  await tx.query(`SET LOCAL statement_timeout = ${STORED_FILTER_TIMEOUT_MS}`);
}

/** Why a stored filter failed by its own doing (refused: a custom field it names is gone; or too slow), or null when it did not. */
export function storedFilterFault(err: unknown): string | null {
  if (err instanceof AppError) return err.message;
  if (isStatementTimeout(err)) return `it ran longer than ${STORED_FILTER_TIMEOUT_MS / 1000} s`;
  return null;
}

/**
 * Filters of the shared language, stored as JSON and applied later to the records events are about.
 * A record matches when its current row (deleted or not) satisfies the filter.
 */
export class RecordFilterService {
  constructor(private readonly customFields: CustomFieldService) {}

  /** Compiles the filter once, so that unknown custom fields are refused when it is stored. */
  async check(tx: TenantTransaction, entityType: string, filter: Record<string, unknown>): Promise<void> {
    const spec = FILTERABLE[entityType]!.spec;
    compileFilter(spec, filter, 't', new SqlParams([tx.workspaceId]), await this.customFields.sqlTypes(tx));
    // The custom fields it names are held (FOR SHARE) until the filter is stored: a removal running
    // at the same time either waits and then sees this filter among the field's users (and is
    // refused), or commits first and this check finds the field gone.
    const named = referencedCustomFields(entityType, filter);
    if (!named.length) return;
    const held = await tx.query(
      `SELECT 1 FROM custom_field_definition WHERE workspace_id = $1 AND deleted_at IS NULL AND entity_type || '.' || key = ANY($2::text[]) FOR SHARE`,
      [tx.workspaceId, named],
    );
    if (held.length < named.length) throw badField('filter', `a custom field it names was removed meanwhile: ${named.join(', ')}`);
  }

  /** The live records of `entityType` the filter selects (at most `limit`), oldest first. */
  async select(tx: TenantTransaction, entityType: string, filter: Record<string, unknown> | null, limit: number): Promise<string[]> {
    const target = FILTERABLE[entityType];
    if (!target) return [];
    const params = new SqlParams([tx.workspaceId]);
    const mentionsCustom = /customField/.test(JSON.stringify(filter));
    const where = compileFilter(target.spec, filter, 't', params, mentionsCustom ? await this.customFields.sqlTypes(tx) : undefined);
    const rows = await tx.query<{ id: string }>(
      `SELECT t.id FROM ${target.spec.table} t WHERE t.workspace_id = $1 AND t.deleted_at IS NULL AND ${where} ORDER BY t.created_at, t.id LIMIT ${Math.floor(limit)}`,
      params.values,
    );
    return rows.map((r) => r.id);
  }

  /** The filter as SQL on alias `t`, its parameters added to `params` (for queries that add their own conditions). */
  async compile(tx: TenantTransaction, entityType: string, filter: Record<string, unknown> | null, params: SqlParams): Promise<string> {
    const mentionsCustom = /customField/.test(JSON.stringify(filter));
    return compileFilter(FILTERABLE[entityType]!.spec, filter, 't', params, mentionsCustom ? await this.customFields.sqlTypes(tx) : undefined);
  }

  /** Which of `ids` (records of `entityType` in the transaction's workspace) the filter selects. */
  async matching(tx: TenantTransaction, entityType: string, filter: Record<string, unknown> | null, ids: string[]): Promise<Set<string>> {
    const target = FILTERABLE[entityType];
    if (!target || !ids.length) return new Set();
    const params = new SqlParams([tx.workspaceId, ids]);
    const mentionsCustom = /customField/.test(JSON.stringify(filter));
    const where = compileFilter(target.spec, filter, 't', params, mentionsCustom ? await this.customFields.sqlTypes(tx) : undefined);
    const rows = await tx.query<{ id: string }>(
      `SELECT t.id FROM ${target.spec.table} t WHERE t.workspace_id = $1 AND t.id = ANY($2::uuid[]) AND ${where}`,
      params.values,
    );
    return new Set(rows.map((r) => r.id));
  }
}

/**
 * The custom fields a stored filter of `entityType` names, as `<table>.<key>` (relation sub-filters
 * name their own kind's: `{ account: { customFields: [{ key: "tier" }] } }` on a contact is `account.tier`).
 */
export function referencedCustomFields(entityType: string | null, filter: unknown): string[] {
  const spec = entityType ? FILTERABLE[entityType]?.spec : undefined;
  const out = new Set<string>();
  if (spec) collectCustomFields(spec, filter, out, 0);
  return [...out];
}

function collectCustomFields(spec: EntitySpec, filter: unknown, out: Set<string>, depth: number): void {
  if (!filter || typeof filter !== 'object' || depth > 20) return;
  for (const [k, v] of Object.entries(filter)) {
    if ((k === 'and' || k === 'or') && Array.isArray(v)) v.forEach((f) => collectCustomFields(spec, f, out, depth + 1));
    else if (k === 'not') collectCustomFields(spec, v, out, depth + 1);
    else if (k === 'customFields' && Array.isArray(v)) v.filter((cf) => typeof cf?.key === 'string').forEach((cf) => out.add(`${spec.table}.${cf.key}`));
    else if (spec.relations?.[k]) collectCustomFields(spec.relations[k].spec(), v, out, depth + 1);
  }
}
