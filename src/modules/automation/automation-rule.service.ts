import { createHash, randomUUID } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { getNamedType, getNullableType, type GraphQLSchema, isListType, isObjectType } from 'graphql';
import { rowMapper } from '../../data/hydrate';
import { type ConnectionBase, paginate, SortDirection } from '../../data/connection';
import type { ServiceContext } from '../../data/context';
import { badField } from '../../kernel/errors';
import { coerceFilter } from '../../data/json-filter';
import { col, type EntitySpec } from '../../data/sql';
import { requireAdmin } from '../../kernel/viewer';
import { FILTERABLE, type RecordFilterService, referencedCustomFields } from '../common/record-filter';
import type { NotificationService } from '../notifications/notification.service';
import { checkPatterns } from '../events/event-patterns';
import { getAdminRecord, getById, insertRecord, listAdminRecords, lockRecord, type StoreSpec, updateRecord } from '../../data/record-store';
import type { ActionHandler, CheckEnv, RecordAccess } from './actions/action';
import { type ActionType, AutomationRule, type AutomationTrigger, TriggerType } from './automation-rule.entity';
import { AutomationRun } from './automation-run.entity';
import { SentEmail } from './sent-email.entity';
import type { AutomationRuleInput, AutomationTestResult, AutomationTriggerInput, UpdateAutomationRuleInput } from './automation.types';
import { type RuleRunner, ruleEntity } from './rule-runner';

const INACTIVITY_ENTITIES = ['account', 'contact', 'lead', 'opportunity'];

export const AUTOMATION_RULE_STORE: StoreSpec<AutomationRule> = {
  table: 'automation_rule',
  entity: AutomationRule,
  entityType: 'automation_rule',
  label: 'Automation rule',
  trackedFields: ['name', 'active', 'disabledReason', 'trigger', 'conditions', 'actions', 'deletedAt'],
  // Never a webhook secret: events reach the change feed (any READ viewer) and webhook endpoints.
  toData: (r) => ({
    id: r.id,
    name: r.name,
    active: r.active,
    disabledReason: r.disabledReason ?? null,
    trigger: r.trigger,
    conditions: r.conditions,
    actions: withoutSecrets(r.actions),
    deletedAt: r.deletedAt?.toISOString() ?? null,
  }),
};

/** The actions with each secret replaced by a short fingerprint (a changed secret still shows as a change). */
function withoutSecrets(actions: AutomationRule['actions']): AutomationRule['actions'] {
  return actions.map((a) =>
    typeof a.params?.secret === 'string'
      ? { ...a, params: { ...a.params, secret: `redacted:${createHash('sha256').update(a.params.secret).digest('hex').slice(0, 8)}` } }
      : a,
  );
}

const RUN_SPEC: EntitySpec = { table: 'automation_run', softDelete: false, fields: { id: col('id', 'uuid'), createdAt: col('created_at', 'timestamptz') } };

/**
 * Automation rules are data, managed by ADMIN users: every trigger, condition, template and action
 * is checked when the rule is saved, so that a saved rule can run; a bad one is refused, naming what
 * is wrong, and nothing is saved.
 */
export class AutomationRuleService {
  constructor(
    private readonly filters: RecordFilterService,
    private readonly handlers: Record<ActionType, ActionHandler<any>>,
    private readonly runner: RuleRunner,
    private readonly notifications: NotificationService,
  ) {}

  /**
   * Turns a rule off because the system cannot run it (its condition no longer compiles: a custom
   * field changed under it), says why on the rule, and tells the workspace's admins.
   */
  async disable(ctx: ServiceContext, id: string, reason: string): Promise<void> {
    const locked = await lockRecord(ctx, AUTOMATION_RULE_STORE, id);
    if (!locked.active || locked.deletedAt) return;
    await updateRecord(
      ctx,
      AUTOMATION_RULE_STORE,
      id,
      { active: false, disabledReason: reason.slice(0, 1000) },
      { eventType: 'automation_rule.disabled' },
      locked,
    );
    await this.notifications.notifyAdmins(ctx, {
      title: `Automation rule disabled: ${locked.name}`,
      body: reason,
      entityType: 'automation_rule',
      entityId: id,
    });
  }

