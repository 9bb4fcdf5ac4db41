import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { rowMapper } from '../../data/hydrate';
import { inWorkspace } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { systemViewer } from '../../kernel/viewer';
import type { ChangeEvent } from '../../events/change-event';
import type { ActionHandler, RecordAccess, RecordData, RunEnv } from './actions/action';
import { type ActionType, AutomationRule } from './automation-rule.entity';
import { type ActionResult, AutomationRun, RunStatus } from './automation-run.entity';
import { ApiScope, ActorType } from '../../kernel/roles';

/** Automation that causes events that trigger automation: a chain deeper than this stops. */
const MAX_DEPTH = 3;

interface RunTarget {
  /** What makes the run unique for its rule: `event:<id>`, `slot:<time>[:<record>]`, `inactive:<record>:<since>`, ... */
  occasion: string;
  entityId?: string | null;
  event?: ChangeEvent | null;
}

/**
 * Runs a rule's actions for one occasion, exactly once: the run row is claimed (unique per rule and
 * occasion) in the transaction that does the actions, so a repeat after a crash finds it and stops.
 * The actions run in a savepoint: if one fails, none of the run's changes are kept and the run is
 * recorded as FAILED with each action's outcome. Their writes are events with actor AUTOMATION (the
 * rule) and a depth one more than the event that triggered them.
 *
 * What leaves the database waits for the commit: emails are handed to SMTP, and webhook calls, which
 * the transaction recorded as pending (the run is then PENDING), are made one after the other, each
 * outcome recorded in a short transaction of its own (see AutomationWebhookCalls); `execute` resolves
 * with the run as they left it.
 */
export class RuleRunner {
  constructor(
    private readonly ds: DataSource,
    private readonly handlers: Record<ActionType, ActionHandler<any>>,
    readonly records: Readonly<Record<string, RecordAccess>>,
    /** Told of each run's status (metrics). */
    private readonly onRun: (status: RunStatus) => void = () => undefined,
  ) {}

  accessFor(rule: AutomationRule): RecordAccess | null {
    const entity = ruleEntity(rule);
    return entity ? (this.records[entity] ?? null) : null;
  }

  async execute(workspaceId: string, rule: AutomationRule, target: RunTarget): Promise<AutomationRun | null> {
    const started = performance.now();
    const depth = (target.event?.depth ?? 0) + 1;
    const sideEffects: (() => void | Promise<void>)[] = [];
    // Ungated (see WorkspaceGate): runs are made by the engine's consumer, which holds every tenant's cursor.
    const run = await inWorkspace(
      this.ds,
      workspaceId,
      async (tx) => {
        const ctx: ServiceContext = {
          tx,
          viewer: systemViewer(workspaceId, [ApiScope.READ, ApiScope.WRITE]),
          actor: { type: ActorType.AUTOMATION, id: rule.id, depth },
        };
        const access = this.accessFor(rule);
        const claimed = await tx.one<{ id: string }>(
          `INSERT INTO automation_run (workspace_id, id, rule_id, trigger_type, occasion, event_id, entity_type, entity_id, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'FAILED') ON CONFLICT (workspace_id, rule_id, occasion) DO NOTHING RETURNING id`,
          [
            workspaceId,
            randomUUID(),
            rule.id,
            rule.triggerType,
            target.occasion,
            target.event?.id ?? null,
            access?.entityType ?? null,
            target.entityId ?? null,
          ],
        );
        if (!claimed) return null; // this occasion has run already
        let results: ActionResult[] = [];
        let error: string | null = null;
        if (depth > MAX_DEPTH) {
          error = `loop guard: this run would be automation depth ${depth} (at most ${MAX_DEPTH}); its actions were not run`;
        } else {
          try {
            const record = target.entityId && access ? await access.get(ctx, target.entityId) : null;
            results = await tx.savepoint(() =>
              this.runActions({
                ctx,
                rule,
                access,
                record,
                event: target.event ?? null,
                runId: claimed.id,
                dryRun: false,
                view: viewOf(rule, record, target.event),
                afterCommit: (fn) => sideEffects.push(fn),
              }),
            );
          } catch (err) {
            const e = err as Error & { results?: ActionResult[] };
            results = e.results ?? [];
            error = e.message;
            sideEffects.length = 0;
          }
        }
        const row = await tx.one(
          `UPDATE automation_run SET status = $3, actions = $4, error = $5, duration_ms = $6 WHERE workspace_id = $1 AND id = $2 RETURNING *`,
          [
            workspaceId,
            claimed.id,
            error ? RunStatus.FAILED : results.some(isPending) ? RunStatus.PENDING : RunStatus.SUCCEEDED,
            JSON.stringify(results),
            error,
            Math.round(performance.now() - started),
          ],
        );
        return rowMapper(this.ds, AutomationRun)(row!);
      },
      { gated: false },
    );
    if (!run) return null;
    // Committed: now what leaves the database, in the order of the actions.
    for (const fn of sideEffects) {
      try {
        await fn();
      } catch {
        /* each side effect records its own failure */
      }
    }
    const final = run.status === RunStatus.PENDING ? await this.reload(workspaceId, run.id).catch(() => run) : run;
    this.onRun(final.status);
    return final;
  }

