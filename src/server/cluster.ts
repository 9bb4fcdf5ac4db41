import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../kernel/logger';

// WEB_CONCURRENCY > 1: the process that was started (the primary) prepares the database (embedded
// PostgreSQL, migrations, demo workspace), then forks that many workers, each a whole instance
// (its own pool, event bus and background workers) on the one port. Instances already coordinate
// through PostgreSQL (DESIGN.md, scale path), so the workers need nothing from each other; from the
// primary they need only the database URL, and it aggregates their metrics.

/** What a worker is told by the primary. */
interface WorkerSetup {
  /** The database URL of the service's role (embedded PostgreSQL generates its password at start). */
  appUrl: string;
  /** The workers' role's URL (WORKER_DATABASE_URL, or the embedded one). */
  workerUrl: string;
}

const SETUP = 'trellis:setup';
const METRICS_REQUEST = 'trellis:metrics-request';
const METRICS = 'trellis:metrics';
/** A worker that dies after serving is replaced after this long (a crash loop stays slow). */
const RESTART_DELAY_MS = 1000;
const METRICS_TIMEOUT_MS = 5000;

type Message = { type?: string; id?: number; setup?: WorkerSetup; text?: string; error?: string };

/** In a worker: the setup the primary sends once the worker is online. */
export function setupFromPrimary(): Promise<WorkerSetup> {
  return new Promise((resolve) => {
    const onMessage = (m: Message) => {
      if (m?.type !== SETUP || !m.setup) return;
      process.off('message', onMessage);
      resolve(m.setup);
    };
    process.on('message', onMessage);
  });
}

/**
 * In a worker: makes `registry` answer the primary's metric requests, and returns what /metrics
 * serves: every worker's metrics summed (counters, histograms, pool and connection gauges) by the
 * primary, so that a scrape landing on any worker sees the whole service.
 */
export function clusterMetrics(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one is what makes this worker answer prom-client's requests from the primary.
  new AggregatorRegistry();
  let next = 0;
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => done(new Error('the primary did not answer with the metrics')), METRICS_TIMEOUT_MS);
      const done = (err: Error | null, text?: string) => {
        clearTimeout(timer);
        process.off('message', onMessage);
        if (err) reject(err);
        else resolve(text!);
      };
      const onMessage = (m: Message) => {
        if (m?.type === METRICS && m.id === id) done(m.error ? new Error(m.error) : null, m.text);
      };
      process.on('message', onMessage);
      process.send!({ type: METRICS_REQUEST, id });
    });
}

export interface Workers {
  /** The port, once every worker listens on it. Rejects if a worker exits before it listened. */
  listening: Promise<number>;
  /** SIGTERM to every worker (each shuts down gracefully); resolves when all have exited. */
  stop(): Promise<void>;
}

/** In the primary: forks `count` workers, replaces any that dies once the service has started, answers metric requests. */
export function forkWorkers(count: number, setup: WorkerSetup, log: Logger): Workers {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let port: number | undefined;
  let resolveListening!: (port: number) => void;
  let rejectListening!: (err: Error) => void;
  const listening = new Promise<number>((res, rej) => ((resolveListening = res), (rejectListening = rej)));
  listening.catch(() => undefined);
  const served = new WeakSet<Worker>();

  const fork = () => {
    const worker = cluster.fork();
    worker.on('online', () => worker.send({ type: SETUP, setup }));
    worker.on('message', (m: Message) => {
      if (m?.type !== METRICS_REQUEST) return;
      aggregator.clusterMetrics().then(
        (text) => worker.isConnected() && worker.send({ type: METRICS, id: m.id, text }),
        (err: Error) => worker.isConnected() && worker.send({ type: METRICS, id: m.id, error: err.message }),
      );
    });
  };

  cluster.on('listening', (worker, address) => {
    served.add(worker);
    port ??= address.port;
    if (Object.values(cluster.workers ?? {}).every((w) => w && served.has(w))) resolveListening(port);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    // At the start, a worker that cannot serve fails the start (the others would fail alike).
    if (port === undefined && !served.has(worker)) {
      rejectListening(new Error(`a worker exited before it served (code ${code}, signal ${signal})`));
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'worker exited; starting another');
    setTimeout(() => !stopping && fork(), RESTART_DELAY_MS).unref();
  });
  for (let i = 0; i < count; i++) fork();

  return {
    listening,
    async stop() {
      stopping = true;
      const running = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      await Promise.all(
        running.map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve());
              w.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
