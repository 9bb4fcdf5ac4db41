import { AccountType } from '../accounts/account.entity';
import { ActivityStatus, ActivityType } from '../activities/activity.entity';
import { EntityType } from '../common/enums';
import { type CustomFieldDefinition, CustomFieldType } from '../custom-fields/custom-field.entity';
import { LeadSource, LeadStatus } from '../leads/lead.entity';
import { isIsoDate } from '../../graphql/scalars';

/** How a CSV cell becomes an input value. */
type Kind = 'text' | 'int' | 'decimal' | 'date' | 'datetime' | 'boolean' | { enum: object } | { money: string } | { currencyOf: string };

const ref = ['ownerEmail'] as const;
const text = (...names: string[]) => Object.fromEntries(names.map((n) => [n, 'text' as Kind]));

/** The fields a CSV column may map to, per kind of record: the upsert inputs' fields. */
export const CSV_FIELDS: Partial<Record<EntityType, Record<string, Kind>>> = {
  [EntityType.ACCOUNT]: {
    ...text('externalId', 'name', 'domain', 'industry', 'phone', 'website', 'address', 'country', ...ref),
    type: { enum: AccountType },
    employees: 'int',
    annualRevenue: { money: 'annualRevenue' },
    annualRevenueCurrency: { currencyOf: 'annualRevenue' },
  },
  [EntityType.CONTACT]: text('externalId', 'firstName', 'lastName', 'email', 'phone', 'title', 'accountExternalId', ...ref),
  [EntityType.LEAD]: { ...text('externalId', 'firstName', 'lastName', 'email', 'phone', 'company', 'title', ...ref), status: { enum: LeadStatus }, source: { enum: LeadSource } },
  [EntityType.OPPORTUNITY]: {
    ...text('externalId', 'name', 'accountExternalId', 'primaryContactExternalId', 'pipelineName', 'stageName', ...ref),
    amount: { money: 'amount' },
    currency: { currencyOf: 'amount' },
    expectedCloseDate: 'date',
    probability: 'int',
    closedAt: 'datetime',
    createdAt: 'datetime',
  },
  [EntityType.PRODUCT]: { ...text('externalId', 'name', 'sku', 'description'), unitPrice: { money: 'unitPrice' }, currency: { currencyOf: 'unitPrice' }, active: 'boolean' },
  [EntityType.ACTIVITY]: {
    ...text('externalId', 'subject', 'body', 'outcome', 'accountExternalId', 'contactExternalId', 'leadExternalId', 'opportunityExternalId', ...ref),
    type: { enum: ActivityType },
    status: { enum: ActivityStatus },
    dueAt: 'datetime',
    completedAt: 'datetime',
    durationSeconds: 'int',
  },
};

export type DateOrder = 'DMY' | 'MDY';

/**
 * A calendar day from ISO (2026-11-27), slashed (11/27/2026 or 27/11/2026, by `order`; unambiguous
 * days win), dotted (27.11.2026) or ISO date-time text. Null when it is none of these.
 */
export function parseDay(v: string, order: DateOrder): string | null {
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
export function parseInstant(v: string, order: DateOrder): Date | null {
  const s = v.trim();
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(s)) {
    const d = new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}Z`);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const day = parseDay(s, order);
  return day ? new Date(`${day}T00:00:00.000Z`) : null;
}

export interface Converted {
  input: Record<string, unknown>;
  errors: { column: string; message: string }[];
}

const DECIMAL = /^-?\d{1,18}([.,]\d{1,6})?$/;

/**
 * Turns one CSV row into an upsert input: each mapped cell converted to its field's type; an empty
 * cell leaves the field out (unchanged on update). Conversion problems name the column.
 */
export function convertRow(row: Record<string, string>, mapping: Record<string, string>, fields: Record<string, Kind>, custom: Map<string, CustomFieldDefinition>, order: DateOrder): Converted {
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
    if (kind === 'text') input[field] = v;
    else if (kind === 'int') /^-?\d{1,9}$/.test(v) ? (input[field] = Number(v)) : fail('is not a whole number');
    else if (kind === 'boolean') /^(true|yes|1|y)$/i.test(v) ? (input[field] = true) : /^(false|no|0|n)$/i.test(v) ? (input[field] = false) : fail('is not true or false');
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
      return v.split(/[|;]/).map((x) => x.trim()).filter(Boolean);
    default:
      return v;
  }
}
