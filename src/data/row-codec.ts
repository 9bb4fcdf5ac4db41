import { types } from 'pg';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * How an entity's rows are read in hand-written SQL: the columns it maps (never `*`, which also
 * reads columns no entity field needs, such as the search text), and a compact encoding of a whole
 * row as one JSON array, for related rows fetched inside another statement (look-ahead).
 *
 * In that encoding every value travels as the text PostgreSQL would send for it and is parsed by
 * the same type parser the driver uses, so a row decoded from JSON is identical to one read as a
 * row (exact decimals stay strings, timestamps become the same Dates, dates stay strings).
 */
interface RowCodec<T> {
  /** `alias.col1, alias.col2, ...` for a SELECT list. */
  select(alias: string): string;
  /** A SQL expression: the row of `alias` as a JSON array of its columns' text. */
  json(alias: string): string;
  /** A row read as columns, as an entity. */
  map(row: Record<string, unknown>): T;
  /** A row encoded by `json`, as an entity. */
  decode(values: (string | null)[]): T;
}

// The OIDs of the column types the entities use (TypeORM's names for them).
const OIDS: Record<string, number> = {
  uuid: 2950,
  text: 25,
  varchar: 1043,
  'character varying': 1043,
  char: 1042,
  character: 1042,
  int: 23,
  integer: 23,
  int4: 23,
  smallint: 21,
  int2: 21,
  bigint: 20,
  int8: 20,
  numeric: 1700,
  decimal: 1700,
  boolean: 16,
  bool: 16,
  timestamptz: 1184,
  'timestamp with time zone': 1184,
  timestamp: 1114,
  date: 1082,
  jsonb: 3802,
  json: 114,
  'double precision': 701,
  real: 700,
};
const ARRAY_OIDS: Record<number, number> = { 25: 1009, 2950: 2951, 23: 1007, 1043: 1015 };
// Types whose JSON form is already the text the driver would read (char keeps its padding only so).
const AS_IS = new Set([25, 1043, 1042, 2950]);

const cache = new WeakMap<object, Map<string, RowCodec<unknown>>>();

/** The column properties of an entity (those a codec may read). */
export function columnProperties(ds: DataSource, entity: EntityTarget<ObjectLiteral>): ReadonlySet<string> {
  return new Set(
    ds
      .getMetadata(entity)
      .columns.filter((c) => c.isSelect)
      .map((c) => c.propertyName),
  );
}

/**
 * The codec of an entity's rows; with `only`, of just those properties (a partial record: see
 * graphql/columns.ts for when that is safe).
 */
export function rowCodec<T extends ObjectLiteral>(ds: DataSource, entity: EntityTarget<T>, only?: ReadonlySet<string> | null): RowCodec<T> {
  const key = only ? [...only].sort().join(',') : '*';
  let codecs = cache.get(entity as object);
  if (!codecs) cache.set(entity as object, (codecs = new Map()));
  const hit = codecs.get(key);
  if (hit) return hit as RowCodec<T>;
  const meta = ds.getMetadata(entity);
  if (only)
    for (const p of only) if (!meta.columns.some((c) => c.propertyName === p)) throw new Error(`row codec: ${meta.tableName} has no column property ${p}`);
  // Columns marked `select: false` (secrets, large payloads) are read only where a service asks.
  const cols = meta.columns
    .filter((c) => c.isSelect && (!only || only.has(c.propertyName)))
    .map((c) => {
      const typeName = typeof c.type === 'string' ? c.type : String((c.type as { name?: string }).name).toLowerCase();
      const base = OIDS[typeName];
      if (base === undefined) throw new Error(`row codec: no OID for column type ${typeName} (${meta.tableName}.${c.databaseName})`);
      const oid = c.isArray ? ARRAY_OIDS[base] : base;
      if (oid === undefined) throw new Error(`row codec: no array OID for ${typeName}[]`);
      return { db: c.databaseName, prop: c.propertyName, parse: types.getTypeParser(oid, 'text') as (v: string) => unknown, asIs: AS_IS.has(oid) };
    });
  // Entities are data classes without constructor logic: an object with their prototype and the
  // columns assigned in one order is the same record, made without running the class field
  // initialisers (a define per declared field, the most costly part of reading a row).
  const proto = (meta.target as new () => T).prototype as object;
  const codec: RowCodec<T> = {
    select: (a) => cols.map((c) => `${a}.${c.db}`).join(', '),
    json: (a) => `json_build_array(${cols.map((c) => (c.asIs ? `${a}.${c.db}` : `${a}.${c.db}::text`)).join(', ')})`,
    map(row) {
      const out = Object.create(proto) as Record<string, unknown>;
      for (const c of cols) out[c.prop] = row[c.db];
      return out as T;
    },
    decode(values) {
      const out = Object.create(proto) as Record<string, unknown>;
      for (let i = 0; i < cols.length; i++) {
        const v = values[i];
        out[cols[i].prop] = v === null ? null : cols[i].asIs ? v : cols[i].parse(v);
      }
      return out as T;
    },
  };
  codecs.set(key, codec as RowCodec<unknown>);
  return codec;
}
