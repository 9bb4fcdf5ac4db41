/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Conditions on accounts; all given conditions must hold. */
export type AccountFilter = {
  /** All of these hold. */
  and?: Array<AccountFilter> | null | undefined;
  /** The annual revenue amount. */
  annualRevenue?: DecimalFilter | null | undefined;
  /** The annual revenue currency. */
  annualRevenueCurrency?: StringFilter | null | undefined;
  /** The country. */
  country?: StringFilter | null | undefined;
  /** When it was created. */
  createdAt?: DateTimeFilter | null | undefined;
  /** Conditions on custom fields. */
  customFields?: Array<CustomFieldFilter> | null | undefined;
  /** The domain. */
  domain?: StringFilter | null | undefined;
  /** The number of employees. */
  employees?: IntFilter | null | undefined;
  /** The external id. */
  externalId?: StringFilter | null | undefined;
  /** The id. */
  id?: IdFilter | null | undefined;
  /** The industry. */
  industry?: StringFilter | null | undefined;
  /** The name. */
  name?: StringFilter | null | undefined;
  /** This does not hold. */
  not?: AccountFilter | null | undefined;
  /** At least one of these holds. */
  or?: Array<AccountFilter> | null | undefined;
  /** Conditions on the owner. */
  owner?: UserFilter | null | undefined;
  /** The owner id. */
  ownerId?: IdFilter | null | undefined;
  /** The phone number. */
  phone?: StringFilter | null | undefined;
  /** The type. */
  type?: AccountTypeFilter | null | undefined;
  /** When it last changed. */
  updatedAt?: DateTimeFilter | null | undefined;
  /** The website. */
  website?: StringFilter | null | undefined;
};

/** The relationship with a company. */
export type AccountType =
  /** A company that buys from us. */
  | 'CUSTOMER'
  /** Any other relationship. */
  | 'OTHER'
  /** A company we work with (reseller, integrator). */
  | 'PARTNER'
  /** A company that may buy from us. */
  | 'PROSPECT'
  /** A company we buy from. */
  | 'VENDOR';

/** Conditions on a AccountType field. */
export type AccountTypeFilter = {
  /** Equal to. */
  eq?: AccountType | null | undefined;
  /** One of. */
  in?: Array<AccountType> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Not equal to (null values included). */
  ne?: AccountType | null | undefined;
  /** None of (null values included). */
  notIn?: Array<AccountType> | null | undefined;
};

/** What happened to an activity in a live feed. */
export type ActivityFeedAction =
  /** A task or activity was completed. */
  | 'COMPLETED'
  /** An activity was logged. */
  | 'CREATED'
  /** An activity changed. */
  | 'UPDATED';

/** Conditions on activities; all given conditions must hold. */
export type ActivityFilter = {
  /** Conditions on the account. */
  account?: AccountFilter | null | undefined;
  /** The account id. */
  accountId?: IdFilter | null | undefined;
  /** All of these hold. */
  and?: Array<ActivityFilter> | null | undefined;
  /** The body. */
  body?: StringFilter | null | undefined;
  /** When it was completed. */
  completedAt?: DateTimeFilter | null | undefined;
  /** Conditions on the contact. */
  contact?: ContactFilter | null | undefined;
  /** The contact id. */
  contactId?: IdFilter | null | undefined;
  /** When it was created. */
  createdAt?: DateTimeFilter | null | undefined;
  /** Conditions on custom fields. */
  customFields?: Array<CustomFieldFilter> | null | undefined;
  /** When it is due. */
  dueAt?: DateTimeFilter | null | undefined;
  /** The duration in seconds. */
  durationSeconds?: IntFilter | null | undefined;
  /** The external id. */
  externalId?: StringFilter | null | undefined;
  /** The id. */
  id?: IdFilter | null | undefined;
  /** Conditions on the lead. */
  lead?: LeadFilter | null | undefined;
  /** The lead id. */
  leadId?: IdFilter | null | undefined;
  /** This does not hold. */
  not?: ActivityFilter | null | undefined;
  /** Conditions on the opportunity. */
  opportunity?: OpportunityFilter | null | undefined;
  /** The opportunity id. */
  opportunityId?: IdFilter | null | undefined;
  /** At least one of these holds. */
  or?: Array<ActivityFilter> | null | undefined;
  /** The outcome. */
  outcome?: StringFilter | null | undefined;
  /** Conditions on the owner. */
  owner?: UserFilter | null | undefined;
  /** The owner id. */
  ownerId?: IdFilter | null | undefined;
  /** The status. */
  status?: ActivityStatusFilter | null | undefined;
  /** The subject. */
  subject?: StringFilter | null | undefined;
  /** The type. */
  type?: ActivityTypeFilter | null | undefined;
  /** When it last changed. */
  updatedAt?: DateTimeFilter | null | undefined;
};

