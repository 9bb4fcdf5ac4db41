import { Account } from './accounts/account.entity';
import { Activity } from './activities/activity.entity';
import { ApiKey } from './api-keys/api-key.entity';
import { Contact } from './contacts/contact.entity';
import { CustomFieldDefinition } from './custom-fields/custom-field.entity';
import { ImportJob } from './imports/import-job.entity';
import { Lead } from './leads/lead.entity';
import { LineItem, Opportunity, StageHistoryEntry } from './opportunities/opportunity.entity';
import { Pipeline, Stage } from './pipelines/pipeline.entity';
import { Product } from './products/product.entity';
import { RefreshToken } from './auth/refresh-token.entity';
import { Event } from '../events/event.entity';
import { Team } from './teams/team.entity';
import { Notification } from './notifications/notification.entity';
import { User } from './users/user.entity';
import { AutomationRule } from './automation/automation-rule.entity';
import { AutomationRun } from './automation/automation-run.entity';
import { SentEmail } from './automation/sent-email.entity';
import { WebhookDelivery } from './webhooks/webhook-delivery.entity';
import { WebhookEndpoint } from './webhooks/webhook-endpoint.entity';
import { Workspace } from './workspaces/workspace.entity';
import type { LoaderFactories } from '../data/loaders';
import { ACCOUNT_LOADERS } from './accounts/account.descriptor';
import { ACTIVITY_LOADERS } from './activities/activity.descriptor';
import { CONTACT_LOADERS } from './contacts/contact.descriptor';
import { LEAD_LOADERS } from './leads/lead.descriptor';
import { OPPORTUNITY_LOADERS } from './opportunities/opportunity.descriptor';
import { PIPELINE_LOADERS } from './pipelines/pipeline.descriptor';
import { PRODUCT_LOADERS } from './products/product.descriptor';
import { TEAM_LOADERS } from './teams/team.descriptor';
import { USER_LOADERS } from './users/user.descriptor';

// The lists the composition root assembles the application from: a new record kind adds its entity,
// and its loaders, here (its descriptor, types, resolver and service live in its own folder).

/** Every TypeORM entity; the data source registers exactly these. */
export const ENTITIES = [
  Workspace,
  User,
  Team,
  ApiKey,
  RefreshToken,
  Event,
  Account,
  Contact,
  Lead,
  Pipeline,
  Stage,
  Opportunity,
  StageHistoryEntry,
  LineItem,
  Product,
  Activity,
  CustomFieldDefinition,
  ImportJob,
  Notification,
  WebhookEndpoint,
  WebhookDelivery,
  AutomationRule,
  AutomationRun,
  SentEmail,
];

/** Every per-request loader, from the record kinds' descriptors (the type checks that none is missing). */
export const LOADERS: LoaderFactories = {
  ...USER_LOADERS,
  ...TEAM_LOADERS,
  ...ACCOUNT_LOADERS,
  ...CONTACT_LOADERS,
  ...LEAD_LOADERS,
  ...OPPORTUNITY_LOADERS,
  ...PRODUCT_LOADERS,
  ...PIPELINE_LOADERS,
  ...ACTIVITY_LOADERS,
};