  /** The live rules whose conditions or record query name custom field `key` of `entityType`. */
  async customFieldUsers(ctx: ServiceContext, entityType: string, key: string): Promise<string[]> {
    const rules = (
      await ctx.tx.query(`SELECT * FROM automation_rule WHERE workspace_id = $1 AND deleted_at IS NULL AND (conditions IS NOT NULL OR trigger ? 'query')`, [
        ctx.tx.workspaceId,
      ])
    ).map(rowMapper(ctx.tx.dataSource, AutomationRule));
    return rules
      .filter((r) => [r.conditions, r.trigger.query].some((f) => referencedCustomFields(ruleEntity(r), f).includes(`${entityType}.${key}`)))
      .map((r) => `automation rule "${r.name}" (${r.id})`);
  }

  list(ctx: ServiceContext): Promise<AutomationRule[]> {
    return listAdminRecords(ctx, AUTOMATION_RULE_STORE);
  }

  get(ctx: ServiceContext, id: string): Promise<AutomationRule> {
    return getAdminRecord(ctx, AUTOMATION_RULE_STORE, id);
  }

  async create(ctx: ServiceContext, input: AutomationRuleInput, schema: GraphQLSchema): Promise<AutomationRule> {
    requireAdmin(ctx.viewer);
    const checked = await this.check(ctx, schema, input.trigger, input.conditions ?? null, input.actions);
    return ctx.tx.savepoint(
      async () =>
        (
          await insertRecord(
            ctx,
            AUTOMATION_RULE_STORE,
            {
              name: input.name.trim(),
              active: input.active ?? true,
              ...checked,
              createdById: ctx.viewer.userId,
            },
            randomUUID(),
          )
        ).record,
    );
  }

  async update(
    ctx: ServiceContext,
    id: string,
    input: UpdateAutomationRuleInput,
    schema: GraphQLSchema,
    expectedVersion?: number | null,
  ): Promise<AutomationRule> {
    const current = await this.get(ctx, id);
    const patch: Record<string, unknown> = {};
    if (input.name !== undefined) patch.name = input.name.trim();
    if (input.active != null) patch.active = input.active;
    if (input.active) patch.disabledReason = null;
    if (input.trigger !== undefined || input.conditions !== undefined || input.actions !== undefined) {
      const trigger = input.trigger ?? (current.trigger as AutomationTriggerInput);
      Object.assign(
        patch,
        await this.check(ctx, schema, trigger, input.conditions !== undefined ? input.conditions : current.conditions, input.actions ?? current.actions),
      );
    }
    return ctx.tx.savepoint(async () => {
      const locked = await lockRecord(ctx, AUTOMATION_RULE_STORE, current.id);
      return (await updateRecord(ctx, AUTOMATION_RULE_STORE, id, patch, { expectedVersion }, locked)).record;
    });
  }

  async delete(ctx: ServiceContext, id: string): Promise<AutomationRule> {
    const current = await this.get(ctx, id);
    return ctx.tx.savepoint(async () => {
      const locked = await lockRecord(ctx, AUTOMATION_RULE_STORE, current.id);
      return (await updateRecord(ctx, AUTOMATION_RULE_STORE, id, { deletedAt: new Date(), active: false }, { eventType: 'automation_rule.deleted' }, locked))
        .record;
    });
  }

