import { ClassType, Field, ID, InputType, Int } from 'type-graphql';
import { JSONScalar } from '../graphql/scalars';
import { badField } from '../kernel/errors';
import { DateScalar, DecimalScalar } from '../graphql/scalars';
import { type CustomFieldTypes, customFieldSpec, escapeLike, type EntitySpec, type FieldSpec, SqlParams } from './sql';

const MAX_LIST = 1000;
const MAX_NESTING = 8;
/** Nodes a filter may hold: operators, and/or/not and their items, relation sub-filters, custom field entries. */
const MAX_CONDITIONS = 200;

@InputType({ description: 'Conditions on a text field. `contains` and `startsWith` ignore case.' })
export class StringFilter {
  @Field({ nullable: true, description: 'Equal to.' }) eq?: string;
  @Field({ nullable: true, description: 'Not equal to (null values included).' }) ne?: string;
  @Field(() => [String], { nullable: true, description: 'One of.' }) in?: string[];
  @Field(() => [String], { nullable: true, description: 'None of (null values included).' }) notIn?: string[];
  @Field({ nullable: true, description: 'Less than.' }) lt?: string;
  @Field({ nullable: true, description: 'Less than or equal to.' }) lte?: string;
  @Field({ nullable: true, description: 'Greater than.' }) gt?: string;
  @Field({ nullable: true, description: 'Greater than or equal to.' }) gte?: string;
  @Field(() => [String], { nullable: true, description: 'Between two values, both included.' }) between?: string[];
  @Field({ nullable: true, description: 'Contains, ignoring case.' }) contains?: string;
  @Field({ nullable: true, description: 'Starts with, ignoring case.' }) startsWith?: string;
  @Field({ nullable: true, description: 'True: has no value; false: has a value.' }) isNull?: boolean;
}

@InputType({ description: 'Conditions on an integer field.' })
export class IntFilter {
  @Field(() => Int, { nullable: true, description: 'Equal to.' }) eq?: number;
  @Field(() => Int, { nullable: true, description: 'Not equal to (null values included).' }) ne?: number;
  @Field(() => [Int], { nullable: true, description: 'One of.' }) in?: number[];
  @Field(() => [Int], { nullable: true, description: 'None of (null values included).' }) notIn?: number[];
  @Field(() => Int, { nullable: true, description: 'Less than.' }) lt?: number;
  @Field(() => Int, { nullable: true, description: 'Less than or equal to.' }) lte?: number;
  @Field(() => Int, { nullable: true, description: 'Greater than.' }) gt?: number;
  @Field(() => Int, { nullable: true, description: 'Greater than or equal to.' }) gte?: number;
  @Field(() => [Int], { nullable: true, description: 'Between two values, both included.' }) between?: number[];
  @Field({ nullable: true, description: 'True: has no value; false: has a value.' }) isNull?: boolean;
}

@InputType({ description: 'Conditions on an exact decimal field.' })
export class DecimalFilter {
  @Field(() => DecimalScalar, { nullable: true, description: 'Equal to.' }) eq?: string;
  @Field(() => DecimalScalar, { nullable: true, description: 'Not equal to (null values included).' }) ne?: string;
  @Field(() => [DecimalScalar], { nullable: true, description: 'One of.' }) in?: string[];
  @Field(() => [DecimalScalar], { nullable: true, description: 'None of (null values included).' }) notIn?: string[];
  @Field(() => DecimalScalar, { nullable: true, description: 'Less than.' }) lt?: string;
  @Field(() => DecimalScalar, { nullable: true, description: 'Less than or equal to.' }) lte?: string;
  @Field(() => DecimalScalar, { nullable: true, description: 'Greater than.' }) gt?: string;
  @Field(() => DecimalScalar, { nullable: true, description: 'Greater than or equal to.' }) gte?: string;
  @Field(() => [DecimalScalar], { nullable: true, description: 'Between two values, both included.' }) between?: string[];
  @Field({ nullable: true, description: 'True: has no value; false: has a value.' }) isNull?: boolean;
}

@InputType({ description: 'Conditions on a calendar-day field.' })
export class DateFilter {
  @Field(() => DateScalar, { nullable: true, description: 'On that day.' }) eq?: string;
  @Field(() => DateScalar, { nullable: true, description: 'Not on that day (null values included).' }) ne?: string;
  @Field(() => [DateScalar], { nullable: true, description: 'One of.' }) in?: string[];
  @Field(() => [DateScalar], { nullable: true, description: 'None of (null values included).' }) notIn?: string[];
  @Field(() => DateScalar, { nullable: true, description: 'Before.' }) lt?: string;
  @Field(() => DateScalar, { nullable: true, description: 'On or before.' }) lte?: string;
  @Field(() => DateScalar, { nullable: true, description: 'After.' }) gt?: string;
  @Field(() => DateScalar, { nullable: true, description: 'On or after.' }) gte?: string;
  @Field(() => [DateScalar], { nullable: true, description: 'Between two days, both included.' }) between?: string[];
  @Field({ nullable: true, description: 'True: has no value; false: has a value.' }) isNull?: boolean;
}

