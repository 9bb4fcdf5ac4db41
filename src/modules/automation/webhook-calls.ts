import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { inWorkspace, type TenantTransaction } from '../../db/tenant-transaction';
import type { Logger } from '../../kernel/logger';
import { recordEvent } from '../../data/event-log';
import type { SendResult, WebhookSender } from '../webhooks/webhook-sender';
import { signatureHeader } from '../webhooks/webhook-signature';
import { type ActionResult, RunStatus } from './automation-run.entity';
import { ActorType } from '../../kernel/roles';

/** A CALL_WEBHOOK of a run, recorded in the run's transaction and made after its commit. */
interface WebhookCall {
  workspaceId: string;
  id: string;
  runId: string;
  ruleId: string;
  /** The run's automation depth: the outcome's event carries it, like the run's other writes. */
  depth: number;
  url: string;
  secret: string;
  body: string;
  /** This attempt's number (1: the first, by the instance that ran the rule). */
  attempts: number;
}

interface WebhookCallOptions {
  /** How long a call is its instance's before another may make it again (well beyond the request timeout). */
  leaseSeconds: number;
  /** Attempts in all (the first and those after crashes) before the call is given up as FAILED. */
  maxAttempts: number;
}

export const webhookIdOf = (callId: string) => `auto_${callId}`;

/**
 * The outbox of automation webhook calls. A call is not made inside the run's transaction (that would
 * hold a connection and the run's locks for as long as the receiver takes): the run commits its other
 * effects and the call as PENDING, leased to its instance; the POST follows the commit, and its
 * outcome (status code, error) is recorded in a short transaction of its own, with an event
 * (`automation_run.webhook_called`) like every write.
 *
 * At least once, never lost: if the instance dies between the commit and that record, the call's lease
 * runs out and any instance (the engine's minute tick) claims it and makes it again, with the same
 * `webhook-id` (Standard Webhooks receivers drop what they have seen) and a fresh signature, up to
 * `maxAttempts` in all; then it is FAILED, saying so. An answer, even a failure (an HTTP error, a
 * timeout), is an outcome: it is recorded, not retried, and the run is FAILED with the error.
 */
export class AutomationWebhookCalls {
  constructor(
    private readonly ds: DataSource,
    private readonly sender: WebhookSender,
    private readonly log: Logger,
    readonly opts: WebhookCallOptions,
  ) {}

  /** In the run's transaction: the call, PENDING and leased to this instance, which makes it right after the commit. */
  async stage(tx: TenantTransaction, c: Pick<WebhookCall, 'runId' | 'ruleId' | 'depth' | 'url' | 'secret' | 'body'>): Promise<WebhookCall> {
    const id = randomUUID();
    await tx.query(
      `INSERT INTO automation_webhook_call (workspace_id, id, run_id, rule_id, depth, url, secret, body, status, attempts, leased_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'PENDING', 1, now() + make_interval(secs => $9))`,
      [tx.workspaceId, id, c.runId, c.ruleId, c.depth, c.url, c.secret, c.body, this.opts.leaseSeconds],
    );
    return { ...c, workspaceId: tx.workspaceId, id, attempts: 1 };
  }

  /**
   * Makes the call and records its outcome. Never throws: an outcome that could not be recorded (the
   * database gone) leaves the call PENDING, made again once its lease has run out.
   */
  async make(call: WebhookCall): Promise<void> {
    const timestamp = Math.floor(Date.now() / 1000);
    const webhookId = webhookIdOf(call.id);
    const result = await this.sender.send(
      call.url,
      { 'webhook-id': webhookId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader([call.secret], webhookId, timestamp, call.body) },
      call.body,
    );
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    await this.record(call, ok ? 'SUCCEEDED' : 'FAILED', result, ok ? null : `POST ${call.url} failed: ${result.statusCode ?? result.error}`).catch((err) =>
      this.log.error({ err, callId: call.id, runId: call.runId }, 'automation webhook call made, its outcome not recorded: it will be made again'),
    );
  }

