import { belongsTo, col, type EntitySpec } from '../../data/sql';
import type { StoreSpec } from '../../data/record-store';
import { USER_SPEC } from '../users/user.descriptor';
import { Lead, LeadSource, LeadStatus } from './lead.entity';
import { byIdLoader, type Loader, type LoaderFactories } from '../../data/loaders';
import { type IncludeSpec, toOne } from '../../data/lookahead';
import { CSV_CUSTOM_FIELDS, CSV_OWNER, csvText, type RecordKind } from '../record-kind';
import { MatchOn } from '../../graphql/batch.types';
import { LeadFilter, UpdateLeadInput, UpsertLeadInput } from './lead.types';

export const LEAD_SPEC: EntitySpec = {
  table: 'lead',
  softDelete: true,
  customFields: 'custom_fields',
  fields: {
    id: col('id', 'uuid'),
    firstName: col('first_name', 'text', true),
    lastName: col('last_name', 'text'),
    email: col('email', 'text', true),
    phone: col('phone', 'text', true),
    company: col('company', 'text', true),
    title: col('title', 'text', true),
    status: col('status', 'text'),
    source: col('source', 'text', true),
    ownerId: col('owner_id', 'uuid', true),
    externalId: col('external_id', 'text', true),
    convertedAt: col('converted_at', 'timestamptz', true),
    createdAt: col('created_at', 'timestamptz'),
    updatedAt: col('updated_at', 'timestamptz'),
  },
  relations: {
    owner: belongsTo(() => USER_SPEC, 'owner_id'),
  },
};

export const LEAD_STORE: StoreSpec<Lead> = {
  table: 'lead',
  entity: Lead,
  entityType: 'lead',
  label: 'Lead',
  trackedFields: [
    'firstName',
    'lastName',
    'email',
    'phone',
    'company',
    'title',
    'status',
    'source',
    'ownerId',
    'externalId',
    'customFields',
    'convertedAt',
    'convertedAccountId',
    'convertedContactId',
    'convertedOpportunityId',
    'deletedAt',
  ],
  toData: (l) => ({
    id: l.id,
    firstName: l.firstName,
    lastName: l.lastName,
    email: l.email,
    phone: l.phone,
    company: l.company,
    title: l.title,
    status: l.status,
    source: l.source,
    ownerId: l.ownerId,
    externalId: l.externalId,
    customFields: l.customFields,
    convertedAt: l.convertedAt?.toISOString() ?? null,
    convertedAccountId: l.convertedAccountId,
    convertedContactId: l.convertedContactId,
    convertedOpportunityId: l.convertedOpportunityId,
    deletedAt: l.deletedAt?.toISOString() ?? null,
  }),
};

declare module '../../data/loaders' {
  interface Loaders {
    lead: Loader<string, Lead | null>;
  }
}

const LEAD_LOADERS = { lead: (tx) => byIdLoader(tx, 'lead', Lead) } satisfies Pick<LoaderFactories, 'lead'>;

/** A record's `lead`, fetched with its page when selected. */
export const includeLead = (fk = 'lead_id'): IncludeSpec => toOne('lead', Lead, fk, (l) => l.lead);

export const LEAD_KIND = {
  entityType: 'lead',
  entities: [Lead],
  loaders: LEAD_LOADERS,
  eventReaders: 'everyone',
  filter: { spec: LEAD_SPEC, graphqlType: LeadFilter.name },
  csv: {
    fields: {
      ...csvText('externalId', 'firstName', 'lastName', 'email', 'phone', 'company', 'title', CSV_OWNER),
      status: { enum: LeadStatus },
      source: { enum: LeadSource },
      ...CSV_CUSTOM_FIELDS,
    },
    naturalKey: MatchOn.EMAIL,
    input: UpsertLeadInput,
  },
  automation: { objectType: 'Lead', updateInput: UpdateLeadInput, activityLink: 'leadId', emailField: 'email' },
} satisfies RecordKind;