  /** A run as it stands now (after its webhook calls recorded their outcomes). */
  private reload(workspaceId: string, id: string): Promise<AutomationRun> {
    return inWorkspace(this.ds, workspaceId, async (tx) =>
      rowMapper(this.ds, AutomationRun)((await tx.one(`SELECT * FROM automation_run WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]))!),
    );
  }

  /** What the rule would do for a record, without writing anything (`testAutomationRule`). */
  async plan(ctx: ServiceContext, rule: AutomationRule, record: RecordData | null): Promise<ActionResult[]> {
    const env: RunEnv = {
      ctx,
      rule,
      access: this.accessFor(rule),
      record,
      event: null,
      runId: null,
      dryRun: true,
      view: viewOf(rule, record, null),
      afterCommit: () => undefined,
    };
    const results: ActionResult[] = [];
    for (const action of rule.actions) {
      try {
        const { pending: _pending, ...out } = await this.handlers[action.type].run(env, action.params);
        results.push({ type: action.type, ok: true, error: null, ...out });
      } catch (err) {
        results.push({ type: action.type, ok: false, error: (err as Error).message, summary: null, details: null });
      }
    }
    return results;
  }

  private async runActions(env: RunEnv): Promise<ActionResult[]> {
    const results: ActionResult[] = [];
    for (const action of env.rule.actions) {
      try {
        const { pending, ...out } = await this.handlers[action.type].run(env, action.params);
        // Pending: to be done after the commit, and not done yet (its outcome replaces this result).
        results.push(
          pending
            ? { type: action.type, ok: false, error: null, ...out, details: { ...out.details, pending: true } }
            : { type: action.type, ok: true, error: null, ...out },
        );
      } catch (err) {
        const message = (err as Error).message;
        results.push({ type: action.type, ok: false, error: message, summary: null, details: null });
        throw Object.assign(new Error(`${action.type} failed: ${message}`), { results });
      }
    }
    return results;
  }
}

const isPending = (r: ActionResult) => (r.details as { pending?: boolean } | null)?.pending === true;

/** The kind of record a rule is about: the trigger's entityType, or the one entity its event patterns name. */
export function ruleEntity(rule: Pick<AutomationRule, 'trigger'>): string | null {
  if (rule.trigger.entityType) return rule.trigger.entityType;
  const entities = new Set((rule.trigger.events ?? []).map((p) => p.split('.')[0]));
  return entities.size === 1 && !entities.has('*') ? [...entities][0] : null;
}

/** What templates render from: `record` with dates as ISO text and amounts as `<amount> <currency>`, `rule`, `event`, `now`. */
function viewOf(rule: AutomationRule, record: RecordData | null, event: ChangeEvent | null | undefined): Record<string, unknown> {
  const plain = record ? Object.fromEntries(Object.entries(withComputed(record)).map(([k, v]) => [k, asText(v)])) : null;
  return { record: plain, rule: { name: rule.name }, event: event ? { id: event.id, type: event.type } : null, now: new Date().toISOString() };
}

/** The record's own values and its computed fields (getters of the entity class: a lead's `name`, an opportunity's `amount`). */
function withComputed(record: RecordData): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record };
  for (let proto = Object.getPrototypeOf(record); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(proto)))
      if (d.get && !(key in out)) out[key] = (record as Record<string, unknown>)[key];
  }
  return out;
}

function asText(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (
    v &&
    typeof v === 'object' &&
    Object.keys(v).length === 2 &&
    typeof (v as { amount?: unknown }).amount === 'string' &&
    typeof (v as { currency?: unknown }).currency === 'string'
  ) {
    return `${(v as { amount: string }).amount} ${(v as { currency: string }).currency}`;
  }
  return v;
}

export const mapRule = (ds: DataSource) => rowMapper(ds, AutomationRule);
