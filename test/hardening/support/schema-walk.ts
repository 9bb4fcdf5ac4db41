import { randomBytes } from 'node:crypto';
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
} from 'graphql';

/**
 * Walking the schema to generate operations: documents with a selection for any root field, and
 * variables of the right shape, with minimal valid values or values injected at a path.
 */

export type RootName = 'Query' | 'Mutation' | 'Subscription';
export type AnyField = GraphQLField<unknown, unknown>;

export interface Operation {
  root: RootName;
  field: AnyField;
}

export function rootFields(schema: GraphQLSchema, root: RootName): AnyField[] {
  const type = root === 'Query' ? schema.getQueryType() : root === 'Mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  return type ? Object.values(type.getFields()) : [];
}

const required = (a: { type: GraphQLInputType; defaultValue?: unknown }) => isNonNullType(a.type) && a.defaultValue === undefined;

/** A selection of `type`: every leaf, and objects two levels down (leaves only at the bottom). */
export function selectionOf(type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (isUnionType(named)) {
    return `{ __typename ${named
      .getTypes()
      .map((t) => `... on ${t.name} { ${'id' in t.getFields() ? 'id' : '__typename'} }`)
      .join(' ')} }`;
  }
  if (!isObjectType(named) && !isInterfaceType(named)) return '';
  const parts = ['__typename'];
  for (const f of Object.values(named.getFields())) {
    if (f.args.some(required)) continue;
    const inner = getNamedType(f.type);
    if (isLeafType(inner)) parts.push(f.name);
    else if (depth < 2) parts.push(`${f.name} ${selectionOf(f.type, depth + 1)}`);
  }
  return `{ ${parts.join(' ')} }`;
}

/** `mutation($a: T!, ...) { field(a: $a, ...) { selection } }`, every argument as a variable. */
export function documentOf(op: Operation): string {
  const keyword = op.root === 'Query' ? 'query' : op.root === 'Mutation' ? 'mutation' : 'subscription';
  // An argument with a default takes a nullable variable: left out, the default applies.
  const defs = op.field.args.map((a) => `$${a.name}: ${(a.defaultValue !== undefined ? getNullableType(a.type) : a.type).toString()}`).join(', ');
  const args = op.field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  return `${keyword} Probe${defs ? `(${defs})` : ''} { ${op.field.name}${args ? `(${args})` : ''} ${selectionOf(op.field.type)} }`;
}

/** A fresh token, replaced by a placeholder when two answers are compared. */
export const uniq = () => `zq${randomBytes(6).toString('hex')}`;

/** What fills an argument or input field: `undefined` leaves it to the defaults below. */
export type Fill = (ctx: { op: Operation; path: string[]; name: string; type: GraphQLNamedType; parent: string; required: boolean }) => unknown;

/** Values that pass validation, by field name first, then by type. */
export function validScalar(typeName: string, name: string, parent: string): unknown {
  const u = uniq();
  if (typeName === 'String') {
    const byName: Record<string, string> = {
      email: `probe-${u}@example.com`,
      ownerEmail: `probe-${u}@example.com`,
      url: 'https://hooks.example.com/probe',
      website: 'https://probe.example.com',
      domain: `${u}.example.com`,
      password: 'probe password 123',
      currency: 'USD',
      timezone: 'UTC',
      cron: '0 * * * *',
      key: `probe_${u}`,
      csv: `name\nProbe ${u}\n`,
      phone: '+1 555 0100',
      country: 'US',
      refreshToken: `probe-${u}`,
      query: 'probe',
      after: '',
    };
    if (parent === 'CreateTeamInput' || parent === 'UpdateTeamInput') return `Probe team ${u}`;
    return byName[name] ?? `Probe ${u}`;
  }
  if (typeName === 'Int')
    return ({ probability: 50, position: 0, days: 1, offsetDays: 1, first: 5, durationSeconds: 60, employees: 10 } as Record<string, number>)[name] ?? 1;
  if (typeName === 'Float') return 1.5;
  if (typeName === 'Boolean') return name === 'active';
  if (typeName === 'Decimal') return '1';
  if (typeName === 'Date') return '2030-01-15';
  if (typeName === 'DateTime') return '2030-01-15T10:00:00.000Z';
  if (typeName === 'JSON') return name === 'mapping' ? { name: 'name' } : {};
  if (typeName === 'ID') return undefined;
  return `Probe ${u}`;
}

/** A value for `type`: required input fields only, unless `fill` gives one; lists of one element. */
export function valueOf(op: Operation, type: GraphQLInputType, path: string[], name: string, parent: string, fill: Fill, req = true): unknown {
  const nullable = getNullableType(type) as GraphQLInputType;
  const named = getNamedType(type);
  const given = fill({ op, path, name, type: named, parent, required: req });
  if (given !== undefined) return isListType(nullable) && !Array.isArray(given) ? [given] : given;
  if (isListType(nullable)) {
    const item = valueOf(op, nullable.ofType as GraphQLInputType, path, name, parent, fill, req);
    return item === undefined ? undefined : [item];
  }
  if (isEnumType(named)) return named.getValues()[0].name;
  if (isInputObjectType(named)) {
    const out: Record<string, unknown> = {};
    for (const f of Object.values(named.getFields())) {
      const wanted =
        required(f) || fill({ op, path: [...path, f.name], name: f.name, type: getNamedType(f.type), parent: named.name, required: false }) !== undefined;
      if (!wanted) continue;
      const v = valueOf(op, f.type, [...path, f.name], f.name, named.name, fill, required(f));
      if (v !== undefined) out[f.name] = v;
    }
    return out;
  }
  return validScalar(named.name, name, parent);
}

