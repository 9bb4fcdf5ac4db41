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

/** Every TypeORM entity; the data source registers exactly these. */
export const ENTITIES = [
  Workspace, User, Team, ApiKey, RefreshToken, Event,
  Account, Contact, Lead, Pipeline, Stage, Opportunity, StageHistoryEntry, LineItem, Product, Activity, CustomFieldDefinition, ImportJob,
  Notification, WebhookEndpoint, WebhookDelivery, AutomationRule, AutomationRun, SentEmail,
];