/** Open (to do), completed or cancelled. */
export type ActivityStatus =
  /** Will not be done. */
  | 'CANCELLED'
  /** Done (`completedAt` says when). */
  | 'COMPLETED'
  /** To do. */
  | 'OPEN';

/** Conditions on a ActivityStatus field. */
export type ActivityStatusFilter = {
  /** Equal to. */
  eq?: ActivityStatus | null | undefined;
  /** One of. */
  in?: Array<ActivityStatus> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Not equal to (null values included). */
  ne?: ActivityStatus | null | undefined;
  /** None of (null values included). */
  notIn?: Array<ActivityStatus> | null | undefined;
};

/** The kind of interaction. */
export type ActivityType =
  /** A phone call (with `durationSeconds` and `outcome`). */
  | 'CALL'
  /** An email sent or received. */
  | 'EMAIL'
  /** A meeting. */
  | 'MEETING'
  /** A note. */
  | 'NOTE'
  /** Something to do (with `dueAt`, completed by `completeTask`). */
  | 'TASK';

/** Conditions on a ActivityType field. */
export type ActivityTypeFilter = {
  /** Equal to. */
  eq?: ActivityType | null | undefined;
  /** One of. */
  in?: Array<ActivityType> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Not equal to (null values included). */
  ne?: ActivityType | null | undefined;
  /** None of (null values included). */
  notIn?: Array<ActivityType> | null | undefined;
};

/** Who caused an event. */
export type ActorType =
  /** An integration through an API key (the id is the key id). */
  | 'API_KEY'
  /** An automation rule (the id is the rule id). */
  | 'AUTOMATION'
  /** Trellis itself: background work, the admin CLI, lead intake (no id). */
  | 'SYSTEM'
  /** A signed-in user (the id is the user id). */
  | 'USER';

/** Conditions on a true/false field. */
export type BooleanFilter = {
  /** Equal to. */
  eq?: boolean | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Not equal to (null values included). */
  ne?: boolean | null | undefined;
};

/** Conditions on contacts; all given conditions must hold. */
export type ContactFilter = {
  /** Conditions on the account. */
  account?: AccountFilter | null | undefined;
  /** The account id. */
  accountId?: IdFilter | null | undefined;
  /** All of these hold. */
  and?: Array<ContactFilter> | null | undefined;
  /** When it was created. */
  createdAt?: DateTimeFilter | null | undefined;
  /** Conditions on custom fields. */
  customFields?: Array<CustomFieldFilter> | null | undefined;
  /** The email address. */
  email?: StringFilter | null | undefined;
  /** The external id. */
  externalId?: StringFilter | null | undefined;
  /** The first name. */
  firstName?: StringFilter | null | undefined;
  /** The id. */
  id?: IdFilter | null | undefined;
  /** The last name. */
  lastName?: StringFilter | null | undefined;
  /** This does not hold. */
  not?: ContactFilter | null | undefined;
  /** At least one of these holds. */
  or?: Array<ContactFilter> | null | undefined;
  /** Conditions on the owner. */
  owner?: UserFilter | null | undefined;
  /** The owner id. */
  ownerId?: IdFilter | null | undefined;
  /** The phone number. */
  phone?: StringFilter | null | undefined;
  /** The job title. */
  title?: StringFilter | null | undefined;
  /** When it last changed. */
  updatedAt?: DateTimeFilter | null | undefined;
};

