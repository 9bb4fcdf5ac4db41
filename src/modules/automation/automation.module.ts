import type { DataSource } from 'typeorm';
import type { Config } from '../../kernel/config';
import type { Logger } from '../../kernel/logger';
import type { ActivityService } from '../activities/activity.service';
import type { RecordFilterService } from '../common/record-filter';
import type { CrudService } from '../common/crud.service';
import type { NotificationService } from '../notifications/notification.service';
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
import { RECORD_KINDS } from '../registry';

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
  /** The services of the record kinds actions act on, by entity type. */
  records: Record<string, unknown>;
  /** Tasks and emails are activities. */
  activities: ActivityService;
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
  // The kinds actions act on: those whose descriptor describes it, with their service.
  const records: Record<string, RecordAccess> = {};
  const updateInputs: Record<string, new () => object> = {};
  for (const kind of RECORD_KINDS) {
    const service = d.records[kind.entityType] as AnyCrud | undefined;
    if (!kind.automation || !service) continue;
    const { objectType, updateInput, activityLink, emailField } = kind.automation;
    records[kind.entityType] = access(kind.entityType, objectType, service, { activityLink, emailField });
    updateInputs[kind.entityType] = updateInput;
  }
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