@InputType({ description: 'Conditions on an instant.' })
export class DateTimeFilter {
  @Field(() => Date, { nullable: true, description: 'At that instant.' }) eq?: Date;
  @Field(() => Date, { nullable: true, description: 'Not at that instant (null values included).' }) ne?: Date;
  @Field(() => Date, { nullable: true, description: 'Before.' }) lt?: Date;
  @Field(() => Date, { nullable: true, description: 'At or before.' }) lte?: Date;
  @Field(() => Date, { nullable: true, description: 'After.' }) gt?: Date;
  @Field(() => Date, { nullable: true, description: 'At or after.' }) gte?: Date;
  @Field(() => [Date], { nullable: true, description: 'Between two instants, both included.' }) between?: Date[];
  @Field({ nullable: true, description: 'True: has no value; false: has a value.' }) isNull?: boolean;
}

@InputType({ description: 'Conditions on a true/false field.' })
export class BooleanFilter {
  @Field({ nullable: true, description: 'Equal to.' }) eq?: boolean;
  @Field({ nullable: true, description: 'Not equal to (null values included).' }) ne?: boolean;
  @Field({ nullable: true, description: 'True: has no value; false: has a value.' }) isNull?: boolean;
}

@InputType({ description: 'Conditions on a reference to another record.' })
export class IDFilter {
  @Field(() => ID, { nullable: true, description: 'Equal to.' }) eq?: string;
  @Field(() => ID, { nullable: true, description: 'Not equal to (null values included).' }) ne?: string;
  @Field(() => [ID], { nullable: true, description: 'One of.' }) in?: string[];
  @Field(() => [ID], { nullable: true, description: 'None of (null values included).' }) notIn?: string[];
  @Field({ nullable: true, description: 'True: has no value; false: has a value.' }) isNull?: boolean;
}

/** A filter input for one enum: equality operators only. */
export function EnumFilter<E extends object>(enumType: E, name: string): ClassType {
  @InputType(`${name}Filter`, { description: `Conditions on a ${name} field.` })
  class EnumFilterInput {
    @Field(() => enumType, { nullable: true, description: 'Equal to.' }) eq?: unknown;
    @Field(() => enumType, { nullable: true, description: 'Not equal to (null values included).' }) ne?: unknown;
    @Field(() => [enumType], { nullable: true, description: 'One of.' }) in?: unknown[];
    @Field(() => [enumType], { nullable: true, description: 'None of (null values included).' }) notIn?: unknown[];
    @Field({ nullable: true, description: 'True: has no value; false: has a value.' }) isNull?: boolean;
  }
  return EnumFilterInput;
}

@InputType({ description: 'Conditions on one custom field, by key; values are checked against the field type.' })
export class CustomFieldFilter {
  @Field({ description: 'The custom field key.' }) key: string;
  @Field(() => JSONScalar, { nullable: true, description: 'Equal to (for MULTI_SELECT: has this value).' }) eq?: unknown;
  @Field(() => JSONScalar, { nullable: true, description: 'Not equal to (null values included).' }) ne?: unknown;
  @Field(() => [JSONScalar], { nullable: true, description: 'One of (for MULTI_SELECT: has any of these).' }) in?: unknown[];
  @Field(() => [JSONScalar], { nullable: true, description: 'None of (null values included).' }) notIn?: unknown[];
  @Field(() => JSONScalar, { nullable: true, description: 'Less than.' }) lt?: unknown;
  @Field(() => JSONScalar, { nullable: true, description: 'Less than or equal to.' }) lte?: unknown;
  @Field(() => JSONScalar, { nullable: true, description: 'Greater than.' }) gt?: unknown;
  @Field(() => JSONScalar, { nullable: true, description: 'Greater than or equal to.' }) gte?: unknown;
  @Field(() => [JSONScalar], { nullable: true, description: 'Between two values, both included.' }) between?: unknown[];
  @Field({ nullable: true, description: 'Contains, ignoring case (text fields).' }) contains?: string;
  @Field({ nullable: true, description: 'Starts with, ignoring case (text fields).' }) startsWith?: string;
  @Field({ nullable: true, description: 'True: has no value; false: has a value.' }) isNull?: boolean;
}

type Ops = Record<string, unknown>;
export type FilterInput = Record<string, unknown> & { and?: FilterInput[]; or?: FilterInput[]; not?: FilterInput };

