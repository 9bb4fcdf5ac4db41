import { belongsTo, col, type EntitySpec } from '../../data/sql';
import { ACCOUNT_SPEC } from '../accounts/account.descriptor';
import type { StoreSpec } from '../../data/record-store';
import { CONTACT_SPEC } from '../contacts/contact.descriptor';
import { LEAD_SPEC } from '../leads/lead.descriptor';
import { OPPORTUNITY_SPEC } from '../opportunities/opportunity.descriptor';
import { USER_SPEC } from '../users/user.descriptor';
import { Activity, ActivityStatus, ActivityType } from './activity.entity';
import { childrenLoader, type Loader, type LoaderFactories } from '../../data/loaders';
import { children, type IncludeSpec } from '../../data/lookahead';
import { badField } from '../../kernel/errors';
import { CSV_CUSTOM_FIELDS, CSV_OWNER, csvText, type RecordKind } from '../record-kind';
import { ActivityFilter, UpdateActivityInput, UpsertActivityInput } from './activity.types';

export const ACTIVITY_SPEC: EntitySpec = {
  table: 'activity',
  softDelete: true,
  customFields: 'custom_fields',
  fields: {
    id: col('id', 'uuid'),
    type: col('type', 'text'),
    subject: col('subject', 'text'),
    body: col('body', 'text', true),
    status: col('status', 'text'),
    dueAt: col('due_at', 'timestamptz', true),
    completedAt: col('completed_at', 'timestamptz', true),
    durationSeconds: col('duration_seconds', 'int', true),
    outcome: col('outcome', 'text', true),
    accountId: col('account_id', 'uuid', true),
    contactId: col('contact_id', 'uuid', true),
    leadId: col('lead_id', 'uuid', true),
    opportunityId: col('opportunity_id', 'uuid', true),
    ownerId: col('owner_id', 'uuid', true),
    externalId: col('external_id', 'text', true),
    createdAt: col('created_at', 'timestamptz'),
    updatedAt: col('updated_at', 'timestamptz'),
  },
  relations: {
    account: belongsTo(() => ACCOUNT_SPEC, 'account_id'),
    contact: belongsTo(() => CONTACT_SPEC, 'contact_id'),
    lead: belongsTo(() => LEAD_SPEC, 'lead_id'),
    opportunity: belongsTo(() => OPPORTUNITY_SPEC, 'opportunity_id'),
    owner: belongsTo(() => USER_SPEC, 'owner_id'),
  },
};

export const ACTIVITY_STORE: StoreSpec<Activity> = {
  table: 'activity',
  entity: Activity,
  entityType: 'activity',
  label: 'Activity',
  trackedFields: [
    'type',
    'subject',
    'body',
    'status',
    'dueAt',
    'completedAt',
    'durationSeconds',
    'outcome',
    'accountId',
    'contactId',
    'leadId',
    'opportunityId',
    'ownerId',
    'externalId',
    'customFields',
    'deletedAt',
  ],
  toData: (a) => ({
    id: a.id,
    type: a.type,
    subject: a.subject,
    body: a.body,
    status: a.status,
    dueAt: a.dueAt?.toISOString() ?? null,
    completedAt: a.completedAt?.toISOString() ?? null,
    durationSeconds: a.durationSeconds,
    outcome: a.outcome,
    accountId: a.accountId,
    contactId: a.contactId,
    leadId: a.leadId,
    opportunityId: a.opportunityId,
    ownerId: a.ownerId,
    externalId: a.externalId,
    customFields: a.customFields,
    deletedAt: a.deletedAt?.toISOString() ?? null,
  }),
};

/** The most activities `activities(first:)` of a record returns. */
const LATEST_ACTIVITIES_MAX = 100;
/** The kinds of record an activity may be linked to. */
type ActivityParent = 'account' | 'contact' | 'lead' | 'opportunity';

declare module '../../data/loaders' {
  interface Loaders {
    /** The newest `first` activities of each record of a kind (account, contact, lead, opportunity). */
    latestActivities(parent: ActivityParent, first: number): Loader<string, Activity[]>;
  }
}

const ACTIVITY_LOADERS = {
  latestActivities: (tx) => {
    const latest = new Map<string, Loader<string, Activity[]>>();
    return (parent, first) => {
      if (!Number.isInteger(first) || first < 0 || first > LATEST_ACTIVITIES_MAX) throw badField('first', `must be between 0 and ${LATEST_ACTIVITIES_MAX}`);
      const key = `${parent}:${first}`;
      let loader = latest.get(key);
      if (!loader) {
        loader = childrenLoader(tx, 'activity', `${parent}_id`, Activity, 'c.created_at DESC, c.id DESC', first);
        latest.set(key, loader);
      }
      return loader;
    };
  },
} satisfies Pick<LoaderFactories, 'latestActivities'>;

/** `activities(first: n)` of a record: its n latest live activities. */
export function latestActivities(parent: ActivityParent): IncludeSpec {
  return children('activity', Activity, `${parent}_id`, 'c.created_at DESC, c.id DESC', 'c.deleted_at IS NULL', (l, args) => {
    const first = args.first as number;
    // Out of range: not included, so that the field's resolver reports it as before.
    if (!Number.isInteger(first) || first < 0 || first > LATEST_ACTIVITIES_MAX) return null;
    return { loader: l.latestActivities(parent, first), limit: first };
  });
}

export const ACTIVITY_KIND = {
  entityType: 'activity',
  entities: [Activity],
  loaders: ACTIVITY_LOADERS,
  eventReaders: 'everyone',
  filter: { spec: ACTIVITY_SPEC, graphqlType: ActivityFilter.name },
  csv: {
    fields: {
      ...csvText('externalId', 'subject', 'body', 'outcome', 'accountExternalId', 'contactExternalId', 'leadExternalId', 'opportunityExternalId', CSV_OWNER),
      type: { enum: ActivityType },
      status: { enum: ActivityStatus },
      dueAt: 'datetime',
      completedAt: 'datetime',
      durationSeconds: 'int',
      ...CSV_CUSTOM_FIELDS,
    },
    input: UpsertActivityInput,
  },
  automation: { objectType: 'Activity', updateInput: UpdateActivityInput },
} satisfies RecordKind;
