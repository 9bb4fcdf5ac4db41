import { CronExpressionParser } from 'cron-parser';
import cron, { type ScheduledTask } from 'node-cron';
import type { DataSource } from 'typeorm';
import { inWorkspace, type TenantTransaction } from '../../db/tenant-transaction';
import { isTransient } from '../../db/unavailable';
import { type ConsumerQuery, LogConsumer } from '../../events/log-consumer';
import { SingleFlight } from '../../kernel/single-flight';
import { systemViewer, SYSTEM_ACTOR } from '../../kernel/viewer';
import type { AutomationRuleService } from './automation-rule.service';
import { SqlParams } from '../../data/sql';
import type { Logger } from '../../kernel/logger';
import { FILTERABLE, limitStoredFilters, type RecordFilterService, storedFilterFault } from '../common/record-filter';
import type { ChangeEvent } from '../../events/change-event';
import type { EventBus } from '../../events/event-bus';
import { matchesPatterns } from '../events/event-patterns';
import { type AutomationRule, TriggerType } from './automation-rule.entity';
import { mapRule, type RuleRunner, ruleEntity } from './rule-runner';
import type { AutomationWebhookCalls } from './webhook-calls';

const CONSUMER_LOCK = 7_466_105_002;
const HOUR_MS = 3600_000;
const DAY_MS = 86_400_000;
/** Records one time-based rule goes through per slot at most. */
const MAX_RECORDS = 1000;

/** An active rule as the event consumer first reads it (the whole rule is read in its workspace). */
interface ActiveRule {
  workspace_id: string;
  id: string;
  trigger: AutomationRule['trigger'];
}

interface EngineOptions {
  /** Slots missed while no instance ran are caught up within this window (default 24 h). */
  catchUpMs: number;
  enabled: boolean;
  /** Runs of different records made at once (each holds a database connection while it runs). */
  concurrency: number;
}

/**
 * The automation engine of one instance.
 *
 * Record events: rules of type RECORD_EVENT consume the event log in commit order from a durable
 * cursor (one instance at a time, under an advisory lock: see LogConsumer); each (rule, event)
 * runs exactly once (see RuleRunner), so moving the cursor after the runs can only repeat a run that
 * is then refused.
 *
 * Time: node-cron ticks every minute in every instance. Each tick claims the due slots of the
 * time-based rules by inserting them into automation_slot: exactly one instance wins each slot.
 * SCHEDULE rules have a slot per cron occurrence (missed ones within the catch-up window run once
 * each); INACTIVITY and DATE_RELATIVE rules have a slot per hour, and run once per record and
 * occasion (its last activity, its date).
 *
 * Each tick also makes again the webhook calls that an instance committed but did not see answered
 * (it stopped in between): see AutomationWebhookCalls.
 */
export class AutomationEngine {
  private task?: ScheduledTask;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private readonly consumer: LogConsumer<ActiveRule[]>;
  private readonly consumption: SingleFlight;
  private ticking?: Promise<number>;

  constructor(
    private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly runner: RuleRunner,
    private readonly rules: AutomationRuleService,
    private readonly filters: RecordFilterService,
    private readonly log: Logger,
    private readonly opts: EngineOptions,
    private readonly calls?: AutomationWebhookCalls,
  ) {
    this.consumer = new LogConsumer(ds, log, {
      lockKey: CONSUMER_LOCK,
      cursorTable: 'automation_cursor',
      plan: (query, eventsByWorkspace) => this.candidateRules(query, eventsByWorkspace),
      consumeWorkspace: (workspaceId, wsEvents, candidates) => this.runWorkspace(workspaceId, wsEvents, candidates),
      workspaceFailed: 'automation failed for one workspace',
    });
    this.consumption = new SingleFlight(async () => (await this.consumer.consumeAll()).events, {
      onError: (err) => this.log.error({ err }, 'automation event consumer failed'),
    });
  }

