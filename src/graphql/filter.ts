import { ClassType, Field, ID, InputType, Int } from 'type-graphql';
import { badField } from './errors';
import { DateScalar, DecimalScalar } from './scalars';
import { escapeLike, type EntitySpec, type FieldSpec, SqlParams } from './sql';

const MAX_LIST = 1000;
const MAX_NESTING = 8;
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

type Ops = Record<string, unknown>;
type FilterInput = Record<string, unknown> & { and?: FilterInput[]; or?: FilterInput[]; not?: FilterInput };

interface CompileState {
  params: SqlParams;
  conditions: number;
  aliasSeq: number;
}

/**
 * Compiles a filter of the shared language into a SQL condition on `alias`. Every value becomes a
 * parameter; field names come only from the entity's spec, never from the client.
 */
export function compileFilter(spec: EntitySpec, filter: FilterInput | null | undefined, alias: string, params: SqlParams): string {
  const state: CompileState = { params, conditions: 0, aliasSeq: 0 };
  return filter ? compileNode(spec, filter, alias, state, 0, 'filter') : 'TRUE';
}

function compileNode(spec: EntitySpec, filter: FilterInput, alias: string, s: CompileState, depth: number, path: string): string {
  if (depth > MAX_NESTING) throw badField(path, `filters nest at most ${MAX_NESTING} levels deep`);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined || value === null) continue;
    const here = `${path}.${key}`;
    if (key === 'and' || key === 'or') {
      const list = value as FilterInput[];
      if (list.length === 0) continue;
      const sub = list.map((f, i) => compileNode(spec, f, alias, s, depth + 1, `${here}[${i}]`));
      parts.push(`(${sub.join(key === 'and' ? ' AND ' : ' OR ')})`);
    } else if (key === 'not') {
      parts.push(`NOT COALESCE((${compileNode(spec, value as FilterInput, alias, s, depth + 1, here)}), FALSE)`);
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

function compileOps(field: FieldSpec, ops: Ops, alias: string, s: CompileState, path: string): string[] {
  const expr = field.sql(alias);
  const cast = `::${field.type}`;
  const p = (v: unknown) => s.params.add(v) + cast;
  const out: string[] = [];
  for (const [op, v] of Object.entries(ops)) {
    if (v === undefined || v === null) continue;
    if (++s.conditions > MAX_CONDITIONS) throw badField(path, `a filter holds at most ${MAX_CONDITIONS} conditions`);
    switch (op) {
      case 'eq': out.push(`${expr} = ${p(v)}`); break;
      case 'ne': out.push(`${expr} IS DISTINCT FROM ${p(v)}`); break;
      case 'lt': out.push(`${expr} < ${p(v)}`); break;
      case 'lte': out.push(`${expr} <= ${p(v)}`); break;
      case 'gt': out.push(`${expr} > ${p(v)}`); break;
      case 'gte': out.push(`${expr} >= ${p(v)}`); break;
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
      case 'isNull': out.push(v ? `${expr} IS NULL` : `${expr} IS NOT NULL`); break;
      default: throw badField(`${path}.${op}`, 'is not an operator');
    }
  }
  return out;
}
