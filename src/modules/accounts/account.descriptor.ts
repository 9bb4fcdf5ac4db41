import { belongsTo, col, type EntitySpec } from '../../data/sql';
import { money } from '../../graphql/money';
import type { StoreSpec } from '../../data/record-store';
import { USER_SPEC } from '../users/user.descriptor';
import { Account, AccountType } from './account.entity';
import { byIdLoader, type Loader, type LoaderFactories } from '../../data/loaders';
import { type IncludeSpec, toOne } from '../../data/lookahead';
import { CSV_CUSTOM_FIELDS, CSV_OWNER, csvText, type RecordKind } from '../record-kind';
import { MatchOn } from '../../graphql/batch.types';
import { AccountFilter, UpdateAccountInput, UpsertAccountInput } from './account.types';

export const ACCOUNT_SPEC: EntitySpec = {
  table: 'account',
  softDelete: true,
  customFields: 'custom_fields',
  fields: {
    id: col('id', 'uuid'),
    name: col('name', 'text'),
    domain: col('domain', 'text', true),
    industry: col('industry', 'text', true),
    type: col('type', 'text', true),
    employees: col('employees', 'int', true),
    annualRevenue: col('annual_revenue_amount', 'numeric', true),
    annualRevenueCurrency: col('annual_revenue_currency', 'text', true),
    phone: col('phone', 'text', true),
    website: col('website', 'text', true),
    country: col('country', 'text', true),
    ownerId: col('owner_id', 'uuid', true),
    externalId: col('external_id', 'text', true),
    createdAt: col('created_at', 'timestamptz'),
    updatedAt: col('updated_at', 'timestamptz'),
  },
  relations: {
    owner: belongsTo(() => USER_SPEC, 'owner_id'),
  },
};

const accountData = (a: Account) => ({
  id: a.id,
  name: a.name,
  domain: a.domain,
  industry: a.industry,
  type: a.type,
  employees: a.employees,
  annualRevenue: money(a.annualRevenueAmount, a.annualRevenueCurrency),
  phone: a.phone,
  website: a.website,
  address: a.address,
  country: a.country,
  ownerId: a.ownerId,
  externalId: a.externalId,
  customFields: a.customFields,
  mergedIntoId: a.mergedIntoId,
  deletedAt: a.deletedAt?.toISOString() ?? null,
});

export const ACCOUNT_STORE: StoreSpec<Account> = {
  table: 'account',
  entity: Account,
  entityType: 'account',
  label: 'Account',
  trackedFields: [
    'name',
    'domain',
    'industry',
    'type',
    'employees',
    'annualRevenue',
    'phone',
    'website',
    'address',
    'country',
    'ownerId',
    'externalId',
    'customFields',
    'mergedIntoId',
    'deletedAt',
  ],
  toData: accountData,
};

declare module '../../data/loaders' {
  interface Loaders {
    account: Loader<string, Account | null>;
  }
}

const ACCOUNT_LOADERS = { account: (tx) => byIdLoader(tx, 'account', Account) } satisfies Pick<LoaderFactories, 'account'>;

/** A record's `account` (through `fk`), fetched with its page when selected (look-ahead). */
export const includeAccount = (fk = 'account_id'): IncludeSpec => toOne('account', Account, fk, (l) => l.account);

export const ACCOUNT_KIND = {
  entityType: 'account',
  entities: [Account],
  loaders: ACCOUNT_LOADERS,
  eventReaders: 'everyone',
  filter: { spec: ACCOUNT_SPEC, graphqlType: AccountFilter.name },
  csv: {
    fields: {
      ...csvText('externalId', 'name', 'domain', 'industry', 'phone', 'website', 'address', 'country', CSV_OWNER),
      type: { enum: AccountType },
      employees: 'int',
      annualRevenue: { money: 'annualRevenue' },
      annualRevenueCurrency: { currencyOf: 'annualRevenue' },
      ...CSV_CUSTOM_FIELDS,
    },
    naturalKey: MatchOn.DOMAIN,
    input: UpsertAccountInput,
  },
  automation: { objectType: 'Account', updateInput: UpdateAccountInput, activityLink: 'accountId' },
} satisfies RecordKind;
