/** Collects positional parameters for a SQL statement: `p.add(v)` returns `$n`. */
export class SqlParams {
  readonly values: unknown[] = [];
  constructor(initial: unknown[] = []) {
    this.values.push(...initial);
  }
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** SQL types a field may have; comparisons cast their parameter to it. */
export type SqlType = 'text' | 'int' | 'bigint' | 'numeric' | 'date' | 'timestamptz' | 'boolean' | 'uuid';

export interface FieldSpec {
  /** The SQL expression of the field for a table alias. */
  sql: (alias: string) => string;
  type: SqlType;
  nullable: boolean;
}

interface RelationSpec {
  spec: () => EntitySpec;
  /** The join condition between the outer alias and the related alias. */
  on: (outer: string, inner: string) => string;
}

/** How an entity is filtered and ordered in SQL: written once per entity, used by every list. */
export interface EntitySpec {
  table: string;
  fields: Record<string, FieldSpec>;
  relations?: Record<string, RelationSpec>;
  softDelete: boolean;
  /** The JSONB column of custom field values, when the entity has custom fields. */
  customFields?: string;
  /**
   * A rollup of the live rows' count (column `n`, signed deltas summed) keyed by the columns of these
   * fields, and of the relations through them, under the same column names: a count whose filter uses
   * only these is the sum of `n` over the rollup rows the same filter selects (every source row of a
   * rollup row has its key values, so a condition on them holds for all of them or for none).
   */
  countRollup?: { table: string; fields: string[]; relations: string[] };
}

/** The SQL type of each custom field of an entity (from the workspace's definitions), by key. */
export type CustomFieldTypes = ReadonlyMap<string, SqlType | 'text[]'>;

const CUSTOM_KEY = /^[a-z][a-zA-Z0-9_]{0,62}$/;

/** A custom field as a field spec: its JSONB value cast to its type (values are validated on write). */
export function customFieldSpec(column: string, key: string, type: SqlType): FieldSpec {
  if (!CUSTOM_KEY.test(key)) throw new Error(`invalid custom field key ${key}`);
  return { sql: (a) => `(${a}.${column}->>'${key}')::${type}`, type, nullable: true };
}

export const col = (column: string, type: SqlType, nullable = false): FieldSpec => ({ sql: (a) => `${a}.${column}`, type, nullable });

/** A relation through a foreign key column of this table, in the same workspace. */
export const belongsTo = (spec: () => EntitySpec, column: string): RelationSpec => ({
  spec,
  on: (outer, inner) => `${inner}.workspace_id = ${outer}.workspace_id AND ${inner}.id = ${outer}.${column}`,
});

/** Escapes LIKE wildcards so that user text is matched literally. */
export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c);