interface CompileState {
  params: SqlParams;
  conditions: number;
  aliasSeq: number;
  customTypes: ReadonlyMap<string, CustomFieldTypes>;
}

/**
 * Compiles a filter of the shared language into a SQL condition on `alias`. Every value becomes a
 * parameter; field names come only from the entity's spec, never from the client.
 */
export function compileFilter(
  spec: EntitySpec,
  filter: FilterInput | null | undefined,
  alias: string,
  params: SqlParams,
  customTypes: ReadonlyMap<string, CustomFieldTypes> = new Map(),
): string {
  const state: CompileState = { params, conditions: 0, aliasSeq: 0, customTypes };
  return filter ? compileNode(spec, filter, alias, state, 0, 'filter') : 'TRUE';
}

function compileNode(spec: EntitySpec, filter: FilterInput, alias: string, s: CompileState, depth: number, path: string): string {
  if (depth > MAX_NESTING) throw badField(path, `filters nest at most ${MAX_NESTING} levels deep`);
  // Every node counts, empty ones too: `{ or: [{ account: {} }, ...] }` is an EXISTS per item.
  countCondition(s, path);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined || value === null) continue;
    const here = `${path}.${key}`;
    if (key === 'and' || key === 'or') {
      const list = value as FilterInput[];
      if (list.length > MAX_CONDITIONS) throw badField(here, `at most ${MAX_CONDITIONS} items`);
      if (list.length === 0) continue;
      const sub = list.map((f, i) => compileNode(spec, f, alias, s, depth + 1, `${here}[${i}]`));
      parts.push(`(${sub.join(key === 'and' ? ' AND ' : ' OR ')})`);
    } else if (key === 'not') {
      parts.push(`NOT COALESCE((${compileNode(spec, value as FilterInput, alias, s, depth + 1, here)}), FALSE)`);
    } else if (key === 'customFields' && spec.customFields) {
      const types = s.customTypes.get(spec.table) ?? new Map();
      (value as CustomFieldFilter[]).forEach((cf, i) => {
        countCondition(s, `${here}[${i}]`);
        const type = types.get(cf.key);
        if (!type) throw badField(`${here}[${i}].key`, `no custom field ${cf.key}`);
        const { key: _key, ...ops } = cf;
        if (type === 'text[]') parts.push(...compileMultiSelect(spec.customFields!, cf.key, ops, alias, s, `${here}[${i}]`));
        else parts.push(...compileOps(customFieldSpec(spec.customFields!, cf.key, type), checkValues(ops, type, `${here}[${i}]`), alias, s, `${here}[${i}]`));
      });
    } else if (spec.fields[key]) {
      parts.push(...compileOps(spec.fields[key], value as Ops, alias, s, here));
    } else if (spec.relations?.[key]) {
      const rel = spec.relations[key];
      const relSpec = rel.spec();
      const inner = `r${++s.aliasSeq}`;
      const deleted = relSpec.softDelete ? ` AND ${inner}.deleted_at IS NULL` : '';
      const cond = compileNode(relSpec, value as FilterInput, inner, s, depth + 1, here);
      parts.push(`EXISTS (SELECT 1 FROM ${relSpec.table} ${inner} WHERE ${rel.on(alias, inner)}${deleted} AND ${cond})`);
    } else {
      throw badField(here, 'is not a filterable field');
    }
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

function countCondition(s: CompileState, path: string): void {
  if (++s.conditions > MAX_CONDITIONS)
    throw badField(path, `a filter holds at most ${MAX_CONDITIONS} conditions (every operator, and, or, not and relation counts)`);
}

/**
 * How many nodes a filter value holds (objects, list items, operators), counted without recursion and
 * stopping past `max`: what the cost model prices a filter argument at, before anything runs.
 */
export function filterSize(value: unknown, max = 100_000): number {
  let n = 0;
  const pending: unknown[] = [value];
  while (pending.length && n <= max) {
    const v = pending.pop();
    if (v === null || v === undefined) continue;
    n++;
    if (Array.isArray(v)) pending.push(...v.slice(0, max));
    else if (typeof v === 'object' && !(v instanceof Date)) pending.push(...Object.values(v as object));
  }
  return n;
}

const VALUE_CHECK: Record<string, (v: unknown) => boolean> = {
  numeric: (v) => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)),
  date: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
  boolean: (v) => typeof v === 'boolean',
  text: (v) => typeof v === 'string',
};

/** The custom field types behind each SQL type, for messages (NUMBER and DECIMAL share `numeric`). */
const TYPE_NAMES: Record<string, string> = { numeric: 'NUMBER or DECIMAL', date: 'DATE', boolean: 'BOOLEAN' };
const TEXT_OPERATORS = new Set(['contains', 'startsWith']);

