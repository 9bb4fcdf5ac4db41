import {
  type FieldNode,
  getArgumentValues,
  getNamedType,
  type GraphQLField,
  type GraphQLResolveInfo,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from 'graphql';
import type { ObjectLiteral } from 'typeorm';
import { columnProperties, rowCodec } from './row-codec';
import { columnsNeeded, typeNameOf } from './columns';
import type { TenantTransaction } from '../db/tenant-transaction';
import type { Loader, Loaders } from './loaders';

/**
 * Look-ahead for lists: when a page's selection asks for relations of its rows (a deal's account,
 * owner and stage, its latest activities), the page's own statement fetches them too (a record the
 * rows point at: once per page, as one JSON array of the distinct records; children: one JSON value
 * per row) and primes the request's loaders with them. The relation resolvers
 * are unchanged (they ask the loaders) and find everything already there: a page with its
 * relations is one SQL statement, whatever the page size. A relation the selection does not ask
 * for costs nothing; one that cannot be looked ahead (other arguments) is loaded as before.
 */

/**
 * One relation fetched with the page. Per row: a SQL expression on the page's alias `t`, and what to
 * prime with its value. Per page (`perPage`): an expression on the page's rows (the CTE `page`),
 * evaluated once, for a record many rows point at (a stage, an owner): each is read and sent once.
 */
export type Include =
  | { perPage?: false; sql: string; prime(row: Record<string, unknown>, value: unknown): void }
  | { perPage: true; sql(workspaceParam: string): string; prime(rows: Record<string, unknown>[], value: unknown): void };

/** What an include is built from: the request's transaction, loaders and selection. */
interface IncludeContext {
  tx: TenantTransaction;
  loaders: Loaders;
  info: GraphQLResolveInfo;
}

/** How to include one relation field, given the field's arguments; null: do not (the resolver loads it). */
export type IncludeSpec = (c: IncludeContext, args: Record<string, unknown>) => Include | null;

/** The codec of an entity for this request: only the columns its selections need. */
function codecFor<T extends ObjectLiteral>(c: IncludeContext, entity: new () => T) {
  const ds = c.tx.dataSource;
  return rowCodec(ds, entity, columnsNeeded(c.info, typeNameOf(entity), columnProperties(ds, entity)));
}

/**
 * A record the page rows point at by a foreign key column (`account_id` -> the account): each distinct
 * one read once per page, with the same rows as the by-id loader (any row of the workspace with that
 * id, deleted ones too; none: null).
 */
export function toOne<T extends ObjectLiteral & { id: string }>(
  table: string,
  entity: new () => T,
  fk: string,
  loader: (l: Loaders) => Loader<string, T | null>,
): IncludeSpec {
  return (c) => {
    const codec = codecFor(c, entity);
    const target = loader(c.loaders);
    return {
      perPage: true,
      sql: (workspace) => `(SELECT json_agg(${codec.json('r')}) FROM ${table} r WHERE r.workspace_id = ${workspace} AND r.id IN (SELECT page.${fk} FROM page))`,
      prime(rows, value) {
        for (const values of (value ?? []) as (string | null)[][]) {
          const record = codec.decode(values);
          if (!target.has(record.id)) target.prime(record.id, record);
        }
        for (const row of rows) {
          const id = row[fk] as string | null;
          if (id != null && !target.has(id)) target.prime(id, null);
        }
      },
    };
  };
}

/** The first `limit` children of the page row (`activity.opportunity_id = t.id`), in `order`: what a children loader returns. */
export function children<T extends ObjectLiteral>(
  table: string,
  entity: new () => T,
  column: string,
  order: string,
  where: string,
  loader: (l: Loaders, args: Record<string, unknown>) => { loader: Loader<string, T[]>; limit: number } | null,
): IncludeSpec {
  return (c, args) => {
    const target = loader(c.loaders, args);
    if (!target) return null;
    const codec = codecFor(c, entity);
    return {
      perPage: false,
      sql: `(SELECT coalesce(json_agg(${codec.json('c')} ORDER BY ${order}), '[]') FROM
              (SELECT * FROM ${table} c WHERE c.workspace_id = t.workspace_id AND c.${column} = t.id AND ${where} ORDER BY ${order} LIMIT ${target.limit}) c)`,
      prime(row, value) {
        target.loader.prime(
          row.id as string,
          (value as (string | null)[][]).map((v) => codec.decode(v)),
        );
      },
    };
  };
}

/**
 * The includes a list's selection asks for: the fields selected on its nodes (under `nodes` and
 * `edges { node }`, through fragments) that `specs` knows, once per distinct set of arguments.
 */
export function includesOf(info: GraphQLResolveInfo, specs: Record<string, IncludeSpec> | undefined, tx: TenantTransaction, loaders: Loaders): Include[] {
  const c: IncludeContext = { tx, loaders, info };
  if (!specs) return [];
  const connection = getNamedType(info.returnType);
  if (!isObjectType(connection)) return [];
  const nodeType = getNamedType(connection.getFields().nodes?.type);
  if (!isObjectType(nodeType)) return [];
  const fields = nodeType.getFields();

  const out: Include[] = [];
  const seen = new Set<string>();
  const visitNode = (set: SelectionSetNode | undefined) =>
    eachField(info, set, (f) => {
      const spec = specs[f.name.value];
      const def = fields[f.name.value] as GraphQLField<unknown, unknown> | undefined;
      if (!spec || !def) return;
      const args = getArgumentValues(def, f, info.variableValues);
      const key = `${f.name.value}:${JSON.stringify(args)}`;
      if (seen.has(key)) return;
      seen.add(key);
      const include = spec(c, args);
      if (include) out.push(include);
    });
  for (const node of info.fieldNodes) {
    eachField(info, node.selectionSet, (f) => {
      if (f.name.value === 'nodes') visitNode(f.selectionSet);
      else if (f.name.value === 'edges') eachField(info, f.selectionSet, (e) => e.name.value === 'node' && visitNode(e.selectionSet));
    });
  }
  return out;
}

function eachField(info: GraphQLResolveInfo, set: SelectionSetNode | undefined, fn: (f: FieldNode) => void): void {
  for (const s of set?.selections ?? []) {
    if (s.kind === Kind.FIELD) fn(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) eachField(info, s.selectionSet, fn);
    else eachField(info, info.fragments[s.name.value]?.selectionSet, fn);
  }
}