/** Conditions on one custom field, by key; values are checked against the field type. */
export type CustomFieldFilter = {
  /** Between two values, both included. */
  between?: Array<unknown> | null | undefined;
  /** Contains, ignoring case (text fields). */
  contains?: string | null | undefined;
  /** Equal to (for MULTI_SELECT: has this value). */
  eq?: unknown;
  /** Greater than. */
  gt?: unknown;
  /** Greater than or equal to. */
  gte?: unknown;
  /** One of (for MULTI_SELECT: has any of these). */
  in?: Array<unknown> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** The custom field key. */
  key: string;
  /** Less than. */
  lt?: unknown;
  /** Less than or equal to. */
  lte?: unknown;
  /** Not equal to (null values included). */
  ne?: unknown;
  /** None of (null values included). */
  notIn?: Array<unknown> | null | undefined;
  /** Starts with, ignoring case (text fields). */
  startsWith?: string | null | undefined;
};

/** Conditions on a calendar-day field. */
export type DateFilter = {
  /** Between two days, both included. */
  between?: Array<string> | null | undefined;
  /** On that day. */
  eq?: string | null | undefined;
  /** After. */
  gt?: string | null | undefined;
  /** On or after. */
  gte?: string | null | undefined;
  /** One of. */
  in?: Array<string> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Before. */
  lt?: string | null | undefined;
  /** On or before. */
  lte?: string | null | undefined;
  /** Not on that day (null values included). */
  ne?: string | null | undefined;
  /** None of (null values included). */
  notIn?: Array<string> | null | undefined;
};

/** Conditions on an instant. */
export type DateTimeFilter = {
  /** Between two instants, both included. */
  between?: Array<string> | null | undefined;
  /** At that instant. */
  eq?: string | null | undefined;
  /** After. */
  gt?: string | null | undefined;
  /** At or after. */
  gte?: string | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Before. */
  lt?: string | null | undefined;
  /** At or before. */
  lte?: string | null | undefined;
  /** Not at that instant (null values included). */
  ne?: string | null | undefined;
};

/** Conditions on an exact decimal field. */
export type DecimalFilter = {
  /** Between two values, both included. */
  between?: Array<string> | null | undefined;
  /** Equal to. */
  eq?: string | null | undefined;
  /** Greater than. */
  gt?: string | null | undefined;
  /** Greater than or equal to. */
  gte?: string | null | undefined;
  /** One of. */
  in?: Array<string> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Less than. */
  lt?: string | null | undefined;
  /** Less than or equal to. */
  lte?: string | null | undefined;
  /** Not equal to (null values included). */
  ne?: string | null | undefined;
  /** None of (null values included). */
  notIn?: Array<string> | null | undefined;
};

/** Conditions on a reference to another record. */
export type IdFilter = {
  /** Equal to. */
  eq?: string | number | null | undefined;
  /** One of. */
  in?: Array<string | number> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Not equal to (null values included). */
  ne?: string | number | null | undefined;
  /** None of (null values included). */
  notIn?: Array<string | number> | null | undefined;
};

/** Conditions on an integer field. */
export type IntFilter = {
  /** Between two values, both included. */
  between?: Array<number> | null | undefined;
  /** Equal to. */
  eq?: number | null | undefined;
  /** Greater than. */
  gt?: number | null | undefined;
  /** Greater than or equal to. */
  gte?: number | null | undefined;
  /** One of. */
  in?: Array<number> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Less than. */
  lt?: number | null | undefined;
  /** Less than or equal to. */
  lte?: number | null | undefined;
  /** Not equal to (null values included). */
  ne?: number | null | undefined;
  /** None of (null values included). */
  notIn?: Array<number> | null | undefined;
};