/** Variables for every required argument (and any that `fill` gives). */
export function variablesOf(op: Operation, fill: Fill): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const a of op.field.args) {
    const wanted = required(a) || fill({ op, path: [a.name], name: a.name, type: getNamedType(a.type), parent: '', required: false }) !== undefined;
    if (!wanted) continue;
    const v = valueOf(op, a.type, [a.name], a.name, '', fill, required(a));
    if (v !== undefined) vars[a.name] = v;
  }
  return vars;
}

/** Where an argument takes a record reference: an ID (also in input objects, and `filter.<x>.eq|in`), or a String key. */
export interface Position {
  op: Operation;
  path: string[];
  /** The input type holding the last step ('' for an argument). */
  parent: string;
  list: boolean;
  scalar: 'ID' | 'String';
}

const STRING_REFS = new Set(['externalId', 'accountExternalId', 'ownerEmail']);

export function referencePositions(schema: GraphQLSchema, roots: RootName[]): Position[] {
  const out: Position[] = [];
  const add = (op: Operation, path: string[], parent: string, type: GraphQLInputType) => {
    const named = getNamedType(type);
    const last = path[path.length - 1];
    if (named.name === 'ID' || (named.name === 'String' && STRING_REFS.has(last)))
      out.push({ op, path, parent, list: isListType(getNullableType(type)), scalar: named.name as 'ID' | 'String' });
  };
  for (const root of roots) {
    for (const field of rootFields(schema, root)) {
      const op = { root, field };
      for (const a of field.args as readonly GraphQLArgument[]) {
        add(op, [a.name], '', a.type);
        const named = getNamedType(a.type);
        if (!isInputObjectType(named)) continue;
        for (const f of Object.values(named.getFields())) {
          add(op, [a.name, f.name], named.name, f.type);
          const inner = getNamedType(f.type);
          // Filters: `filter: { accountId: { eq, in } }`.
          if (a.name === 'filter' && isInputObjectType(inner))
            for (const g of ['eq', 'in']) if (inner.getFields()[g]) add(op, [a.name, f.name, g], inner.name, inner.getFields()[g].type);
        }
      }
    }
  }
  return out;
}

/** Copies `vars` with `value` set at `path` (creating what lies between, lists as one element). */
export function inject(op: Operation, vars: Record<string, unknown>, path: string[], value: unknown, fill: Fill): Record<string, unknown> {
  const out = structuredClone(vars);
  const arg = op.field.args.find((a) => a.name === path[0])!;
  let holder: Record<string, unknown> = out;
  let key = path[0];
  let type: GraphQLInputType = arg.type;
  for (let i = 1; i < path.length; i++) {
    let nullable = getNullableType(type) as GraphQLInputType;
    let container = holder[key];
    if (isListType(nullable)) {
      if (!Array.isArray(container) || container.length === 0)
        holder[key] = container = [valueOf(op, nullable.ofType as GraphQLInputType, path.slice(0, i), key, '', fill) ?? {}];
      holder = container as unknown as Record<string, unknown>;
      key = '0';
      nullable = getNullableType(nullable.ofType) as GraphQLInputType;
      container = holder[key];
    }
    const named = getNamedType(nullable);
    if (!isInputObjectType(named)) throw new Error(`cannot go into ${named.name} at ${path.join('.')}`);
    if (!container || typeof container !== 'object') holder[key] = container = valueOf(op, nullable, path.slice(0, i), key, '', fill) ?? {};
    holder = container as Record<string, unknown>;
    key = path[i];
    type = named.getFields()[key].type;
  }
  const isList = isListType(getNullableType(type));
  if (isList && !Array.isArray(value) && value !== null) {
    const current = holder[key];
    holder[key] = Array.isArray(current) && current.length ? [value, ...current.slice(1)] : [value];
  } else holder[key] = value;
  return out;
}

/**
 * What is left of an answer to compare two probes: ids, tokens, times and versions replaced by
 * placeholders, and lists sorted (generated names make their order vary from call to call).
 */
export function normalize(body: unknown, probes: string[]): string {
  let text = JSON.stringify(body ?? null);
  for (const p of probes) if (p) text = text.split(p).join('<PROBE>');
  text = text
    .replace(/"extensions":\{"cost":\{[^}]*\}\}/g, '"extensions":{}')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<UUID>')
    .replace(/zq[0-9a-f]{12}/g, '<TOK>')
    .replace(/"version":\d+/g, '"version":"<N>"')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g, '<TIME>');
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted).sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1))
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sorted(x)]))
        : v;
  return JSON.stringify(sorted(JSON.parse(text)));
}
