import type { CsvCell } from '../record-kind';
import { RECORD_KINDS } from '../registry';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import { type CustomFieldDefinition, CustomFieldType } from '../custom-fields/custom-field.entity';
import { isIsoDate } from '../../graphql/scalars';

/** The fields a CSV column may map to, per kind of record (the upsert inputs' fields): from the kinds' descriptors. */
export const CSV_FIELDS: Partial<Record<EntityType, Readonly<Record<string, CsvCell>>>> = Object.fromEntries(
  RECORD_KINDS.flatMap((k) => (k.csv ? [[k.entityType, k.csv.fields]] : [])),
);

/** Header names that mean a field under another name (compared normalised: lower case, letters and digits only). */
const ALIASES: Record<string, string> = {
  emailaddress: 'email',
  mail: 'email',
  phonenumber: 'phone',
  mobile: 'phone',
  jobtitle: 'title',
  web: 'website',
  url: 'website',
};
const normal = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * A mapping read from the header, for an import that gives none: a column goes to the field it names,
 * compared without case, spaces or punctuation ("First Name", "first_name" -> firstName; the export's
 * "account.externalId" -> accountExternalId, "amount.amount" and "amount.currency" -> amount and its
 * currency), or to the custom field whose key or label it is. Columns that name nothing (an export's
 * id and timestamps) are left out; the job's mapping shows what was chosen.
 */
export function mappingFromHeader(header: string[], fields: Record<string, CsvCell>, custom: CustomFieldDefinition[]): Record<string, string> {
  const byName = new Map<string, string>();
  for (const [field, kind] of Object.entries(fields)) {
    byName.set(normal(field), field);
    if (typeof kind === 'object' && 'money' in kind) byName.set(normal(`${kind.money}.amount`), field);
    if (typeof kind === 'object' && 'currencyOf' in kind) byName.set(normal(`${kind.currencyOf}.currency`), field);
  }
  for (const [alias, field] of Object.entries(ALIASES)) if (field in fields && !byName.has(alias)) byName.set(alias, field);
  for (const def of custom) for (const name of [def.key, def.label]) if (!byName.has(normal(name))) byName.set(normal(name), `customFields.${def.key}`);
  const mapping: Record<string, string> = {};
  const taken = new Set<string>();
  for (const column of header) {
    const field = byName.get(normal(column));
    if (field && !taken.has(field)) {
      mapping[column] = field;
      taken.add(field);
    }
  }
  return mapping;
}

/** The input field each key reads (MatchOn.NONE reads none). */
const KEY_FIELD: Record<MatchOn, string | null> = {
  [MatchOn.EXTERNAL_ID]: 'externalId',
  [MatchOn.EMAIL]: 'email',
  [MatchOn.DOMAIN]: 'domain',
  [MatchOn.SKU]: 'sku',
  [MatchOn.NONE]: null,
};

/** The key a person would match a kind on when their file has no external id. */
const NATURAL_KEY: Partial<Record<EntityType, MatchOn>> = Object.fromEntries(
  RECORD_KINDS.flatMap((k) => (k.csv?.naturalKey ? [[k.entityType, k.csv.naturalKey]] : [])),
);

/**
 * The key an import matches on when it names none: the external id when a column maps to it and holds
 * any (a file exported from another system), else the kind's natural key likewise (a plain list of
 * contacts, or Trellis' own export of records that have no external id), else none (every row creates).
 */
export function defaultMatchOn(entityType: EntityType, mapping: Record<string, string>, rows: Record<string, string>[]): MatchOn {
  const columnOf = new Map(Object.entries(mapping).map(([column, field]) => [field, column]));
  const held = (field: string) => {
    const column = columnOf.get(field);
    return column !== undefined && rows.some((r) => (r[column] ?? '').trim() !== '');
  };
  if (held('externalId')) return MatchOn.EXTERNAL_ID;
  const natural = NATURAL_KEY[entityType];
  return natural && held(KEY_FIELD[natural]!) ? natural : MatchOn.NONE;
}

export type DateOrder = 'DMY' | 'MDY';

/**
 * A calendar day from ISO (2026-11-27), slashed (11/27/2026 or 27/11/2026, by `order`; unambiguous
 * days win), dotted (27.11.2026) or ISO date-time text. Null when it is none of these.
 */
function parseDay(v: string, order: DateOrder): string | null {
  const s = v.trim();
  if (isIsoDate(s)) return s;
  const iso = /^(\d{4}-\d{2}-\d{2})[T ]/.exec(s);
  if (iso && isIsoDate(iso[1])) return iso[1];
  let m = /^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$/.exec(s);
  if (m) {
    const [first, second] = [Number(m[1]), Number(m[2])];
    // A part above 12 can only be the day; otherwise the workspace's order decides.
    const dayFirst = first > 12 || (second <= 12 && order === 'DMY');
    const [day, month] = dayFirst ? [first, second] : [second, first];
    const out = `${m[3]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    return isIsoDate(out) ? out : null;
  }
  m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(s);
  if (m) {
    const out = `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}`;
    return isIsoDate(out) ? out : null;
  }
  return null;
}

/** An instant: ISO 8601 (with or without offset; UTC when none), or a day (midnight UTC). */
function parseInstant(v: string, order: DateOrder): Date | null {
  const s = v.trim();
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(s)) {
    const d = new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}Z`);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const day = parseDay(s, order);
  return day ? new Date(`${day}T00:00:00.000Z`) : null;
}