  /**
   * Calls left without an outcome (their instance stopped between the commit and the record) whose
   * lease has run out as of `now`: claimed across workspaces and made again, or given up after
   * `maxAttempts`. Resolves with how many it claimed.
   */
  async recover(now: Date = new Date(), limit = 100): Promise<number> {
    const claimed: { workspace_id: string; id: string; attempts: number }[] = await this.ds.query(
      `SELECT * FROM worker_claim_automation_webhook_calls($1, $2, $3)`,
      [now, limit, this.opts.leaseSeconds],
    );
    for (const c of claimed) {
      const row = await inWorkspace(
        this.ds,
        c.workspace_id,
        (tx) =>
          tx.one<{ run_id: string; rule_id: string; depth: number; url: string; secret: string | null; body: string; status: string }>(
            `SELECT run_id, rule_id, depth, url, secret, body, status FROM automation_webhook_call WHERE workspace_id = $1 AND id = $2`,
            [c.workspace_id, c.id],
          ),
        { gated: false },
      );
      if (!row || row.status !== 'PENDING' || !row.secret) continue;
      const call: WebhookCall = {
        workspaceId: c.workspace_id,
        id: c.id,
        runId: row.run_id,
        ruleId: row.rule_id,
        depth: row.depth,
        url: row.url,
        secret: row.secret,
        body: row.body,
        attempts: c.attempts,
      };
      if (c.attempts > this.opts.maxAttempts) {
        await this.record(
          call,
          'FAILED',
          null,
          `no outcome recorded after ${this.opts.maxAttempts} attempts (the instance making it stopped each time): given up`,
        ).catch((err) => this.log.error({ err, callId: call.id }, 'automation webhook call not given up: retried later'));
      } else {
        this.log.warn({ callId: call.id, runId: call.runId, attempt: c.attempts }, 'automation webhook call left without an outcome: made again');
        await this.make(call);
      }
    }
    return claimed.length;
  }

  /**
   * The outcome, in a short transaction: on the call (its secret dropped), on the run (the action's
   * result; the run's status once no call of it is pending), and in the event log.
   */
  private record(call: WebhookCall, status: 'SUCCEEDED' | 'FAILED', r: SendResult | null, error: string | null): Promise<void> {
    return inWorkspace(
      this.ds,
      call.workspaceId,
      async (tx) => {
        const done = await tx.one(
          `UPDATE automation_webhook_call SET status = $3, status_code = $4, error = $5, duration_ms = $6, secret = NULL, leased_until = NULL, updated_at = now()
         WHERE workspace_id = $1 AND id = $2 AND status = 'PENDING' RETURNING id`,
          [tx.workspaceId, call.id, status, r?.statusCode ?? null, error, r?.durationMs ?? null],
        );
        if (!done) return; // recorded already (by an instance that made it again meanwhile)
        const run = await tx.one<{ status: RunStatus; actions: ActionResult[]; error: string | null }>(
          `SELECT status, actions, error FROM automation_run WHERE workspace_id = $1 AND id = $2 FOR UPDATE`,
          [tx.workspaceId, call.runId],
        );
        if (!run) return;
        const webhookId = webhookIdOf(call.id);
        const details = { url: call.url, webhookId, statusCode: r?.statusCode ?? null, durationMs: r?.durationMs ?? null, attempts: call.attempts };
        const result: Partial<ActionResult> =
          status === 'SUCCEEDED'
            ? { ok: true, error: null, summary: `POSTed to ${call.url}: ${r!.statusCode}`, details }
            : { ok: false, error, summary: null, details };
        const actions = run.actions.map((a) => ((a.details as { webhookId?: string } | null)?.webhookId === webhookId ? { ...a, ...result } : a));
        const calls = await tx.query<{ status: string; error: string | null }>(
          `SELECT status, error FROM automation_webhook_call WHERE workspace_id = $1 AND run_id = $2 ORDER BY created_at, id`,
          [tx.workspaceId, call.runId],
        );
        const failed = calls.find((c) => c.status === 'FAILED');
        const runStatus = calls.some((c) => c.status === 'PENDING') ? RunStatus.PENDING : failed ? RunStatus.FAILED : RunStatus.SUCCEEDED;
        const runError = run.error ?? (failed ? `CALL_WEBHOOK failed: ${failed.error}` : null);
        await tx.query(`UPDATE automation_run SET status = $3, actions = $4, error = $5 WHERE workspace_id = $1 AND id = $2`, [
          tx.workspaceId,
          call.runId,
          runStatus,
          JSON.stringify(actions),
          runError,
        ]);
        await recordEvent(tx, {
          type: 'automation_run.webhook_called',
          entityType: 'automation_run',
          entityId: call.runId,
          actor: { type: ActorType.AUTOMATION, id: call.ruleId, depth: call.depth },
          changes: run.status !== runStatus ? [{ field: 'status', old: run.status, new: runStatus }] : [],
          data: {
            runId: call.runId,
            ruleId: call.ruleId,
            webhookId,
            url: call.url,
            status,
            statusCode: r?.statusCode ?? null,
            error,
            durationMs: r?.durationMs ?? null,
            attempts: call.attempts,
            runStatus,
          },
        });
      },
      { gated: false },
    );
  }
}
