import type { DataSource } from 'typeorm';
import { inWorkspace, type TenantTransaction } from '../../db/tenant-transaction';
import { SingleFlight } from '../../kernel/single-flight';
import type { Logger } from '../../kernel/logger';
import { systemViewer, SYSTEM_ACTOR } from '../../kernel/viewer';
import { DeliveryStatus } from './webhook-delivery.entity';
import type { WebhookEndpointService } from './webhook-endpoint.service';
import type { SendResult, WebhookSender } from './webhook-sender';
import { signatureHeader } from './webhook-signature';

/** The Standard Webhooks schedule: the wait before each attempt (the first is immediate). */
export const RETRY_SCHEDULE_MS = [0, 5_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 5 * 3600_000, 10 * 3600_000, 14 * 3600_000, 20 * 3600_000, 24 * 3600_000];
/** An endpoint whose every attempt has failed for this long is disabled. */
export const FAILING_LIMIT_MS = 3 * 24 * 3600_000;
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

export interface WebhookWorkerOptions {
  /** Deliveries in flight at once. */
  concurrency: number;
  /** How long a claimed delivery is this worker's (longer than the request timeout). */
  leaseSeconds: number;
  pollMs: number;
  /** The clock (tests move a fake one through the retry schedule). */
  now: () => Date;
  /** Jitter on retry delays, as a share of the delay (0.1 = up to 10% either way). */
  jitter: number;
  /** Told of each attempt's outcome (metrics). */
  onAttempt?: (outcome: 'delivered' | 'retry' | 'failed') => void;
}

interface Claimed {
  workspace_id: string;
  id: string;
  endpoint_id: string;
  event_id: string;
  attempts: number;
}

/** An attempt's outcome waiting to be recorded; `done` frees its slot. */
interface Outcome {
  delivery: Claimed;
  result: SendResult;
  done: () => void;
}

interface Job {
  delivery: Claimed;
  url: string;
  secrets: string[];
  body: string;
  timestamp: number;
}

/**
 * Sends due webhook deliveries. Every instance runs one: deliveries are leased across instances
 * (worker_claim_webhook_deliveries, FOR UPDATE SKIP LOCKED), so none goes out twice at once, and a
 * record's events go out in order per endpoint. A failed attempt is retried on the schedule above
 * (or later, when the receiver asks with Retry-After); after the last one the delivery is FAILED,
 * kept and re-deliverable. 410 Gone disables the endpoint, as do 3 days of failures.
 */
export class WebhookWorker {
  private timer?: NodeJS.Timeout;
  private stopped = true;
  /** The rounds; a tick during one is taken by the round itself when it can (see round()). */
  private readonly rounds: SingleFlight;
  /** Set by stop(): no more claims. */
  private closing = false;
  /** Resolves the wait of a round in progress (see round()). */
  private wakeUp?: () => void;
  private readonly inFlight = new Set<Promise<void>>();
  /** Per workspace: outcomes not recorded yet, and whether a batch is being recorded (see recordOutcomes). */
  private readonly outcomes = new Map<string, Outcome[]>();
  private readonly recording = new Set<string>();

  constructor(
    private readonly ds: DataSource,
    private readonly sender: WebhookSender,
    private readonly endpoints: WebhookEndpointService,
    private readonly log: Logger,
    private readonly opts: WebhookWorkerOptions,
  ) {
    this.rounds = new SingleFlight(() => this.round(), { onError: (err) => this.log.error({ err }, 'webhook worker round failed') });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.closing = false;
    this.timer = setInterval(() => void this.tick(), this.opts.pollMs);
    this.timer.unref();
    void this.tick();
  }

  /** Stops claiming, and waits for the deliveries in flight to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.closing = true;
    clearInterval(this.timer);
    this.wakeUp?.();
    await this.rounds.current;
    await Promise.all([...this.inFlight]);
  }

  /** Claims and sends what is due now; resolves with how many deliveries it attempted. */
  tick(): Promise<number> {
    // A round waiting on its deliveries in flight is woken to claim the new ones now.
    if (this.rounds.current) this.wakeUp?.();
    return this.rounds.run();
  }

