import { createHash } from 'node:crypto';
import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';
import { type ClassType, Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { TenantTransaction } from '../db/tenant-transaction';
import { AppError, badField } from '../kernel/errors';
import { compileFilter, type FilterInput } from './filter';
import type { Include } from './lookahead';
import { type CustomFieldTypes, customFieldSpec, type EntitySpec, type FieldSpec, SqlParams } from './sql';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export enum SortDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(SortDirection, {
  name: 'SortDirection',
  description: 'Ascending or descending.',
  valuesConfig: { ASC: { description: 'Smallest, earliest or A first.' }, DESC: { description: 'Largest, latest or Z first.' } },
});

enum NullsOrder {
  FIRST = 'FIRST',
  LAST = 'LAST',
}
registerEnumType(NullsOrder, {
  name: 'NullsOrder',
  description: 'Where records without a value sort. Default: last when ascending, first when descending.',
  valuesConfig: { FIRST: { description: 'Records without a value come first.' }, LAST: { description: 'Records without a value come last.' } },
});

@ObjectType({ description: 'Where a page sits in the whole list.' })
class PageInfo {
  @Field({ description: 'More records follow the last one of this page.' }) hasNextPage: boolean;
  @Field({ description: 'Records precede the first one of this page.' }) hasPreviousPage: boolean;
  @Field(() => String, { nullable: true, description: 'The cursor of the first record of the page.' }) startCursor: string | null;
  @Field(() => String, { nullable: true, description: 'The cursor of the last record of the page.' }) endCursor: string | null;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface OrderInput {
  field?: string | null;
  /** Sort by a custom field instead of `field`. */
  customField?: string | null;
  direction?: SortDirection | null;
  nulls?: NullsOrder | null;
}

/**
 * An edge whose cursor is encoded when it is read: a client reading `nodes` (an export, most lists)
 * reads only the page's last cursor, and encoding one per row was 4% of the server's time on a page of 500.
 */
class PageEdge<T> {
  constructor(
    private readonly keyValues: (string | null)[],
    private readonly signature: string,
    readonly node: T,
  ) {}
  get cursor(): string {
    return encodeCursor(this.keyValues, this.signature);
  }
}

/** The lazily counted part of a connection: `totalCount` runs its query only when selected. */
export abstract class ConnectionBase<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  countQuery: () => Promise<number>;

  nodes(): T[] {
    return this.edges.map((e) => e.node);
  }
  totalCount(): Promise<number> {
    return this.countQuery();
  }
}

/** A Relay connection type for `node`: `edges { cursor node }`, `nodes`, `pageInfo`, `totalCount`. */
export function ConnectionType<T extends object>(node: ClassType<T>, name = node.name): ClassType<ConnectionBase<T>> {
  @ObjectType(`${name}Edge`, { description: `A ${name} in a page, with its cursor.` })
  class Edge {
    @Field({ description: 'Pass as `after` or `before` to page from here.' }) cursor: string;
    @Field(() => node, { description: `The ${name}.` }) node: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} records.` })
  class Connection extends ConnectionBase<T> {
    @Field(() => [Edge], { description: 'The records of the page, with their cursors.' }) declare edges: { cursor: string; node: T }[];
    @Field(() => PageInfo, { description: 'Where the page sits in the whole list.' }) declare pageInfo: PageInfo;
    @Field(() => [node], { name: 'nodes', description: 'The records of the page.' }) override nodes(): T[] {
      return super.nodes();
    }
    @Field(() => Int, { name: 'totalCount', description: 'How many records match in all (counted only when asked for).' })
    override totalCount(): Promise<number> {
      return super.totalCount();
    }
  }
  return Connection;
}

/** An order input type for an entity: `{ field, direction, nulls }`. */
export function OrderType<E extends object>(fieldEnum: E, name: string): ClassType<OrderInput> {
  @InputType(`${name}Order`, { description: `A sort key for ${name} lists; the id breaks ties.` })
  class Order {
    @Field(() => fieldEnum, { nullable: true, description: 'The field to sort by (or give customField).' }) field?: string;
    @Field({ nullable: true, description: 'The key of a custom field to sort by, instead of field.' }) customField?: string;
    @Field(() => SortDirection, { nullable: true, defaultValue: SortDirection.ASC, description: 'ASC (default) or DESC.' }) direction?: SortDirection;
    @Field(() => NullsOrder, { nullable: true, description: 'Where records without a value go.' }) nulls?: NullsOrder;
  }
  return Order;
}

interface SortKey {
  expr: string;
  type: FieldSpec['type'];
  nullable: boolean;
  desc: boolean;
  nullsFirst: boolean;
}

interface ListOptions<T> extends PageArgs {
  tx: TenantTransaction;
  spec: EntitySpec;
  filter?: Record<string, unknown> | null;
  orderBy?: OrderInput[] | null;
  defaultOrder: OrderInput[];
  includeDeleted?: boolean | null;
  /** The custom field types of the workspace, by table: for filters and orders on custom fields. */
  customTypes?: ReadonlyMap<string, CustomFieldTypes>;
  /** Extra SQL conditions on alias `t` (e.g. a parent id), with their parameters already added. */
  where?: (params: SqlParams) => string;
  map: (row: Record<string, unknown>) => T;
  /** The SELECT list of a row on alias `t` (default `t.*`). */
  select?: string;
  /** Relations of the rows to fetch in the page's statement (look-ahead), priming the loaders. */
  include?: Include[];
  /** False when only totalCount is asked for: the page's rows are then not read at all. */
  rows?: boolean;
}

/** Whether a connection field's selection reads rows (edges, nodes, pageInfo) or only totalCount. */
export function selectsRows(info: GraphQLResolveInfo): boolean {
  const wants = (set: SelectionSetNode | undefined): boolean =>
    !!set?.selections.some((s) => {
      if (s.kind === Kind.FIELD) return s.name.value !== 'totalCount' && s.name.value !== '__typename';
      if (s.kind === Kind.INLINE_FRAGMENT) return wants(s.selectionSet);
      return wants(info.fragments[s.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((n) => wants(n.selectionSet));
}

/** Field enum values are SCREAMING_SNAKE versions of the spec's camelCase field names. */
const enumToField = (v: string) => v.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * One page of a list, keyset-paginated: the cursor holds the sort values of a row, and the next page
 * starts strictly after them, so page 10 000 costs what page 1 costs.
 */
export async function paginate<T>(o: ListOptions<T>): Promise<ConnectionBase<T>> {
  const { first, last, after, before } = o;
  if (first != null && last != null) throw badField('first', 'give either first or last, not both');
  if (first != null && (first < 0 || first > MAX_PAGE_SIZE)) throw badField('first', `must be between 0 and ${MAX_PAGE_SIZE}`);
  if (last != null && (last < 0 || last > MAX_PAGE_SIZE)) throw badField('last', `must be between 0 and ${MAX_PAGE_SIZE}`);
  const backward = last != null || (before != null && first == null);
  const size = (backward ? last : first) ?? DEFAULT_PAGE_SIZE;

  const customTypes = o.customTypes ?? new Map<string, CustomFieldTypes>();
  const keys = sortKeys(o.spec, o.orderBy?.length ? o.orderBy : o.defaultOrder, customTypes.get(o.spec.table));
  const signature = createHash('sha1')
    .update(keys.map((k) => `${k.expr}|${k.desc}|${k.nullsFirst}`).join(','))
    .digest('base64url')
    .slice(0, 8);

  const params = new SqlParams([o.tx.workspaceId]);
  const conds = ['t.workspace_id = $1'];
  if (o.spec.softDelete && !o.includeDeleted) conds.push('t.deleted_at IS NULL');
  if (o.where) conds.push(o.where(params));
  const filterSql = compileFilter(o.spec, o.filter, 't', params, customTypes);
  if (filterSql !== 'TRUE') conds.push(filterSql);
  const baseConds = [...conds];
  const countParams = params.values.slice();

  if (after) conds.push(keysetCondition(keys, decodeCursor(after, keys, signature, 'after'), params, false));
  if (before) conds.push(keysetCondition(keys, decodeCursor(before, keys, signature, 'before'), params, true));

  const reverse = backward;
  // A key that is never null gets no NULLS clause: Postgres' default for its direction is what a
  // plain index (forwards or backwards) yields, so the index serves the whole order without a sort.
  const orderSql = keys
    .map((k) => `${k.expr} ${k.desc !== reverse ? 'DESC' : 'ASC'}${k.nullable ? ` NULLS ${k.nullsFirst !== reverse ? 'FIRST' : 'LAST'}` : ''}`)
    .join(', ');
  const keySelect = keys.map((k, i) => `(${k.expr})::text AS __k${i}`).join(', ');
  const include = o.include ?? [];
  const perRow = include.flatMap((inc) => (inc.perPage ? [] : [inc]));
  const perPage = include.flatMap((inc) => (inc.perPage ? [inc] : []));
  const includeSelect = perRow.map((inc, i) => `, ${inc.sql} AS __i${i}`).join('');
  let sql = `SELECT ${o.select ?? 't.*'}, ${keySelect}${includeSelect} FROM ${o.spec.table} t WHERE ${conds.join(' AND ')} ORDER BY ${orderSql} LIMIT ${size + 1}`;
  // Relations many rows share come once, on the first row: the page is a CTE (its rows kept in
  // order, numbered as they come) that each per-page expression reads.
  if (perPage.length) {
    const pageSelect = perPage.map((inc, i) => `, CASE WHEN p.__n = 1 THEN ${inc.sql('$1')} END AS __p${i}`).join('');
    sql = `WITH page AS MATERIALIZED (${sql}) SELECT p.*${pageSelect} FROM (SELECT page.*, row_number() OVER () AS __n FROM page) p ORDER BY p.__n`;
  }
  const rows = o.rows === false ? [] : await o.tx.query(sql, params.values);
  if (rows.length) perPage.forEach((inc, i) => inc.prime(rows, rows[0][`__p${i}`]));

  const more = rows.length > size;
  const pageRows = rows.slice(0, size);
  if (reverse) pageRows.reverse();
  for (const row of pageRows) perRow.forEach((inc, i) => inc.prime(row, row[`__i${i}`]));
  const edges = pageRows.map(
    (row) =>
      new PageEdge(
        keys.map((_, i) => row[`__k${i}`] as string | null),
        signature,
        o.map(row),
      ),
  );
  const pageInfo: PageInfo = {
    hasNextPage: reverse ? before != null : more,
    hasPreviousPage: reverse ? more : after != null,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges[edges.length - 1]?.cursor ?? null,
  };
  const countQuery = () => {
    // Only when totalCount is selected: the filter is compiled a second time, against the rollup's keys.
    const rolled = o.where || o.includeDeleted ? null : rollupCount(o.spec, o.filter, o.tx.workspaceId);
    if (rolled) return o.tx.scalar<number>(rolled.sql, rolled.params);
    return o.tx.scalar<number>(`SELECT count(*)::int FROM ${o.spec.table} t WHERE ${baseConds.join(' AND ')}`, countParams);
  };
  return { edges, pageInfo, countQuery } as unknown as ConnectionBase<T>;
}

/**
 * The count of a list of live rows from the kind's rollup (EntitySpec.countRollup), when its filter
 * names only the rollup's keys: thousands of rollup rows summed instead of a million rows counted.
 * Null when the filter names anything else (it is then counted from the table).
 */
function rollupCount(spec: EntitySpec, filter: Record<string, unknown> | null | undefined, workspaceId: string): { sql: string; params: unknown[] } | null {
  const r = spec.countRollup;
  if (!r || !spec.softDelete) return null;
  const keysOnly: EntitySpec = {
    table: r.table,
    softDelete: false,
    fields: Object.fromEntries(r.fields.map((f) => [f, spec.fields[f]])),
    relations: Object.fromEntries(r.relations.map((name) => [name, spec.relations![name]])),
  };
  const params = new SqlParams([workspaceId]);
  let where: string;
  try {
    where = compileFilter(keysOnly, filter as FilterInput, 't', params);
  } catch (err) {
    // A field that is not a key (already checked against the full spec): counted from the table.
    if (err instanceof AppError) return null;
    throw err;
  }
  return { sql: `SELECT coalesce(sum(t.n), 0)::int FROM ${r.table} t WHERE t.workspace_id = $1 AND ${where}`, params: params.values };
}

function sortKeys(spec: EntitySpec, order: OrderInput[], custom: CustomFieldTypes | undefined): SortKey[] {
  if (order.length > 5) throw badField('orderBy', 'at most 5 sort keys');
  const keys: SortKey[] = order.map((o) => {
    if ((o.field == null) === (o.customField == null)) throw badField('orderBy', 'give either field or customField in each sort key');
    let f: FieldSpec | undefined;
    if (o.customField != null) {
      const type = custom?.get(o.customField);
      if (!type || !spec.customFields) throw badField('orderBy', `no custom field ${o.customField}`);
      if (type === 'text[]') throw badField('orderBy', `cannot sort by the MULTI_SELECT field ${o.customField}`);
      f = customFieldSpec(spec.customFields, o.customField, type);
    } else {
      f = spec.fields[enumToField(o.field!)];
    }
    if (!f) throw badField('orderBy', `cannot sort by ${o.field}`);
    const desc = o.direction === SortDirection.DESC;
    // Postgres' default: NULLS LAST ascending, FIRST descending, which plain indexes serve.
    const nullsFirst = o.nulls ? o.nulls === NullsOrder.FIRST : desc;
    return { expr: f.sql('t'), type: f.type, nullable: f.nullable, desc, nullsFirst };
  });
  // The id breaks ties (unless it is already a key): every row then has a distinct position.
  if (!keys.some((k) => k.expr === 't.id')) {
    const lastDesc = keys.length ? keys[keys.length - 1].desc : false;
    keys.push({ expr: 't.id', type: spec.fields.id?.type ?? 'uuid', nullable: false, desc: lastDesc, nullsFirst: false });
  }
  return keys;
}

/**
 * The condition "strictly after (or before) the cursor row" for any mix of directions and nulls.
 * When every key runs one way and none is nullable, it is a row comparison that an index serves.
 */
function keysetCondition(keys: SortKey[], values: (string | null)[], params: SqlParams, before: boolean): string {
  const uniform = keys.every((k) => k.desc === keys[0].desc && !k.nullable);
  if (uniform && values.every((v) => v !== null)) {
    const op = keys[0].desc !== before ? '<' : '>';
    return `(${keys.map((k) => k.expr).join(', ')}) ${op} (${values.map((v, i) => `${params.add(v)}::${keys[i].type}`).join(', ')})`;
  }
  const ors: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const beyond = pastValue(keys[i], values[i], params, before);
    // Parameters only for a branch that is kept: one added and not used has no type, and PostgreSQL refuses the statement.
    if (beyond === 'FALSE') continue;
    const eqs = keys.slice(0, i).map((k, j) => (values[j] === null ? `${k.expr} IS NULL` : `${k.expr} = ${params.add(values[j])}::${k.type}`));
    ors.push([...eqs, beyond].join(' AND '));
  }
  if (!ors.length) return 'FALSE';
  // An OR of conditions is no index bound; the first key's own bound (implied by the OR) is one,
  // so a deep page starts its index scan at the cursor instead of at the first row.
  // (Not when nulls of the first key still lie ahead: they would be past the cursor too.)
  const k = keys[0];
  const nullsAhead = k.nullable && k.nullsFirst === before;
  const lead = values[0] !== null && !nullsAhead ? ` AND ${k.expr} ${k.desc !== before ? '<=' : '>='} ${params.add(values[0])}::${k.type}` : '';
  return `(((${ors.join(') OR (')}))${lead})`;
}

function pastValue(k: SortKey, v: string | null, params: SqlParams, before: boolean): string {
  const desc = k.desc !== before;
  const nullsFirst = k.nullsFirst !== before;
  if (v === null) return nullsFirst && k.nullable ? `${k.expr} IS NOT NULL` : 'FALSE';
  const cmp = `${k.expr} ${desc ? '<' : '>'} ${params.add(v)}::${k.type}`;
  return k.nullable && !nullsFirst ? `(${cmp} OR ${k.expr} IS NULL)` : cmp;
}

function encodeCursor(values: (string | null)[], signature: string): string {
  return Buffer.from(JSON.stringify([signature, ...values])).toString('base64url');
}

// What `expr::text` prints for each type: a forged cursor must fail here, not in SQL.
const CURSOR_VALUE: Record<FieldSpec['type'], RegExp> = {
  // eslint-disable-next-line no-control-regex -- a NUL byte is what PostgreSQL's text refuses
  text: /^[^\u0000]{0,10000}$/,
  int: /^-?\d{1,10}$/,
  bigint: /^-?\d{1,19}$/,
  numeric: /^-?\d{1,40}(\.\d{1,40})?$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  timestamptz: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/,
  boolean: /^(true|false)$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

/** A date or timestamp of the right shape must also be a real one (no month 13, no 25:61). */
function realInstant(type: FieldSpec['type'], v: string): boolean {
  if (type !== 'date' && type !== 'timestamptz') return true;
  const [y, mo, d, h = 0, mi = 0, s = 0] = v.match(/\d+/g)!.map(Number);
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
}

function decodeCursor(cursor: string, keys: SortKey[], signature: string, arg: string): (string | null)[] {
  const n = keys.length;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badField(arg, 'is not a valid cursor');
  }
  if (!Array.isArray(parsed) || parsed.length !== n + 1 || !parsed.every((v) => v === null || typeof v === 'string')) {
    throw badField(arg, 'is not a valid cursor');
  }
  if (parsed[0] !== signature) throw badField(arg, 'was made for another orderBy: page with the orderBy it came from');
  const values = parsed.slice(1) as (string | null)[];
  const valid = values.every((v, i) => (v === null ? keys[i].nullable : CURSOR_VALUE[keys[i].type].test(v) && realInstant(keys[i].type, v)));
  if (!valid) throw badField(arg, 'is not a valid cursor');
  return values;
}