/** Conditions on leads; all given conditions must hold. */
export type LeadFilter = {
  /** All of these hold. */
  and?: Array<LeadFilter> | null | undefined;
  /** The company. */
  company?: StringFilter | null | undefined;
  /** When it was converted. */
  convertedAt?: DateTimeFilter | null | undefined;
  /** When it was created. */
  createdAt?: DateTimeFilter | null | undefined;
  /** Conditions on custom fields. */
  customFields?: Array<CustomFieldFilter> | null | undefined;
  /** The email address. */
  email?: StringFilter | null | undefined;
  /** The external id. */
  externalId?: StringFilter | null | undefined;
  /** The first name. */
  firstName?: StringFilter | null | undefined;
  /** The id. */
  id?: IdFilter | null | undefined;
  /** The last name. */
  lastName?: StringFilter | null | undefined;
  /** This does not hold. */
  not?: LeadFilter | null | undefined;
  /** At least one of these holds. */
  or?: Array<LeadFilter> | null | undefined;
  /** Conditions on the owner. */
  owner?: UserFilter | null | undefined;
  /** The owner id. */
  ownerId?: IdFilter | null | undefined;
  /** The phone number. */
  phone?: StringFilter | null | undefined;
  /** The source. */
  source?: LeadSourceFilter | null | undefined;
  /** The status. */
  status?: LeadStatusFilter | null | undefined;
  /** The job title. */
  title?: StringFilter | null | undefined;
  /** When it last changed. */
  updatedAt?: DateTimeFilter | null | undefined;
};

/** Where a lead came from. */
export type LeadSource =
  /** An advertisement. */
  | 'ADVERTISING'
  /** A trade show, conference or webinar. */
  | 'EVENT'
  /** A CSV import or a bulk load. */
  | 'IMPORT'
  /** Anywhere else. */
  | 'OTHER'
  /** Our own prospecting. */
  | 'OUTBOUND'
  /** A partner. */
  | 'PARTNER'
  /** Referred by a customer or a contact. */
  | 'REFERRAL'
  /** A web form or the website. */
  | 'WEB';

/** Conditions on a LeadSource field. */
export type LeadSourceFilter = {
  /** Equal to. */
  eq?: LeadSource | null | undefined;
  /** One of. */
  in?: Array<LeadSource> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Not equal to (null values included). */
  ne?: LeadSource | null | undefined;
  /** None of (null values included). */
  notIn?: Array<LeadSource> | null | undefined;
};

/** Where a lead stands; CONVERTED is set by convertLead only. */
export type LeadStatus =
  /** Contacted, not yet qualified. */
  | 'CONTACTED'
  /** Turned into an account, a contact and possibly an opportunity by `convertLead`. */
  | 'CONVERTED'
  /** Not yet contacted. */
  | 'NEW'
  /** Worth pursuing: ready to convert. */
  | 'QUALIFIED'
  /** Not worth pursuing. */
  | 'UNQUALIFIED';

/** Conditions on a LeadStatus field. */
export type LeadStatusFilter = {
  /** Equal to. */
  eq?: LeadStatus | null | undefined;
  /** One of. */
  in?: Array<LeadStatus> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Not equal to (null values included). */
  ne?: LeadStatus | null | undefined;
  /** None of (null values included). */
  notIn?: Array<LeadStatus> | null | undefined;
};

