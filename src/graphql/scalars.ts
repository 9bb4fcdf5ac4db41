import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';

const invalid = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

const dateTimeBase = DateTimeResolver.toConfig();
/**
 * Instants in the years 0001 to 9999 (UTC), the ones an RFC 3339 string can give back: PostgreSQL
 * has no year 0, and a later year would not serialise. Refused here, not by the database.
 */
const fromYearOne = (value: unknown): unknown => {
  if (value instanceof Date && (value.getUTCFullYear() < 1 || value.getUTCFullYear() > 9999)) {
    throw invalid(`DateTime must be in the years 0001 to 9999 (UTC), got ${value.toISOString()}`);
  }
  return value;
};

export const DateTimeScalar = new GraphQLScalarType({
  ...dateTimeBase,
  name: 'DateTime',
  description: 'An instant, as an ISO-8601 string with an offset, e.g. `2026-11-27T09:30:00.000Z`.',
  parseValue: (value) => fromYearOne(dateTimeBase.parseValue!(value)),
  parseLiteral: (ast, variables) => fromYearOne(dateTimeBase.parseLiteral!(ast, variables)),
});

export const JSONScalar = new GraphQLScalarType({ ...JSONResolver.toConfig(), name: 'JSON', description: 'Any JSON value.' });

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar day written YYYY-MM-DD. */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE_RE.exec(value);
  if (!m) return false;
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0 to 99 as 1900 to 1999.
  const d = new Date(0);
  d.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
  return +m[1] >= 1 && d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

function parseDate(value: unknown): string {
  if (!isIsoDate(value)) throw invalid(`Date must be a calendar day written YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return value;
}

/** A calendar day without a time zone; kept as a 'YYYY-MM-DD' string end to end. */
export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar day, `YYYY-MM-DD`.',
  serialize: (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : parseDate(v)),
  parseValue: parseDate,
  parseLiteral: (ast: ValueNode) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

const DECIMAL_RE = /^-?\d{1,18}(\.\d{1,6})?$/;

function parseDecimal(value: unknown): string {
  const s = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof s !== 'string' || !DECIMAL_RE.test(s.trim())) {
    throw invalid(`Decimal must be a string such as "1234.50" (at most 18 digits before the point and 6 after), got ${JSON.stringify(value)}`);
  }
  return s.trim();
}

/**
 * An exact decimal number, sent and received as a string so that no float ever rounds money.
 * Integers are accepted as JSON numbers too, since they are exact.
 */
export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description: 'An exact decimal number sent as a string, e.g. `"1234.50"`.',
  serialize: (v) => (typeof v === 'string' ? v : String(v)),
  parseValue: parseDecimal,
  parseLiteral: (ast: ValueNode) => parseDecimal(ast.kind === Kind.STRING ? ast.value : ast.kind === Kind.INT ? Number(ast.value) : undefined),
});
