import { poolOf } from '../db/data-source';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Operation names are chosen by clients: past this many distinct ones, the rest count as `other`. */
const MAX_OPERATIONS = 200;

interface LiveCounts {
  /** Open, authenticated WebSocket connections. */
  connections(): number;
  /** Open, authenticated SSE event streams (and reservations of single connection mode). */
  sseStreams(): number;
  /** Subscriptions being served. */
  subscriptions(): number;
}

/**
 * Prometheus metrics of one server instance (a registry of its own, so that several instances in
 * one process, as in tests, do not collide): requests by operation and outcome, the database pool,
 * the webhook backlog and outcomes, automation runs, open subscriptions, and Node's own.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly operations = new Set<string>();
  private readonly requests: Counter<'operation' | 'outcome'>;
  private readonly durations: Histogram<'operation' | 'outcome'>;
  private readonly webhookAttempts: Counter<'outcome'>;
  private readonly automationRuns: Counter<'status'>;
  private readonly executions: Counter<'mode'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'trellis_' });
    this.requests = new Counter({
      name: 'trellis_graphql_requests_total',
      help: 'GraphQL operations by operation name and outcome (ok, or the first error code).',
      labelNames: ['operation', 'outcome'],
      registers: [this.registry],
    });
    this.durations = new Histogram({
      name: 'trellis_graphql_request_duration_seconds',
      help: 'GraphQL operation durations by operation name and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.webhookAttempts = new Counter({
      name: 'trellis_webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome (delivered, retry, failed).',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.executions = new Counter({
      name: 'trellis_graphql_executions_total',
      help: 'Queries and mutations over HTTP by how they ran: compiled, interpreted (first use, or compilation failed: uncompilable).',
      labelNames: ['mode'],
      registers: [this.registry],
    });
    this.automationRuns = new Counter({
      name: 'trellis_automation_runs_total',
      help: 'Automation rule runs by status.',
      labelNames: ['status'],
      registers: [this.registry],
    });
  }

  /** Gauges read when scraped: the pool, the webhook backlog (all workspaces), live connections. */
  /** `workerDs`: the workers' pool, whose role may read the shared webhook backlog. */
  watch(ds: DataSource, workerDs: DataSource, live: LiveCounts): void {
    const pool = poolOf(ds);
    new Gauge({
      name: 'trellis_db_pool_connections',
      help: 'Database pool connections by state.',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    new Gauge({
      name: 'trellis_webhook_backlog',
      help: 'Webhook deliveries pending (due or waiting for a retry), and failed for good in the last 24 hours.',
      labelNames: ['state'],
      registers: [this.registry],
      // Every instance reads the same shared backlog: across cluster workers it is the same number, not a sum.
      aggregator: 'max',
      async collect() {
        const [r] = await workerDs.query(`SELECT * FROM worker_webhook_backlog()`).catch(() => [null]);
        if (!r) return;
        this.set({ state: 'pending' }, Number(r.pending));
        this.set({ state: 'failed_24h' }, Number(r.failed_24h));
      },
    });
    new Gauge({
      name: 'trellis_websocket_connections',
      help: 'Open, authenticated WebSocket connections.',
      registers: [this.registry],
      collect() {
        this.set(live.connections());
      },
    });
    new Gauge({
      name: 'trellis_sse_streams',
      help: 'Open, authenticated Server-Sent Events streams (and single connection reservations).',
      registers: [this.registry],
      collect() {
        this.set(live.sseStreams());
      },
    });
    new Gauge({
      name: 'trellis_subscriptions_open',
      help: 'Subscriptions being served.',
      registers: [this.registry],
      collect() {
        this.set(live.subscriptions());
      },
    });
  }

  execution(mode: 'compiled' | 'interpreted' | 'uncompilable'): void {
    this.executions.inc({ mode });
  }

  request(operation: string | null | undefined, outcome: string, seconds: number): void {
    let op = operation && NAME.test(operation) ? operation : 'anonymous';
    if (!this.operations.has(op)) {
      if (this.operations.size >= MAX_OPERATIONS) op = 'other';
      else this.operations.add(op);
    }
    this.requests.inc({ operation: op, outcome });
    this.durations.observe({ operation: op, outcome }, seconds);
  }

  webhookAttempt(outcome: 'delivered' | 'retry' | 'failed'): void {
    this.webhookAttempts.inc({ outcome });
  }

  automationRun(status: string): void {
    this.automationRuns.inc({ status });
  }
}