interface Converted {
  input: Record<string, unknown>;
  errors: { column: string; message: string }[];
}

const DECIMAL = /^-?\d{1,18}([.,]\d{1,6})?$/;

/**
 * Turns one CSV row into an upsert input: each mapped cell converted to its field's type; an empty
 * cell leaves the field out (unchanged on update). Conversion problems name the column.
 */
export function convertRow(
  row: Record<string, string>,
  mapping: Record<string, string>,
  fields: Record<string, CsvCell>,
  custom: Map<string, CustomFieldDefinition>,
  order: DateOrder,
): Converted {
  const input: Record<string, unknown> = {};
  const errors: Converted['errors'] = [];
  const money: Record<string, { amount?: string; currency?: string }> = {};
  for (const [column, field] of Object.entries(mapping)) {
    const raw = row[column];
    if (raw === undefined || raw.trim() === '') continue;
    const v = raw.trim();
    const fail = (message: string) => errors.push({ column, message });
    if (field.startsWith('customFields.')) {
      const def = custom.get(field.slice('customFields.'.length))!;
      const value = customValue(def, v, order);
      if (value === undefined) fail(`is not a valid ${def.type.toLowerCase()} for ${def.label}`);
      else input.customFields = { ...(input.customFields as object), [def.key]: value };
      continue;
    }
    const kind = fields[field];
    if (kind === 'customFields') {
      const given = jsonObject(v);
      if (!given) fail('is not a JSON object of custom fields');
      else {
        const unknown = Object.keys(given).filter((k) => !custom.has(k));
        if (unknown.length) fail(`${unknown.join(', ')}: no such custom field`);
        // Columns mapped to single custom fields win over the same key in the object.
        else input.customFields = { ...given, ...(input.customFields as object) };
      }
      continue;
    }
    // The export's formula escaping undone (scripts/lib/csv-cells.ts): a round trip keeps the text.
    if (kind === 'text') input[field] = v.replace(/^'(?=[=+\-@])/, '');
    else if (kind === 'int') /^-?\d{1,9}$/.test(v) ? (input[field] = Number(v)) : fail('is not a whole number');
    else if (kind === 'boolean')
      /^(true|yes|1|y)$/i.test(v) ? (input[field] = true) : /^(false|no|0|n)$/i.test(v) ? (input[field] = false) : fail('is not true or false');
    else if (kind === 'date') {
      const d = parseDay(v, order);
      d ? (input[field] = d) : fail('is not a date');
    } else if (kind === 'datetime') {
      const d = parseInstant(v, order);
      d ? (input[field] = d) : fail('is not a date and time');
    } else if (typeof kind === 'object' && 'enum' in kind) {
      const value = v.toUpperCase().replace(/[\s-]+/g, '_');
      Object.values(kind.enum).includes(value) ? (input[field] = value) : fail(`must be one of ${Object.values(kind.enum).join(', ')}`);
    } else if (typeof kind === 'object' && 'money' in kind) {
      const amount = v.replace(/[\s']/g, '').replace(/,(\d{1,6})$/, '.$1');
      DECIMAL.test(amount) ? ((money[kind.money] ??= {}).amount = amount) : fail('is not an amount such as 1234.50');
    } else if (typeof kind === 'object' && 'currencyOf' in kind) {
      (money[kind.currencyOf] ??= {}).currency = v.toUpperCase();
    }
  }
  for (const [field, m] of Object.entries(money)) if (m.amount !== undefined) input[field] = m;
  return { input, errors };
}

function jsonObject(v: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(v);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function customValue(def: CustomFieldDefinition, v: string, order: DateOrder): unknown {
  switch (def.type) {
    case CustomFieldType.NUMBER: {
      const n = Number(v.replace(',', '.'));
      return Number.isFinite(n) ? n : undefined;
    }
    case CustomFieldType.DECIMAL:
      return DECIMAL.test(v) ? v.replace(',', '.') : undefined;
    case CustomFieldType.BOOLEAN:
      return /^(true|yes|1|y)$/i.test(v) ? true : /^(false|no|0|n)$/i.test(v) ? false : undefined;
    case CustomFieldType.DATE:
      return parseDay(v, order) ?? undefined;
    case CustomFieldType.MULTI_SELECT:
      return v
        .split(/[|;]/)
        .map((x) => x.trim())
        .filter(Boolean);
    default:
      return v;
  }
}