  start(): void {
    if (!this.opts.enabled || this.task) return;
    this.unsubscribe = this.bus.subscribeAll(() => void this.consume());
    this.timer = setInterval(() => void this.consume(), 1000);
    this.timer.unref();
    this.task = cron.schedule('* * * * *', () => void this.tick(), { name: 'trellis-automation' });
    void this.consume();
    void this.tick();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.timer);
    await this.task?.destroy();
    this.task = undefined;
    await this.consumption.current;
    await this.ticking;
  }

  /** Runs the RECORD_EVENT rules for every event committed so far; resolves with the events read. */
  consume(): Promise<number> {
    return this.consumption.run();
  }

  /** The active RECORD_EVENT rules that a batch's events trigger, by workspace (workspaces with none have nothing to run). */
  private async candidateRules(query: ConsumerQuery, eventsByWorkspace: Map<string, ChangeEvent[]>): Promise<Map<string, ActiveRule[]>> {
    const active = await query<ActiveRule>(`SELECT workspace_id, id, trigger FROM worker_active_automation_rules($1)`, [[TriggerType.RECORD_EVENT]]);
    const byWorkspace = new Map<string, ActiveRule[]>();
    for (const [workspaceId, wsEvents] of eventsByWorkspace) {
      const candidates = active.filter((r) => r.workspace_id === workspaceId && wsEvents.some((e) => triggered(r.trigger, e)));
      if (candidates.length) byWorkspace.set(workspaceId, candidates);
    }
    return byWorkspace;
  }

  /** One workspace's RECORD_EVENT runs for a batch; a rule whose conditions fail is disabled, the others run. */
  private async runWorkspace(workspaceId: string, wsEvents: ChangeEvent[], candidates: { id: string }[]): Promise<void> {
    // Which events each rule runs for: trigger, then conditions on the records, in one read.
    const work = await inWorkspace(
      this.ds,
      workspaceId,
      async (tx) => {
        const rules = (
          await tx.query(`SELECT * FROM automation_rule WHERE workspace_id = $1 AND id = ANY($2::uuid[]) AND active AND deleted_at IS NULL`, [
            workspaceId,
            candidates.map((r) => r.id),
          ])
        ).map(mapRule(this.ds));
        if (rules.some((r) => r.conditions)) await limitStoredFilters(tx);
        const out: { rule: AutomationRule; events: ChangeEvent[] }[] = [];
        for (const rule of rules) {
          let matching = wsEvents.filter((e) => triggered(rule.trigger, e) && e.occurredAt >= rule.createdAt);
          const entity = ruleEntity(rule);
          if (rule.conditions && entity && matching.length) {
            const ids = [...new Set(matching.map((e) => e.entityId))];
            const ok = await tx
              .savepoint(() => this.filters.matching(tx, entity, rule.conditions, ids))
              .catch((err: unknown) => this.disableOn(tx, rule.id, err));
            if (!ok) continue;
            matching = matching.filter((e) => ok.has(e.entityId));
          }
          if (matching.length) out.push({ rule, events: matching });
        }
        return out;
      },
      { gated: false },
    );
    // In event order per record, so that a rule sees a record's events as they happened; different
    // records' runs go side by side (each run is its own transaction, mostly waiting on the database).
    const order = work
      .flatMap((w) => w.events.map((e) => ({ rule: w.rule, event: e })))
      .sort((a, b) => (a.event.tx === b.event.tx ? Number(a.event.seq - b.event.seq) : a.event.tx < b.event.tx ? -1 : 1));
    const perRecord = new Map<string, typeof order>();
    for (const item of order) perRecord.set(item.event.entityId, [...(perRecord.get(item.event.entityId) ?? []), item]);
    const queues = [...perRecord.values()];
    const worker = async () => {
      for (let q = queues.shift(); q; q = queues.shift()) {
        for (const { rule, event } of q) {
          const entity = ruleEntity(rule);
          await this.runner
            .execute(workspaceId, rule, { occasion: `event:${event.id}`, event, entityId: entity === event.entityType ? event.entityId : null })
            .catch((err) => {
              // A run is made once per (rule, event): one that failed for now is made when the batch is tried again.
              if (isTransient(err)) throw err;
              this.log.error({ err, ruleId: rule.id, eventId: event.id }, 'automation run failed');
            });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, queues.length) }, worker));
  }

  /**
   * Disables a rule whose stored conditions failed by their own doing (refused: a custom field they
   * name is gone or changed; or too slow) and resolves with null; any other error is thrown on.
   */
  private async disableOn(tx: TenantTransaction, ruleId: string, err: unknown): Promise<null> {
    const fault = storedFilterFault(err);
    if (!fault) throw err;
    const reason = `Its conditions can no longer be evaluated: ${fault}`;
    this.log.warn({ workspaceId: tx.workspaceId, ruleId, reason }, 'automation rule disabled');
    await this.rules.disable({ tx, viewer: systemViewer(tx.workspaceId), actor: SYSTEM_ACTOR }, ruleId, reason);
    return null;
  }

  /** Claims and runs the time-based rules' due slots as of `now`; resolves with the runs made. */
  tick(now: Date = new Date()): Promise<number> {
    if (this.ticking) return this.ticking;
    this.ticking = (async () => {
      let runs = 0;
      try {
        const rules: { workspace_id: string; id: string; trigger_type: TriggerType; trigger: AutomationRule['trigger']; created_at: Date }[] =
          await this.ds.query(`SELECT * FROM worker_active_automation_rules($1)`, [[TriggerType.SCHEDULE, TriggerType.INACTIVITY, TriggerType.DATE_RELATIVE]]);
        for (const r of rules) {
          try {
            runs += await this.runDueSlots(r.workspace_id, r.id, r.trigger, r.created_at, now);
          } catch (err) {
            this.log.error({ err, ruleId: r.id }, 'automation slot failed');
            // A rule that cannot select its records (its conditions no longer compile) is turned off, not retried every minute.
            if (!isTransient(err))
              await inWorkspace(this.ds, r.workspace_id, (tx) => this.disableOn(tx, r.id, err), { gated: false }).catch((e) =>
                this.log.error({ err: e, ruleId: r.id }, 'automation rule not disabled'),
              );
          }
        }
      } catch (err) {
        this.log.error({ err }, 'automation tick failed');
      }
      try {
        // Leases run on the real clock, whatever `now` the slots were asked for.
        await this.calls?.recover();
      } catch (err) {
        this.log.error({ err }, 'automation webhook call recovery failed');
      } finally {
        this.ticking = undefined;
      }
      return runs;
    })();
    return this.ticking;
  }

  private async runDueSlots(workspaceId: string, ruleId: string, trigger: AutomationRule['trigger'], createdAt: Date, now: Date): Promise<number> {
    const from = new Date(Math.max(createdAt.getTime(), now.getTime() - this.opts.catchUpMs));
    const due =
      trigger.type === TriggerType.SCHEDULE
        ? occurrences(trigger.cron!, trigger.timezone ?? 'UTC', from, now)
        : [new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS)];
    if (!due.length) return 0;
    // The engine's own transactions are not gated (see WorkspaceGate): one busy tenant cannot stall every tenant's tick.
    const claimed = await inWorkspace(
      this.ds,
      workspaceId,
      async (tx) => {
        const rows = await tx.query<{ slot: Date }>(
          `INSERT INTO automation_slot (workspace_id, rule_id, slot) SELECT $1, $2, s FROM unnest($3::timestamptz[]) AS s
         ON CONFLICT DO NOTHING RETURNING slot`,
          [workspaceId, ruleId, due],
        );
        const rule = rows.length
          ? mapRule(this.ds)((await tx.one(`SELECT * FROM automation_rule WHERE workspace_id = $1 AND id = $2`, [workspaceId, ruleId]))!)
          : null;
        return { slots: rows.map((r) => r.slot).sort((a, b) => a.getTime() - b.getTime()), rule };
      },
      { gated: false },
    );
    let runs = 0;
    for (const slot of claimed.slots) {
      for (const target of await this.targets(workspaceId, claimed.rule!, slot, now)) {
        if (await this.runner.execute(workspaceId, claimed.rule!, target)) runs++;
      }
    }
    return runs;
  }

  /** The runs a claimed slot makes: one (a plain schedule), or one per record and occasion. */
  private targets(workspaceId: string, rule: AutomationRule, slot: Date, now: Date): Promise<{ occasion: string; entityId?: string }[]> {
    const t = rule.trigger;
    const entity = t.entityType;
    if (t.type === TriggerType.SCHEDULE && !entity) return Promise.resolve([{ occasion: `slot:${slot.toISOString()}` }]);
    return inWorkspace(
      this.ds,
      workspaceId,
      async (tx) => {
        if (t.type === TriggerType.SCHEDULE) {
          const ids = await this.filters.select(tx, entity!, mergeFilters(t.query, rule.conditions), MAX_RECORDS);
          return ids.map((id) => ({ occasion: `slot:${slot.toISOString()}:${id}`, entityId: id }));
        }
        if (t.type === TriggerType.INACTIVITY) return this.inactive(tx, rule, now);
        return this.dateDue(tx, rule, now);
      },
      { gated: false },
    );
  }

  /** Records with no activity for `days` days (opportunities: open, and in their stage that long), once per quiet spell. */
  private async inactive(tx: TenantTransaction, rule: AutomationRule, now: Date) {
    const entity = rule.trigger.entityType!;
    const params = new SqlParams([tx.workspaceId, rule.id, new Date(now.getTime() - rule.trigger.days! * DAY_MS)]);
    const where = await this.filters.compile(tx, entity, rule.conditions, params);
    const since =
      entity === 'opportunity'
        ? `(SELECT max(h.entered_at) FROM opportunity_stage_history h WHERE h.workspace_id = t.workspace_id AND h.opportunity_id = t.id)`
        : `(SELECT max(a.created_at) FROM activity a WHERE a.workspace_id = t.workspace_id AND a.${entity}_id = t.id AND a.deleted_at IS NULL)`;
    const rows = await tx.query<{ id: string; occasion: string }>(
      `SELECT t.id, 'inactive:' || t.id || ':' || extract(epoch FROM s.since)::bigint AS occasion
       FROM ${FILTERABLE[entity].spec.table} t CROSS JOIN LATERAL (SELECT coalesce(${since}, t.created_at) AS since) s
       WHERE t.workspace_id = $1 AND t.deleted_at IS NULL ${entity === 'opportunity' ? `AND t.status = 'OPEN'` : ''} AND s.since < $3 AND ${where}
         AND NOT EXISTS (SELECT 1 FROM automation_run r WHERE r.workspace_id = $1 AND r.rule_id = $2
                         AND r.occasion = 'inactive:' || t.id || ':' || extract(epoch FROM s.since)::bigint)
       ORDER BY s.since LIMIT ${MAX_RECORDS}`,
      params.values,
    );
    return rows.map((r) => ({ occasion: r.occasion, entityId: r.id }));
  }

  /** Records whose date field plus offsetDays has come (and came after the rule was made), once per date. */
  private async dateDue(tx: TenantTransaction, rule: AutomationRule, now: Date) {
    const entity = rule.trigger.entityType!;
    const spec = FILTERABLE[entity].spec;
    const date = `(${spec.fields[rule.trigger.dateField!].sql('t')})::date`;
    const params = new SqlParams([
      tx.workspaceId,
      rule.id,
      now.toISOString().slice(0, 10),
      rule.createdAt.toISOString().slice(0, 10),
      rule.trigger.offsetDays ?? 0,
    ]);
    const where = await this.filters.compile(tx, entity, rule.conditions, params);
    const rows = await tx.query<{ id: string; occasion: string }>(
      `SELECT t.id, 'date:' || t.id || ':' || ${date} AS occasion FROM ${spec.table} t
       WHERE t.workspace_id = $1 AND t.deleted_at IS NULL AND ${date} + $5::int <= $3::date AND ${date} + $5::int >= $4::date AND ${where}
         AND NOT EXISTS (SELECT 1 FROM automation_run r WHERE r.workspace_id = $1 AND r.rule_id = $2 AND r.occasion = 'date:' || t.id || ':' || ${date})
       ORDER BY ${date} LIMIT ${MAX_RECORDS}`,
      params.values,
    );
    return rows.map((r) => ({ occasion: r.occasion, entityId: r.id }));
  }
}

/** Whether an event starts a RECORD_EVENT rule: its type matches, and (if asked) one of the fields changed. */
function triggered(trigger: AutomationRule['trigger'], e: ChangeEvent): boolean {
  if (!matchesPatterns(trigger.events ?? [], e.type)) return false;
  return !trigger.changedFields?.length || e.changes.some((c) => trigger.changedFields!.includes(c.field));
}

/** The cron occurrences in (from, to], in the rule's time zone; at most a day of minutes. */
function occurrences(expression: string, tz: string, from: Date, to: Date): Date[] {
  const it = CronExpressionParser.parse(expression, { tz, currentDate: from, endDate: to });
  const out: Date[] = [];
  while (it.hasNext() && out.length < 1440) out.push(it.next().toDate());
  return out;
}

function mergeFilters(a: Record<string, unknown> | null | undefined, b: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  if (a && b) return { and: [a, b] };
  return a ?? b ?? null;
}