  /** A dry run on one record: whether the conditions hold, and what each action would do. Writes nothing. */
  async test(ctx: ServiceContext, id: string, recordId?: string | null): Promise<AutomationTestResult> {
    const rule = await this.get(ctx, id);
    const access = this.runner.accessFor(rule);
    if (access && !recordId) throw badField('recordId', `give the ${access.entityType} to test the rule on`);
    const record = access && recordId ? await access.get(ctx, recordId) : null;
    if (record && rule.conditions) {
      const matched = await this.filters.matching(ctx.tx, access!.entityType, rule.conditions, [record.id]);
      if (!matched.has(record.id)) return { conditionsMet: false, actions: [] };
    }
    return { conditionsMet: true, actions: await this.runner.plan(ctx, rule, record) };
  }

  /** One run, as `automationRuns` lists it (ADMIN only). */
  run(ctx: ServiceContext, id: string): Promise<AutomationRun> {
    requireAdmin(ctx.viewer);
    return getById(ctx, 'automation_run', AutomationRun, 'Automation run', id);
  }

  /** One email of the sent-mail log, as `sentEmails` lists it (ADMIN only). */
  sentEmail(ctx: ServiceContext, id: string): Promise<SentEmail> {
    requireAdmin(ctx.viewer);
    return getById(ctx, 'sent_email', SentEmail, 'Sent email', id);
  }

  async runs(ctx: ServiceContext, args: { ruleId?: string | null; first?: number | null; after?: string | null }): Promise<ConnectionBase<AutomationRun>> {
    if (args.ruleId) await this.get(ctx, args.ruleId);
    else requireAdmin(ctx.viewer);
    return paginate<AutomationRun>({
      tx: ctx.tx,
      spec: RUN_SPEC,
      first: args.first ?? 50,
      after: args.after ?? undefined,
      defaultOrder: [{ field: 'CREATED_AT', direction: SortDirection.DESC }],
      where: (p) => (args.ruleId ? `t.rule_id = ${p.add(args.ruleId)}::uuid` : 'TRUE'),
      map: rowMapper(ctx.tx.dataSource, AutomationRun),
    });
  }

  /** Checks a trigger, conditions and actions together; returns them normalised, as stored. */
  private async check(
    ctx: ServiceContext,
    schema: GraphQLSchema,
    t: AutomationTriggerInput,
    conditions: Record<string, unknown> | null,
    actions: { type: ActionType; params: Record<string, unknown> }[],
  ) {
    const trigger = checkTrigger(t);
    const entity = ruleEntity({ trigger });
    const access: RecordAccess | null = entity ? (this.runner.records[entity] ?? null) : null;
    if (trigger.query) {
      trigger.query = coerceFilter(schema, FILTERABLE[entity!].graphqlType, trigger.query, 'input.trigger.query');
      await this.filters.check(ctx.tx, entity!, trigger.query);
    }
    let checkedConditions: Record<string, unknown> | null = null;
    if (conditions != null) {
      if (!entity || !FILTERABLE[entity])
        throw badField('input.conditions', 'conditions need a trigger about one kind of record (e.g. events `lead.*`, or an entityType)');
      checkedConditions = coerceFilter(schema, FILTERABLE[entity].graphqlType, conditions, 'input.conditions');
      await this.filters.check(ctx.tx, entity, checkedConditions);
    }
    const recordFields = access ? fieldsOf(schema, access.objectType) : null;
    const templateFields = access ? fieldsOf(schema, access.objectType, true) : null;
    if (trigger.changedFields?.length) {
      const unknown = recordFields ? trigger.changedFields.find((f) => !recordFields.has(f)) : trigger.changedFields[0];
      if (unknown !== undefined)
        throw badField('input.trigger.changedFields', `no field ${unknown}${recordFields ? '' : ': changedFields need events of one kind of record'}`);
    }
    const checkedActions = [];
    for (const [i, a] of actions.entries()) {
      const env: CheckEnv = { schema, tx: ctx.tx, access, recordFields, templateFields, path: `input.actions[${i}].params` };
      if (a.params === null || typeof a.params !== 'object' || Array.isArray(a.params)) throw badField(env.path, 'must be an object');
      checkedActions.push({ type: a.type, params: await this.handlers[a.type].check(a.params, env) });
    }
    return { trigger, triggerType: trigger.type, conditions: checkedConditions, actions: checkedActions };
  }
}

