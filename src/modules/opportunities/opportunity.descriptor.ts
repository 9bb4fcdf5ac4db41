import { belongsTo, col, type EntitySpec } from '../../data/sql';
import { money } from '../../graphql/money';
import { ACCOUNT_SPEC } from '../accounts/account.descriptor';
import type { StoreSpec } from '../../data/record-store';
import { CONTACT_SPEC } from '../contacts/contact.descriptor';
import { PIPELINE_SPEC, STAGE_SPEC } from '../pipelines/pipeline.descriptor';
import { USER_SPEC } from '../users/user.descriptor';
import { LineItem, Opportunity, StageHistoryEntry } from './opportunity.entity';
import { byIdLoader, childrenLoader, type Loader, type LoaderFactories, MAX_CHILDREN } from '../../data/loaders';
import { type IncludeSpec, toOne } from '../../data/lookahead';
import { CSV_CUSTOM_FIELDS, CSV_OWNER, csvText, type RecordKind } from '../record-kind';
import { OpportunityFilter, UpdateOpportunityInput, UpsertOpportunityInput } from './opportunity.types';

export const OPPORTUNITY_SPEC: EntitySpec = {
  table: 'opportunity',
  softDelete: true,
  customFields: 'custom_fields',
  fields: {
    id: col('id', 'uuid'),
    name: col('name', 'text'),
    amount: col('amount_value', 'numeric', true),
    currency: col('currency', 'text'),
    probability: col('probability', 'int', true),
    expectedCloseDate: col('expected_close_date', 'date', true),
    closedAt: col('closed_at', 'timestamptz', true),
    status: col('status', 'text'),
    stageEnteredAt: col('stage_entered_at', 'timestamptz'),
    accountId: col('account_id', 'uuid', true),
    primaryContactId: col('primary_contact_id', 'uuid', true),
    pipelineId: col('pipeline_id', 'uuid'),
    stageId: col('stage_id', 'uuid'),
    ownerId: col('owner_id', 'uuid', true),
    externalId: col('external_id', 'text', true),
    createdAt: col('created_at', 'timestamptz'),
    updatedAt: col('updated_at', 'timestamptz'),
  },
  relations: {
    account: belongsTo(() => ACCOUNT_SPEC, 'account_id'),
    primaryContact: belongsTo(() => CONTACT_SPEC, 'primary_contact_id'),
    owner: belongsTo(() => USER_SPEC, 'owner_id'),
    stage: belongsTo(() => STAGE_SPEC, 'stage_id'),
    pipeline: belongsTo(() => PIPELINE_SPEC, 'pipeline_id'),
  },
  // Kept exact in the writing transaction by the analytics rollup triggers (see its migration).
  countRollup: { table: 'deal_stage_rollup', fields: ['pipelineId', 'stageId', 'ownerId', 'currency'], relations: ['pipeline', 'stage', 'owner'] },
};

export const opportunityData = (o: Opportunity) => ({
  id: o.id,
  name: o.name,
  amount: money(o.amountValue, o.currency),
  probability: o.probability,
  expectedCloseDate: o.expectedCloseDate,
  closedAt: o.closedAt?.toISOString() ?? null,
  status: o.status,
  accountId: o.accountId,
  primaryContactId: o.primaryContactId,
  pipelineId: o.pipelineId,
  stageId: o.stageId,
  ownerId: o.ownerId,
  externalId: o.externalId,
  customFields: o.customFields,
  createdAt: o.createdAt?.toISOString() ?? null,
  deletedAt: o.deletedAt?.toISOString() ?? null,
});

export const OPPORTUNITY_STORE: StoreSpec<Opportunity> = {
  table: 'opportunity',
  entity: Opportunity,
  entityType: 'opportunity',
  label: 'Opportunity',
  trackedFields: [
    'name',
    'amount',
    'probability',
    'expectedCloseDate',
    'closedAt',
    'status',
    'accountId',
    'primaryContactId',
    'pipelineId',
    'stageId',
    'ownerId',
    'externalId',
    'customFields',
    'deletedAt',
  ],
  toData: opportunityData,
};

export const LINE_ITEM_STORE: StoreSpec<LineItem> = {
  table: 'line_item',
  entity: LineItem,
  entityType: 'line_item',
  label: 'Line item',
  trackedFields: ['opportunityId', 'productId', 'name', 'quantity', 'unitPrice', 'discount', 'total', 'position'],
  toData: (l) => ({
    id: l.id,
    opportunityId: l.opportunityId,
    productId: l.productId,
    name: l.name,
    quantity: l.quantityValue,
    unitPrice: money(l.unitPriceValue, l.currency),
    discount: money(l.discountValue, l.currency),
    total: money(l.totalValue, l.currency),
    position: l.position,
  }),
};

declare module '../../data/loaders' {
  interface Loaders {
    opportunity: Loader<string, Opportunity | null>;
    /** The opportunities of each account, newest first. */
    opportunitiesOfAccount: Loader<string, Opportunity[]>;
    /** Each opportunity's stage changes, oldest first. */
    stageHistory: Loader<string, StageHistoryEntry[]>;
    lineItemsOfOpportunity: Loader<string, LineItem[]>;
  }
}

const OPPORTUNITY_LOADERS = {
  opportunity: (tx) => byIdLoader(tx, 'opportunity', Opportunity),
  opportunitiesOfAccount: (tx) => childrenLoader(tx, 'opportunity', 'account_id', Opportunity, 'c.created_at DESC, c.id DESC', MAX_CHILDREN),
  stageHistory: (tx) => childrenLoader(tx, 'opportunity_stage_history', 'opportunity_id', StageHistoryEntry, 'c.entered_at, c.id', MAX_CHILDREN, 'TRUE'),
  lineItemsOfOpportunity: (tx) => childrenLoader(tx, 'line_item', 'opportunity_id', LineItem, 'c.position, c.created_at, c.id', MAX_CHILDREN, 'TRUE'),
} satisfies Pick<LoaderFactories, 'opportunity' | 'opportunitiesOfAccount' | 'stageHistory' | 'lineItemsOfOpportunity'>;

/** A record's `opportunity`, fetched with its page when selected. */
export const includeOpportunity = (fk = 'opportunity_id'): IncludeSpec => toOne('opportunity', Opportunity, fk, (l) => l.opportunity);

export const OPPORTUNITY_KIND = {
  entityType: 'opportunity',
  entities: [Opportunity, StageHistoryEntry],
  loaders: OPPORTUNITY_LOADERS,
  eventReaders: 'everyone',
  filter: { spec: OPPORTUNITY_SPEC, graphqlType: OpportunityFilter.name },
  csv: {
    fields: {
      ...csvText('externalId', 'name', 'accountExternalId', 'primaryContactExternalId', 'pipelineName', 'stageName', CSV_OWNER),
      amount: { money: 'amount' },
      currency: { currencyOf: 'amount' },
      expectedCloseDate: 'date',
      probability: 'int',
      closedAt: 'datetime',
      createdAt: 'datetime',
      ...CSV_CUSTOM_FIELDS,
    },
    input: UpsertOpportunityInput,
  },
  automation: { objectType: 'Opportunity', updateInput: UpdateOpportunityInput, activityLink: 'opportunityId' },
} satisfies RecordKind;

export const LINE_ITEM_KIND = { entityType: 'line_item', entities: [LineItem], eventReaders: 'everyone' } satisfies RecordKind;