/** Conditions on opportunities; all given conditions must hold. */
export type OpportunityFilter = {
  /** Conditions on the account. */
  account?: AccountFilter | null | undefined;
  /** The account id. */
  accountId?: IdFilter | null | undefined;
  /** The amount. */
  amount?: DecimalFilter | null | undefined;
  /** All of these hold. */
  and?: Array<OpportunityFilter> | null | undefined;
  /** When it closed. */
  closedAt?: DateTimeFilter | null | undefined;
  /** When it was created. */
  createdAt?: DateTimeFilter | null | undefined;
  /** The currency. */
  currency?: StringFilter | null | undefined;
  /** Conditions on custom fields. */
  customFields?: Array<CustomFieldFilter> | null | undefined;
  /** The expected close date. */
  expectedCloseDate?: DateFilter | null | undefined;
  /** The external id. */
  externalId?: StringFilter | null | undefined;
  /** The id. */
  id?: IdFilter | null | undefined;
  /** The name. */
  name?: StringFilter | null | undefined;
  /** This does not hold. */
  not?: OpportunityFilter | null | undefined;
  /** At least one of these holds. */
  or?: Array<OpportunityFilter> | null | undefined;
  /** Conditions on the owner. */
  owner?: UserFilter | null | undefined;
  /** The owner id. */
  ownerId?: IdFilter | null | undefined;
  /** The pipeline id. */
  pipelineId?: IdFilter | null | undefined;
  /** Conditions on the primary contact. */
  primaryContact?: ContactFilter | null | undefined;
  /** The primary contact id. */
  primaryContactId?: IdFilter | null | undefined;
  /** The deal's own probability. */
  probability?: IntFilter | null | undefined;
  /** Conditions on the stage. */
  stage?: StageFilter | null | undefined;
  /** When it entered its stage. */
  stageEnteredAt?: DateTimeFilter | null | undefined;
  /** The stage id. */
  stageId?: IdFilter | null | undefined;
  /** OPEN, WON or LOST. */
  status?: OpportunityStatusFilter | null | undefined;
  /** When it last changed. */
  updatedAt?: DateTimeFilter | null | undefined;
};

/** Open, or closed as won or lost (follows the stage kind). */
export type OpportunityStatus =
  /** In a LOST stage: not sold. */
  | 'LOST'
  /** In an OPEN stage: not yet decided. */
  | 'OPEN'
  /** In a WON stage: sold. */
  | 'WON';

/** Conditions on a OpportunityStatus field. */
export type OpportunityStatusFilter = {
  /** Equal to. */
  eq?: OpportunityStatus | null | undefined;
  /** One of. */
  in?: Array<OpportunityStatus> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Not equal to (null values included). */
  ne?: OpportunityStatus | null | undefined;
  /** None of (null values included). */
  notIn?: Array<OpportunityStatus> | null | undefined;
};

/** A user's role in the workspace. */
export type Role =
  /** Reads and writes everything, manages users, teams, API keys and settings. */
  | 'ADMIN'
  /** Reads and writes every record of the workspace. */
  | 'MANAGER'
  /** Reads only. */
  | 'READ_ONLY'
  /** Reads everything; writes what it owns or what has no owner. */
  | 'REP';

/** Conditions on a Role field. */
export type RoleFilter = {
  /** Equal to. */
  eq?: Role | null | undefined;
  /** One of. */
  in?: Array<Role> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Not equal to (null values included). */
  ne?: Role | null | undefined;
  /** None of (null values included). */
  notIn?: Array<Role> | null | undefined;
};

/** Conditions on stages (in relation filters). */
export type StageFilter = {
  /** The forecast category. */
  forecastCategory?: StringFilter | null | undefined;
  /** The id. */
  id?: IdFilter | null | undefined;
  /** The kind: OPEN, WON or LOST. */
  kind?: StringFilter | null | undefined;
  /** The name. */
  name?: StringFilter | null | undefined;
  /** The win probability. */
  probability?: IntFilter | null | undefined;
};

/** Conditions on a text field. `contains` and `startsWith` ignore case. */
export type StringFilter = {
  /** Between two values, both included. */
  between?: Array<string> | null | undefined;
  /** Contains, ignoring case. */
  contains?: string | null | undefined;
  /** Equal to. */
  eq?: string | null | undefined;
  /** Greater than. */
  gt?: string | null | undefined;
  /** Greater than or equal to. */
  gte?: string | null | undefined;
  /** One of. */
  in?: Array<string> | null | undefined;
  /** True: has no value; false: has a value. */
  isNull?: boolean | null | undefined;
  /** Less than. */
  lt?: string | null | undefined;
  /** Less than or equal to. */
  lte?: string | null | undefined;
  /** Not equal to (null values included). */
  ne?: string | null | undefined;
  /** None of (null values included). */
  notIn?: Array<string> | null | undefined;
  /** Starts with, ignoring case. */
  startsWith?: string | null | undefined;
};

