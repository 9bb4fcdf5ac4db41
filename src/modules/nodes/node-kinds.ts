import { Account } from '../accounts/account.entity';
import type { ActivityService } from '../activities/activity.service';
import { Activity } from '../activities/activity.entity';
import { ApiKey } from '../api-keys/api-key.entity';
import type { ApiKeyService } from '../api-keys/api-key.service';
import { AutomationRule } from '../automation/automation-rule.entity';
import type { AutomationRuleService } from '../automation/automation-rule.service';
import { AutomationRun } from '../automation/automation-run.entity';
import { SentEmail } from '../automation/sent-email.entity';
import { Contact } from '../contacts/contact.entity';
import { CustomFieldDefinition } from '../custom-fields/custom-field.entity';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import { ImportJob } from '../imports/import-job.entity';
import type { ImportService } from '../imports/import.service';
import { Lead } from '../leads/lead.entity';
import { Notification } from '../notifications/notification.entity';
import type { NotificationService } from '../notifications/notification.service';
import type { LineItemService } from '../opportunities/line-item.service';
import { LineItem, Opportunity } from '../opportunities/opportunity.entity';
import { Pipeline, Stage } from '../pipelines/pipeline.entity';
import { Product } from '../products/product.entity';
import { Team } from '../teams/team.entity';
import { User } from '../users/user.entity';
import { WebhookDelivery } from '../webhooks/webhook-delivery.entity';
import type { WebhookDeliveryService } from '../webhooks/webhook-delivery.service';
import { WebhookEndpoint } from '../webhooks/webhook-endpoint.entity';
import type { WebhookEndpointService } from '../webhooks/webhook-endpoint.service';
import { type NodeKind, viaGet, viaLoader } from './node.service';

interface NodeKindServices {
  activities: ActivityService;
  apiKeys: ApiKeyService;
  automationRules: AutomationRuleService;
  customFields: CustomFieldService;
  imports: ImportService;
  lineItems: LineItemService;
  notifications: NotificationService;
  webhookEndpoints: WebhookEndpointService;
  webhookDeliveries: WebhookDeliveryService;
}

/**
 * Every kind of record `node(id)` returns: each type implementing Node (NodeService.assertCovers
 * refuses to start without one of them). Each is read under the rules of the query named, and as
 * that query reads it:
 *
 * - the CRM records, pipelines, teams and users as `account(id)`, `pipeline(id)`, ...: any viewer
 *   with READ, deleted records included (they can be restored);
 * - stages as `pipelines` shows them, line items as `opportunity(id) { lineItems }`;
 * - custom fields as `customFieldDefinitions` (live ones), import jobs as `importJob(id)`;
 * - the ADMIN-only kinds (API keys, webhook endpoints and their deliveries, automation rules, their
 *   runs and sent emails) by ADMIN users only, as their lists: anyone else is FORBIDDEN, as there;
 * - a notification by the user whose inbox it is (another user's is null; an API key has no inbox).
 */
export function nodeKinds(s: NodeKindServices): NodeKind[] {
  return [
    { type: Account, table: 'account', rulesOf: 'account', load: viaLoader((l) => l.account) },
    { type: Contact, table: 'contact', rulesOf: 'contact', load: viaLoader((l) => l.contact) },
    { type: Lead, table: 'lead', rulesOf: 'lead', load: viaLoader((l) => l.lead) },
    { type: Opportunity, table: 'opportunity', rulesOf: 'opportunity', load: viaLoader((l) => l.opportunity) },
    { type: Product, table: 'product', rulesOf: 'product', load: viaLoader((l) => l.product) },
    { type: Activity, table: 'activity', rulesOf: 'activity', load: viaGet((ctx, id) => s.activities.get(ctx, id)) },
    { type: Pipeline, table: 'pipeline', rulesOf: 'pipeline', load: viaLoader((l) => l.pipeline) },
    { type: Stage, table: 'stage', rulesOf: 'pipelines', load: viaLoader((l) => l.stage) },
    { type: LineItem, table: 'line_item', rulesOf: 'opportunity', load: viaGet((ctx, id) => s.lineItems.get(ctx, id)) },
    { type: Team, table: 'team', rulesOf: 'team', load: viaLoader((l) => l.team) },
    { type: User, table: 'app_user', rulesOf: 'user', load: viaLoader((l) => l.user) },
    {
      type: CustomFieldDefinition,
      table: 'custom_field_definition',
      rulesOf: 'customFieldDefinitions',
      load: viaGet((ctx, id) => s.customFields.get(ctx, id)),
    },
    { type: ImportJob, table: 'import_job', rulesOf: 'importJob', load: viaGet((ctx, id) => s.imports.get(ctx, id)) },
    { type: Notification, table: 'notification', rulesOf: 'notifications', load: viaGet((ctx, id) => s.notifications.get(ctx, id)) },
    { type: ApiKey, table: 'api_key', rulesOf: 'apiKeys', load: viaGet((ctx, id) => s.apiKeys.get(ctx, id)) },
    { type: WebhookEndpoint, table: 'webhook_endpoint', rulesOf: 'webhookEndpoints', load: viaGet((ctx, id) => s.webhookEndpoints.get(ctx, id)) },
    { type: WebhookDelivery, table: 'webhook_delivery', rulesOf: 'webhookDeliveries', load: viaGet((ctx, id) => s.webhookDeliveries.get(ctx, id)) },
    { type: AutomationRule, table: 'automation_rule', rulesOf: 'automationRules', load: viaGet((ctx, id) => s.automationRules.get(ctx, id)) },
    { type: AutomationRun, table: 'automation_run', rulesOf: 'automationRuns', load: viaGet((ctx, id) => s.automationRules.run(ctx, id)) },
    { type: SentEmail, table: 'sent_email', rulesOf: 'sentEmails', load: viaGet((ctx, id) => s.automationRules.sentEmail(ctx, id)) },
  ];
}