/**
 * Custom filter values arrive as JSON: each must fit the field's type before it reaches SQL, and a
 * text operator only a text field (`numeric ILIKE text` is an error in SQL, not the client's answer).
 */
function checkValues(ops: Ops, type: string, path: string): Ops {
  const check = VALUE_CHECK[type] ?? VALUE_CHECK.text;
  for (const [op, v] of Object.entries(ops)) {
    if (v != null && TEXT_OPERATORS.has(op) && type !== 'text')
      throw badField(`${path}.${op}`, `${op} is an operator of text fields; this custom field is ${TYPE_NAMES[type] ?? type}`);
    if (v == null || op === 'isNull' || TEXT_OPERATORS.has(op)) continue;
    const values = Array.isArray(v) ? v : [v];
    if (!values.every(check))
      throw badField(
        `${path}.${op}`,
        `must be ${type === 'numeric' ? 'a number' : type === 'date' ? 'a date YYYY-MM-DD' : type === 'boolean' ? 'true or false' : 'a string'}`,
      );
  }
  return ops;
}

function compileMultiSelect(column: string, key: string, ops: Ops, alias: string, s: CompileState, path: string): string[] {
  const expr = `${alias}.${column}->'${key}'`;
  const out: string[] = [];
  for (const [op, v] of Object.entries(ops)) {
    if (v == null) continue;
    if (op === 'eq') out.push(`${expr} ? ${s.params.add(String(v))}::text`);
    else if (op === 'in') out.push(`${expr} ?| ${s.params.add((v as unknown[]).map(String))}::text[]`);
    else if (op === 'notIn') out.push(`NOT COALESCE(${expr} ?| ${s.params.add((v as unknown[]).map(String))}::text[], FALSE)`);
    else if (op === 'isNull') out.push(v ? `COALESCE(jsonb_array_length(${expr}), 0) = 0` : `jsonb_array_length(${expr}) > 0`);
    else throw badField(`${path}.${op}`, 'is not an operator for a MULTI_SELECT field (use eq, in, notIn, isNull)');
  }
  return out;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function compileOps(field: FieldSpec, ops: Ops, alias: string, s: CompileState, path: string): string[] {
  const expr = field.sql(alias);
  if (field.type === 'uuid') {
    // An ID that is no UUID matches no record; say so rather than let the cast fail in SQL.
    for (const [op, v] of Object.entries(ops)) {
      const values = v == null || op === 'isNull' ? [] : Array.isArray(v) ? v : [v];
      if (!values.every((x) => typeof x === 'string' && UUID_RE.test(x))) throw badField(`${path}.${op}`, 'must be an id (a UUID)');
    }
  }
  const cast = `::${field.type}`;
  const p = (v: unknown) => s.params.add(v) + cast;
  const out: string[] = [];
  for (const [op, v] of Object.entries(ops)) {
    if (v === undefined || v === null) continue;
    countCondition(s, path);
    switch (op) {
      case 'eq':
        out.push(`${expr} = ${p(v)}`);
        break;
      case 'ne':
        out.push(`${expr} IS DISTINCT FROM ${p(v)}`);
        break;
      case 'lt':
        out.push(`${expr} < ${p(v)}`);
        break;
      case 'lte':
        out.push(`${expr} <= ${p(v)}`);
        break;
      case 'gt':
        out.push(`${expr} > ${p(v)}`);
        break;
      case 'gte':
        out.push(`${expr} >= ${p(v)}`);
        break;
      case 'in':
      case 'notIn': {
        const list = v as unknown[];
        if (list.length > MAX_LIST) throw badField(`${path}.${op}`, `at most ${MAX_LIST} values`);
        const arr = `${s.params.add(list)}::${field.type}[]`;
        out.push(op === 'in' ? `${expr} = ANY(${arr})` : `(${expr} IS NULL OR NOT (${expr} = ANY(${arr})))`);
        break;
      }
      case 'between': {
        const pair = v as unknown[];
        if (pair.length !== 2) throw badField(`${path}.between`, 'takes exactly two values: [from, to]');
        out.push(`${expr} BETWEEN ${p(pair[0])} AND ${p(pair[1])}`);
        break;
      }
      case 'contains':
        out.push(`${expr} ILIKE '%' || ${s.params.add(escapeLike(String(v)))}::text || '%'`);
        break;
      case 'startsWith':
        out.push(`${expr} ILIKE ${s.params.add(escapeLike(String(v)))}::text || '%'`);
        break;
      case 'isNull':
        out.push(v ? `${expr} IS NULL` : `${expr} IS NOT NULL`);
        break;
      default:
        throw badField(`${path}.${op}`, 'is not an operator');
    }
  }
  return out;
}
