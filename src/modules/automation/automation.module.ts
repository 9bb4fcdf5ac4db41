import type { DataSource } from 'typeorm';
import type { Config } from '../../kernel/config';
import type { Logger } from '../../kernel/logger';
import type { AccountService } from '../accounts/account.service';
import { UpdateAccountInput } from '../accounts/account.types';
import type { ActivityService } from '../activities/activity.service';
import { UpdateActivityInput } from '../activities/activity.types';
import type { RecordFilterService } from '../common/record-filter';
import type { CrudService } from '../common/crud.service';
import type { ContactService } from '../contacts/contact.service';
import { UpdateContactInput } from '../contacts/contact.types';
import type { LeadService } from '../leads/lead.service';
import { UpdateLeadInput } from '../leads/lead.types';
import type { NotificationService } from '../notifications/notification.service';
import type { OpportunityService } from '../opportunities/opportunity.service';
import { UpdateOpportunityInput } from '../opportunities/opportunity.types';
import type { ProductService } from '../products/product.service';
import { UpdateProductInput } from '../products/product.types';
import type { EventBus } from '../../events/event-bus';
import type { WebhookSender } from '../webhooks/webhook-sender';
import type { ActionHandler, RecordAccess, RecordData } from './actions/action';
import { assignOwner } from './actions/assign-owner';
import { Mailer } from './actions/mailer';
import { callWebhook, notify, sendEmail } from './actions/message-actions';
import { createTask, updateFields } from './actions/record-actions';
import { AutomationEngine } from './automation-engine';
import { ActionType } from './automation-rule.entity';
import { AutomationRuleService } from './automation-rule.service';
import { RuleRunner } from './rule-runner';
import { AutomationWebhookCalls } from './webhook-calls';
import type { CrudRow } from '../../data/record-store';

interface AutomationDeps {
  ds: DataSource;
  /** The workers' pool: the engine and the webhook calls claim work across workspaces through it. */
  workerDs: DataSource;
  config: Config;
  log: Logger;
  bus: EventBus;
  filters: RecordFilterService;
  notifications: NotificationService;
  sender: WebhookSender;
  accounts: AccountService;
  contacts: ContactService;
  leads: LeadService;
  opportunities: OpportunityService;
  activities: ActivityService;
  products: ProductService;
  /** Counts runs by status (the server's metrics). */
  metrics: { automationRun(status: string): void };
}

type AnyCrud = CrudService<CrudRow> & { update(ctx: any, id: string, input: any): Promise<unknown> };

function access(entityType: string, objectType: string, service: AnyCrud, extra: Partial<RecordAccess> = {}): RecordAccess {
  return {
    entityType,
    objectType,
    updateInputType: `Update${objectType}Input`,
    get: async (ctx, id) => (await service.get(ctx, id)) as unknown as RecordData,
    update: (ctx, id, input) => service.update(ctx, id, input),
    checkReferences: (tx, input, path) => service.checkReferences(tx, input, `${path}.`),
    ...extra,
  };
}

/** The automation engine's parts: the actions, the kinds of records they act on, the runner, the rules, the engine. */
export function createAutomation(d: AutomationDeps) {
  const records: Record<string, RecordAccess> = {
    account: access('account', 'Account', d.accounts as unknown as AnyCrud, { activityLink: 'accountId' }),
    contact: access('contact', 'Contact', d.contacts as unknown as AnyCrud, { activityLink: 'contactId', emailField: 'email' }),
    lead: access('lead', 'Lead', d.leads as unknown as AnyCrud, { activityLink: 'leadId', emailField: 'email' }),
    opportunity: access('opportunity', 'Opportunity', d.opportunities as unknown as AnyCrud, { activityLink: 'opportunityId' }),
    activity: access('activity', 'Activity', d.activities as unknown as AnyCrud),
    product: access('product', 'Product', d.products as unknown as AnyCrud),
  };
  const updateInputs: Record<string, new () => object> = {
    account: UpdateAccountInput,
    contact: UpdateContactInput,
    lead: UpdateLeadInput,
    opportunity: UpdateOpportunityInput,
    activity: UpdateActivityInput,
    product: UpdateProductInput,
  };
  const mailer = new Mailer(d.config.smtp.url, d.config.smtp.from);
  // A call's lease outlasts its request (WEBHOOK_TIMEOUT_MS) and the record of its outcome, as a webhook delivery's does.
  const calls = new AutomationWebhookCalls(d.workerDs, d.sender, d.log, { leaseSeconds: Math.ceil(d.config.webhooks.timeoutMs / 1000) * 3, maxAttempts: 5 });

  const handlers: Record<ActionType, ActionHandler<any>> = {
    [ActionType.CREATE_TASK]: createTask(d.activities),
    [ActionType.UPDATE_FIELDS]: updateFields(updateInputs),
    [ActionType.ASSIGN_OWNER]: assignOwner(),
    [ActionType.SEND_EMAIL]: sendEmail(d.activities, mailer, d.config.automationEmailsPerDay),
    [ActionType.NOTIFY]: notify(d.notifications),
    [ActionType.CALL_WEBHOOK]: callWebhook(calls, d.config.webhooks.allowPrivateNetworks),
  };
  const runner = new RuleRunner(d.workerDs, handlers, records, (status) => d.metrics.automationRun(status));
  const rules = new AutomationRuleService(d.filters, handlers, runner, d.notifications);
  const engine = new AutomationEngine(
    d.workerDs,
    d.bus,
    runner,
    rules,
    d.filters,
    d.log,
    {
      catchUpMs: d.config.automation.catchUpHours * 3600_000,
      enabled: d.config.automation.workers,
      concurrency: Math.max(1, Math.min(8, d.config.dbPoolSize - 2)),
    },
    calls,
  );
  return { runner, rules, engine, mailer, calls };
}