/** Conditions on teams; all given conditions must hold. */
export type TeamFilter = {
  /** All of these hold. */
  and?: Array<TeamFilter> | null | undefined;
  /** When the team was created. */
  createdAt?: DateTimeFilter | null | undefined;
  /** The team id. */
  id?: IdFilter | null | undefined;
  /** The manager's id. */
  managerId?: IdFilter | null | undefined;
  /** The name. */
  name?: StringFilter | null | undefined;
  /** This does not hold. */
  not?: TeamFilter | null | undefined;
  /** At least one of these holds. */
  or?: Array<TeamFilter> | null | undefined;
};

/** Conditions on users; all given conditions must hold. */
export type UserFilter = {
  /** Active or deactivated. */
  active?: BooleanFilter | null | undefined;
  /** All of these hold. */
  and?: Array<UserFilter> | null | undefined;
  /** When the user was created. */
  createdAt?: DateTimeFilter | null | undefined;
  /** The email. */
  email?: StringFilter | null | undefined;
  /** The user id. */
  id?: IdFilter | null | undefined;
  /** The name. */
  name?: StringFilter | null | undefined;
  /** This does not hold. */
  not?: UserFilter | null | undefined;
  /** At least one of these holds. */
  or?: Array<UserFilter> | null | undefined;
  /** The role. */
  role?: RoleFilter | null | undefined;
  /** Conditions on the user's team. */
  team?: TeamFilter | null | undefined;
  /** The team id. */
  teamId?: IdFilter | null | undefined;
};

export type ActivityFeedSubscriptionVariables = Exact<{
  filter?: ActivityFilter | null | undefined;
}>;


export type ActivityFeedSubscription = { activityFeed: { action: ActivityFeedAction, occurredAt: string, cursor: string, actor: { type: ActorType }, activity: { id: string, type: ActivityType, subject: string, status: ActivityStatus, owner: { name: string } | null } } };

export type OpenOpportunitiesQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
}>;


export type OpenOpportunitiesQuery = { opportunities: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, name: string, expectedCloseDate: string | null, amount: { amount: string, currency: string } | null, stage: { name: string, probability: number }, account: { name: string } | null, owner: { name: string } | null }> } };


export const ActivityFeedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"ActivityFeed"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ActivityFilter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"activityFeed"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"action"}},{"kind":"Field","name":{"kind":"Name","value":"occurredAt"}},{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"actor"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"type"}}]}},{"kind":"Field","name":{"kind":"Name","value":"activity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"owner"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ActivityFeedSubscription, ActivityFeedSubscriptionVariables>;
export const OpenOpportunitiesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"OpenOpportunities"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"opportunities"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"status"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"eq"},"value":{"kind":"EnumValue","value":"OPEN"}}]}}]}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"ListValue","values":[{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"field"},"value":{"kind":"EnumValue","value":"AMOUNT"}},{"kind":"ObjectField","name":{"kind":"Name","value":"direction"},"value":{"kind":"EnumValue","value":"DESC"}},{"kind":"ObjectField","name":{"kind":"Name","value":"nulls"},"value":{"kind":"EnumValue","value":"LAST"}}]}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"amount"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}}]}},{"kind":"Field","name":{"kind":"Name","value":"expectedCloseDate"}},{"kind":"Field","name":{"kind":"Name","value":"stage"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"probability"}}]}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"owner"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]}}]} as unknown as DocumentNode<OpenOpportunitiesQuery, OpenOpportunitiesQueryVariables>;