import fc from 'fast-check';
import { type GraphQLInputType, getNamedType, getNullableType, isEnumType, isInputObjectType, isListType, isNonNullType } from 'graphql';
import { type AnyField, validScalar } from './schema-walk';

/**
 * fast-check arbitraries for a mutation's variables, from the schema: the right shape (mostly), wild
 * values at the leaves (huge and odd strings, NUL, lone surrogates, extreme numbers, impossible dates
 * and decimals, deep JSON), mixed with valid ones so that the inputs also get past the first checks
 * and into the services.
 */

const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  '\u202e',
  '\ufeff',
  '😀'.repeat(40),
  'ǅ',
  'İ',
  'ß',
  '\n\r\t',
  "'; DROP TABLE account; --",
  '%',
  '_',
  '\\',
  '"',
  '{{x}}',
  '{{#a}}{{/a}}',
  '{{{__proto__}}}',
  '<script>alert(1)</script>',
  'null',
  'undefined',
  '0',
  '-1',
  'NaN',
  'Infinity',
  '1e309',
  'true',
  '__proto__',
  'constructor',
  'toString',
  '*',
  '.*',
  '**',
  'a'.repeat(64),
  'customFields.x',
  '$where',
];
// Past 2^53 on purpose: the values a JSON client may send, precision lost or not.
// eslint-disable-next-line no-loss-of-precision
const ODD_NUMBERS = [0, -1, 1, 2147483647, -2147483648, 2147483648, 9007199254740993, -9007199254740993, 1.5, -0.5, 1e308, -1e308, 5e-324];
const ODD_DECIMALS = [
  '1e10',
  '-0',
  '0',
  '99999999999999999999',
  '999999999999999999.999999',
  '-999999999999999999',
  '0.0000001',
  '1.1234567',
  'NaN',
  'Infinity',
  '--1',
  '1.',
  '.5',
  ' 1 ',
  '١٢٣',
  '1_000',
  '0x10',
  '+1',
];
const ODD_DATES = [
  '2024-02-30',
  '2023-02-29',
  '0000-01-01',
  '0001-01-01',
  '9999-12-31',
  '-0001-01-01',
  '2024-13-01',
  '2024-00-10',
  '20240101',
  '2024-1-1',
  '275760-09-13',
  '1970-01-01',
  '2024-01-01T00:00:00Z',
];
const ODD_DATETIMES = [
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '1970-01-01T00:00:00Z',
  '2024-02-30T00:00:00Z',
  '2024-01-01T24:00:00Z',
  '2024-01-01T00:00:60Z',
  '2024-01-01T00:00:00+23:59',
  '2024-01-01T00:00:00-23:59',
  '+275760-09-13T00:00:00.000Z',
  '-000001-01-01T00:00:00Z',
  '2024-01-01',
  '2024-01-01T00:00:00',
  '2024-01-01T00:00:00.123456789Z',
  '1900-01-01T00:00:00Z',
];

export const oddString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 4, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  // Huge: up to a fifth of the default body limit, so that a few of them still fit in a request.
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n)) },
);

/** `{"a":{"a":...}}` or `[[[...]]]`, `depth` levels. */
const deep = (depth: number, array: boolean): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
};

export const oddJson = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 50, max: 1_000 }), fc.boolean()).map(([d, arr]) => deep(d, arr)) },
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.constantFrom('eq', 'in', 'and', 'or', 'not', 'contains', 'name', 'ownerId', 'customFields', '__proto__', 'constructor'),
      fc.jsonValue({ maxDepth: 3 }),
    ),
  },
  { weight: 1, arbitrary: oddString },
);

/** The ids of real records (so that mutations reach their checks), random uuids, and junk. */
export const idArbitrary = (pool: string[]) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...pool) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: oddString },
    { weight: 1, arbitrary: fc.integer() },
  );

/**
 * A leaf value. `typed`: of the right JSON type and mostly well formed, so that the input passes
 * GraphQL's coercion and reaches the service with odd values; otherwise anything at all.
 */