function checkTrigger(t: AutomationTriggerInput): AutomationTrigger {
  const out: AutomationTrigger = { type: t.type };
  const need = <T>(v: T | undefined | null, field: string, what: string): T => {
    if (v === undefined || v === null || v === ('' as unknown)) throw badField(`input.trigger.${field}`, `${what} is required for a ${t.type} trigger`);
    return v;
  };
  const entityFor = (allowed: string[]) => {
    const e = need(t.entityType, 'entityType', 'entityType');
    if (!allowed.includes(e)) throw badField('input.trigger.entityType', `must be one of ${allowed.join(', ')}`);
    return e;
  };
  switch (t.type) {
    case TriggerType.RECORD_EVENT: {
      out.events = checkPatterns(need(t.events, 'events', 'events'), 'input.trigger.events');
      if (t.changedFields?.length) out.changedFields = [...new Set(t.changedFields)];
      break;
    }
    case TriggerType.SCHEDULE: {
      const cron = need(t.cron, 'cron', 'a cron expression').trim();
      const timezone = t.timezone ?? 'UTC';
      try {
        new Intl.DateTimeFormat('en', { timeZone: timezone });
      } catch {
        throw badField('input.trigger.timezone', `${timezone} is not an IANA time zone`);
      }
      if (cron.split(/\s+/).length !== 5) throw badField('input.trigger.cron', 'must have 5 fields: minute hour day-of-month month day-of-week');
      try {
        CronExpressionParser.parse(cron, { tz: timezone });
      } catch (err) {
        throw badField('input.trigger.cron', `is not a cron expression: ${(err as Error).message}`);
      }
      Object.assign(out, { cron, timezone });
      if (t.entityType) out.entityType = entityFor(Object.keys(FILTERABLE)) as AutomationTrigger['entityType'];
      if (t.query != null) {
        if (!t.entityType) throw badField('input.trigger.query', 'a query needs an entityType');
        out.query = t.query;
      }
      break;
    }
    case TriggerType.INACTIVITY:
      out.entityType = entityFor(INACTIVITY_ENTITIES) as AutomationTrigger['entityType'];
      out.days = need(t.days, 'days', 'days');
      break;
    case TriggerType.DATE_RELATIVE: {
      out.entityType = entityFor(Object.keys(FILTERABLE)) as AutomationTrigger['entityType'];
      const field = need(t.dateField, 'dateField', 'dateField');
      const spec = FILTERABLE[out.entityType!].spec.fields[field];
      if (!spec || (spec.type !== 'date' && spec.type !== 'timestamptz'))
        throw badField('input.trigger.dateField', `${field} is not a date field of ${out.entityType}`);
      out.dateField = field;
      out.offsetDays = t.offsetDays ?? 0;
      break;
    }
  }
  return out;
}

/** The fields a template or changedFields may name: the object type's fields, and `<relation>Id` for its relations. */
/**
 * The fields of a record type, and `<relation>Id` for each relation to one record. `valuesOnly`: not
 * the relations themselves nor lists (a template renders the record's own values, where an owner is
 * its `ownerId`); values of an object type without an id (Money) stay.
 */
function fieldsOf(schema: GraphQLSchema, typeName: string, valuesOnly = false): Set<string> {
  const type = schema.getType(typeName);
  const out = new Set<string>();
  if (!isObjectType(type)) return out;
  for (const [name, f] of Object.entries(type.getFields())) {
    const named = getNamedType(f.type);
    const relation = isObjectType(named) && 'id' in named.getFields();
    if (relation && !isListType(getNullableType(f.type))) out.add(`${name}Id`);
    if (valuesOnly && (relation || isListType(getNullableType(f.type)))) continue;
    out.add(name);
  }
  return out;
}