  /**
   * Claims up to the free concurrency and starts sending; claims again whenever a delivery is
   * recorded (its slot is free, and the next event of its record, held back for order, may be due
   * now) or the worker is woken (new deliveries), until nothing is in flight and nothing is due.
   * A slow receiver holds up its own deliveries only, not the claims of everything else.
   */
  private async round(): Promise<number> {
    let attempted = 0;
    // A claim is a few round trips: after a completion, claim once a quarter of the slots is free
    // (or little is in flight), so that claims carry batches rather than one delivery each.
    const batch = Math.max(1, Math.floor(this.opts.concurrency / 4));
    let woken = true;
    for (;;) {
      const free = this.opts.concurrency - this.inFlight.size;
      if (free > 0 && !this.closing && (woken || free >= batch || this.inFlight.size < batch)) {
        woken = false;
        const claimed: Claimed[] = await this.ds.query(`SELECT * FROM worker_claim_webhook_deliveries($1, $2, $3)`, [
          this.opts.now(),
          free,
          this.opts.leaseSeconds,
        ]);
        attempted += claimed.length;
        for (const job of await this.prepare(claimed)) {
          const p = this.deliver(job)
            .catch((err) => this.log.error({ err, deliveryId: job.delivery.id }, 'webhook delivery failed'))
            .finally(() => this.inFlight.delete(p));
          this.inFlight.add(p);
        }
        if (claimed.length === free) continue; // there may be more due
      }
      if (!this.inFlight.size) return attempted;
      if (!this.closing && this.rounds.takeRequest()) {
        // Woken while claiming: claim once more before waiting.
        woken = true;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wakeUp = () => {
          woken = true;
          resolve();
        };
        void Promise.race(this.inFlight).then(resolve);
      });
      this.wakeUp = undefined;
    }
  }

  /** Reads what the claimed deliveries need (event, endpoint, secrets) in their workspaces, and signs them. */
  private async prepare(claimed: Claimed[]): Promise<Job[]> {
    const byWorkspace = new Map<string, Claimed[]>();
    for (const c of claimed) byWorkspace.set(c.workspace_id, [...(byWorkspace.get(c.workspace_id) ?? []), c]);
    const jobs: Job[] = [];
    const now = this.opts.now();
    for (const [workspaceId, list] of byWorkspace) {
      await inWorkspace(
        this.ds,
        workspaceId,
        async (tx) => {
          const events = await tx.query<{ id: string; body: unknown }>(
            `SELECT id::text, json_build_object('type', type, 'timestamp', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', json_build_object(
             'id', id::text, 'type', type, 'entityType', entity_type, 'entityId', entity_id,
             'occurredAt', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'actor', json_build_object('type', actor_type, 'id', actor_id), 'changes', changes, 'data', data)) AS body
           FROM event WHERE workspace_id = $1 AND id = ANY($2::bigint[])`,
            [workspaceId, list.map((c) => c.event_id)],
          );
          const endpoints = await tx.query<{
            id: string;
            url: string;
            secret: string;
            previous_secret: string | null;
            previous_secret_expires_at: Date | null;
          }>(`SELECT id, url, secret, previous_secret, previous_secret_expires_at FROM webhook_endpoint WHERE workspace_id = $1 AND id = ANY($2::uuid[])`, [
            workspaceId,
            [...new Set(list.map((c) => c.endpoint_id))],
          ]);
          const eventById = new Map(events.map((e) => [e.id, JSON.stringify(e.body)]));
          const endpointById = new Map(endpoints.map((e) => [e.id, e]));
          for (const delivery of list) {
            const body = eventById.get(String(delivery.event_id));
            const endpoint = endpointById.get(delivery.endpoint_id);
            if (!body || !endpoint) continue; // purged meanwhile: its lease runs out and it is claimed again
            const secrets = [endpoint.secret];
            if (endpoint.previous_secret && endpoint.previous_secret_expires_at && endpoint.previous_secret_expires_at > now)
              secrets.push(endpoint.previous_secret);
            jobs.push({ delivery, url: endpoint.url, secrets, body, timestamp: Math.floor(now.getTime() / 1000) });
          }
        },
        { gated: false },
      );
    }
    return jobs;
  }

  private async deliver(job: Job): Promise<void> {
    const id = String(job.delivery.event_id);
    const result = await this.sender.send(
      job.url,
      { 'webhook-id': id, 'webhook-timestamp': String(job.timestamp), 'webhook-signature': signatureHeader(job.secrets, id, job.timestamp, job.body) },
      job.body,
    );
    // The slot stays taken until the outcome is recorded: the record's next event waits for it.
    const workspaceId = job.delivery.workspace_id;
    await new Promise<void>((done) => {
      const waiting = this.outcomes.get(workspaceId);
      if (waiting) waiting.push({ delivery: job.delivery, result, done });
      else this.outcomes.set(workspaceId, [{ delivery: job.delivery, result, done }]);
      void this.recordOutcomes(workspaceId);
    });
  }

  /**
   * Records a workspace's outcomes sent meanwhile, together: one transaction for all of them, one
   * UPDATE for every delivery and one for every endpoint that answered, instead of a transaction (5
   * round trips and a commit) per delivery. One batch at a time per workspace, workspaces side by
   * side: one slow to record (a lock wait on an endpoint row its tenant is editing) holds up no other
   * workspace's bookkeeping. A batch that fails to record is logged: its deliveries' leases run out
   * and they are sent again, with the same webhook-id (at least once).
   */
  private async recordOutcomes(workspaceId: string): Promise<void> {
    if (this.recording.has(workspaceId)) return;
    this.recording.add(workspaceId);
    try {
      for (let list = this.outcomes.get(workspaceId); list?.length; list = this.outcomes.get(workspaceId)) {
        this.outcomes.delete(workspaceId);
        try {
          await inWorkspace(this.ds, workspaceId, (tx) => this.record(tx, list!), { gated: false });
        } catch (err) {
          this.log.error({ err, deliveryIds: list.map((o) => o.delivery.id) }, 'webhook results not recorded');
        }
        for (const o of list) o.done();
      }
    } finally {
      this.recording.delete(workspaceId);
    }
  }

  /** The attempts' outcomes on their deliveries, and on their endpoints (failing since, disabled). */
  private async record(tx: TenantTransaction, list: Outcome[]): Promise<void> {
    const now = this.opts.now();
    const rows = list.map(({ delivery: d, result: r }) => {
      const ok = r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
      const gone = r.statusCode === 410;
      const attempts = d.attempts + 1;
      let status = DeliveryStatus.PENDING;
      let next: Date | null = null;
      if (ok) status = DeliveryStatus.DELIVERED;
      else if (gone || attempts >= RETRY_SCHEDULE_MS.length) status = DeliveryStatus.FAILED;
      else next = new Date(now.getTime() + this.retryDelay(attempts, r.retryAfterMs));
      return { d, r, ok, gone, attempts, status, next };
    });
    // Delivery bookkeeping is not a change to CRM data, and is not recorded as events: an endpoint
    // subscribed to `*` would otherwise receive an event for each of its own deliveries.
    await tx.query(
      `UPDATE webhook_delivery d SET status = v.status, attempts = v.attempts, next_attempt_at = v.next, leased_until = NULL, last_attempt_at = $2,
         last_status_code = v.code, last_error = v.error, last_response_body = v.body, last_duration_ms = v.ms,
         delivered_at = CASE WHEN v.status = 'DELIVERED' THEN $2 ELSE d.delivered_at END, updated_at = now()
       FROM unnest($3::uuid[], $4::text[], $5::int[], $6::timestamptz[], $7::int[], $8::text[], $9::text[], $10::int[])
         AS v(id, status, attempts, next, code, error, body, ms)
       WHERE d.workspace_id = $1 AND d.id = v.id`,
      [
        tx.workspaceId,
        now,
        rows.map((x) => x.d.id),
        rows.map((x) => x.status),
        rows.map((x) => x.attempts),
        rows.map((x) => x.next),
        rows.map((x) => x.r.statusCode),
        rows.map((x) => x.r.error),
        rows.map((x) => x.r.body),
        rows.map((x) => x.r.durationMs),
      ],
    );
    for (const x of rows) this.opts.onAttempt?.(x.ok ? 'delivered' : x.status === DeliveryStatus.FAILED ? 'failed' : 'retry');
    const answered = [...new Set(rows.filter((x) => x.ok).map((x) => x.d.endpoint_id))];
    if (answered.length)
      await tx.query(`UPDATE webhook_endpoint SET failing_since = NULL WHERE workspace_id = $1 AND id = ANY($2::uuid[]) AND failing_since IS NOT NULL`, [
        tx.workspaceId,
        answered,
      ]);
    const ctx = { tx, viewer: systemViewer(tx.workspaceId), actor: SYSTEM_ACTOR };
    const disabled = new Set<string>();
    for (const x of rows) {
      if (x.ok || disabled.has(x.d.endpoint_id)) continue;
      if (x.gone) {
        await this.endpoints.disable(ctx, x.d.endpoint_id, 'The endpoint answered 410 Gone');
        disabled.add(x.d.endpoint_id);
        continue;
      }
      // The endpoint row is written once when it starts failing, not at every failed attempt: each
      // update would leave a row version behind that every claim reads past (the claim joins it).
      const [e] = await tx.query<{ failing_since: Date }>(
        `WITH started AS (UPDATE webhook_endpoint SET failing_since = $3 WHERE workspace_id = $1 AND id = $2 AND failing_since IS NULL RETURNING failing_since)
         SELECT failing_since FROM started UNION ALL SELECT failing_since FROM webhook_endpoint WHERE workspace_id = $1 AND id = $2 AND failing_since IS NOT NULL`,
        [tx.workspaceId, x.d.endpoint_id, now],
      );
      if (e && now.getTime() - e.failing_since.getTime() >= FAILING_LIMIT_MS) {
        await this.endpoints.disable(ctx, x.d.endpoint_id, 'Every delivery attempt failed for 3 days');
        disabled.add(x.d.endpoint_id);
      }
    }
  }

  /** The wait before attempt `attempts + 1`, with jitter, and at least what Retry-After asked for. */
  private retryDelay(attempts: number, retryAfterMs: number | null): number {
    const base = RETRY_SCHEDULE_MS[attempts];
    const jittered = base * (1 + (Math.random() * 2 - 1) * this.opts.jitter);
    return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS)));
  }
}