function leaf(typeName: string, name: string, parent: string, ids: string[], typed: boolean): fc.Arbitrary<unknown> {
  const valid = fc.constant(null).map(() => validScalar(typeName, name, parent));
  const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}), oddString);
  const mix = (validWeight: number, ...odd: fc.Arbitrary<unknown>[]) =>
    fc.oneof({ weight: validWeight, arbitrary: valid }, ...odd.map((arbitrary) => ({ weight: 3, arbitrary })), { weight: typed ? 0 : 2, arbitrary: wrongType });
  const int32 = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1, 2147483647, -2147483648));
  switch (typeName) {
    case 'ID':
      return idArbitrary(ids);
    case 'String':
      return mix(4, oddString);
    case 'Int':
      return typed ? mix(3, int32) : mix(3, int32, fc.constantFrom(...ODD_NUMBERS), fc.double());
    case 'Float':
      return typed
        ? mix(3, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(...ODD_NUMBERS))
        : mix(3, fc.double(), fc.constantFrom(...ODD_NUMBERS));
    case 'Boolean':
      return typed ? fc.boolean() : fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: wrongType });
    case 'Decimal':
      return mix(
        typed ? 12 : 4,
        fc.constantFrom(...ODD_DECIMALS),
        fc.double().map(String),
        fc.bigInt().map(String),
        ...(typed ? [] : [fc.double(), fc.integer()]),
      );
    case 'Date':
      return mix(
        typed ? 12 : 4,
        fc.constantFrom(...ODD_DATES),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
      );
    case 'DateTime':
      return mix(
        typed ? 12 : 4,
        fc.constantFrom(...ODD_DATETIMES),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ...(typed ? [] : [fc.integer()]),
      );
    case 'JSON':
      return fc.oneof({ weight: 2, arbitrary: valid }, { weight: 5, arbitrary: oddJson });
    default:
      return mix(4, oddString);
  }
}

/** An arbitrary value for an input type; `undefined` stands for "left out". */
export function inputArbitrary(type: GraphQLInputType, name: string, parent: string, ids: string[], typed: boolean, depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) {
    const inner = inputArbitrary(type.ofType, name, parent, ids, typed, depth);
    return typed ? inner.filter((v) => v !== null && v !== undefined) : fc.oneof({ weight: 30, arbitrary: inner }, { weight: 1, arbitrary: fc.constant(null) });
  }
  const nullable = getNullableType(type) as GraphQLInputType;
  let inner: fc.Arbitrary<unknown>;
  if (isListType(nullable)) {
    const item = inputArbitrary(nullable.ofType as GraphQLInputType, name, parent, ids, typed, depth + 1);
    inner = fc.oneof(
      { weight: 12, arbitrary: fc.array(item, { maxLength: depth > 1 ? 1 : 3 }) },
      { weight: typed ? 0 : 1, arbitrary: item },
      // Over the batch limit (1000).
      { weight: depth === 0 ? 1 : 0, arbitrary: item.map((v) => Array.from({ length: 1001 }, () => v)) },
    );
  } else {
    const named = getNamedType(nullable);
    if (isEnumType(named)) {
      inner = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...named.getValues().map((v) => v.name)) }, { weight: typed ? 0 : 1, arbitrary: oddString });
    } else if (isInputObjectType(named)) {
      if (depth > 3) return fc.constant(undefined);
      const fields = Object.values(named.getFields());
      const shape = Object.fromEntries(fields.map((f) => [f.name, inputArbitrary(f.type, f.name, named.name, ids, typed, depth + 1)]));
      const requiredKeys = fields.filter((f) => isNonNullType(f.type) && f.defaultValue === undefined).map((f) => f.name);
      const record = fc.record(shape, { requiredKeys }).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
      inner = typed
        ? record
        : fc.oneof(
            { weight: 12, arbitrary: record },
            { weight: 1, arbitrary: record.map((o) => ({ ...o, notAField: 1 })) },
            { weight: 1, arbitrary: oddString },
          );
    } else {
      inner = leaf(named.name, name, parent, ids, typed);
    }
  }
  return fc.oneof({ weight: 10, arbitrary: inner }, { weight: 1, arbitrary: fc.constant(null) }, { weight: typed ? 4 : 1, arbitrary: fc.constant(undefined) });
}

/** Variables for every argument of `field` (arguments left `undefined` are not sent). */
export function variablesArbitrary(field: AnyField, ids: string[]): fc.Arbitrary<Record<string, unknown>> {
  const of = (typed: boolean) =>
    fc
      .record(Object.fromEntries(field.args.map((a) => [a.name, inputArbitrary(a.type, a.name, '', ids, typed)])))
      .map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
  // Mostly well typed (to reach the services), sometimes anything (to hit GraphQL's own coercion).
  return fc.oneof({ weight: 4, arbitrary: of(true) }, { weight: 1, arbitrary: of(false) });
}
