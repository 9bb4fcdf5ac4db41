// `npm run bench:webhooks` (also a step of `npm run bench`): webhook delivery from one instance (issue 6).
//  1. Throughput: BENCH_WH_EVENTS (20000) events committed in bulk (upserts of 1000), one endpoint
//     subscribed to them, a local receiver answering 200 at once: deliveries per second, from the
//     first event's commit to the last delivery. Target: at least 500/s.
//  2. Latency: BENCH_WH_RATE (100) single mutations per second for BENCH_WH_SECONDS (20): p50 and
//     p99 from the event's transaction (`occurredAt`, taken before the commit: an upper bound) to
//     the receiver having the request.
// Each step uses a fresh database in bench/data/webhooks. BENCH_WH_RUNS (3) runs of both; the
// figures are the medians, with the spread and the machine's load average at start (issue 21).
// Targets (issue 21): at least 1 000 deliveries/s, p99 at most 200 ms at 100 events/s.
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadBenchConfig, ROOT, writeResult } from './config';
import { startReceiver } from './receiver';
import { post, type Server, startServer } from './servers';
import { recreateDatabase, startDatabase } from './setup';
import { acrossRuns, percentile, sleep } from './stats';

const EVENTS = Number(process.env.BENCH_WH_EVENTS ?? 20_000);
const RATE = Number(process.env.BENCH_WH_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_WH_SECONDS ?? 20);
const RUNS = Number(process.env.BENCH_WH_RUNS ?? 3);

interface Arrival {
  id: string;
  at: number;
  occurredAt: number;
}

async function startArrivals(): Promise<{ url: string; arrivals: Arrival[]; close(): Promise<void> }> {
  const arrivals: Arrival[] = [];
  const receiver = await startReceiver((req, body) => {
    arrivals.push({ id: String(req.headers['webhook-id']), at: Date.now(), occurredAt: Date.parse(JSON.parse(body).data.occurredAt) });
    return 204;
  });
  return { ...receiver, arrivals };
}

async function withTrellis<T>(fn: (trellis: Server, admin: Server, receiverUrl: string, arrivals: Arrival[]) => Promise<T>): Promise<T> {
  const cfg = loadBenchConfig([], { ...process.env, BENCH_SCALE: '0.0001' });
  const dataDir = join(ROOT, 'bench', 'data', 'webhooks');
  mkdirSync(dataDir, { recursive: true });
  const db = await startDatabase({ ...cfg, dataDir });
  const receiver = await startArrivals();
  try {
    await recreateDatabase(db);
    const trellis = await startServer('trellis', {
      db,
      logDir: dataDir,
      workspaceId: '',
      trellisRoot: ROOT,
      trellisEnv: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_WORKERS: 'true' },
    });
    try {
      const up = await post<any>(trellis, {
        query: 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }',
        variables: { i: { workspaceName: 'Webhook bench', name: 'Admin', email: 'admin@webhooks.test', password: 'benchmark password' } },
      });
      const admin = { ...trellis, headers: { authorization: `Bearer ${up.signUp.accessToken}` } };
      await post(admin, {
        query: 'mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }',
        variables: { i: { url: receiver.url, events: ['contact.*'] } },
      });
      return await fn(trellis, admin, receiver.url, receiver.arrivals);
    } finally {
      await trellis.stop();
    }
  } finally {
    await receiver.close();
    await db.stop();
  }
}

async function waitFor(arrivals: Arrival[], count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (new Set(arrivals.map((a) => a.id)).size < count && Date.now() < deadline) await sleep(50);
}

async function throughput() {
  return withTrellis(async (_t, admin, _url, arrivals) => {
    const started = Date.now();
    for (let i = 0; i < EVENTS; i += 1000) {
      const inputs = Array.from({ length: Math.min(1000, EVENTS - i) }, (_, k) => ({ externalId: `c-${i + k}`, lastName: `Contact ${i + k}` }));
      await post(admin, { query: 'mutation($i: [UpsertContactInput!]!) { upsertContacts(inputs: $i) { created } }', variables: { i: inputs } });
    }
    const committed = Date.now();
    await waitFor(arrivals, EVENTS, 120_000);
    const unique = new Set(arrivals.map((a) => a.id)).size;
    const last = Math.max(...arrivals.map((a) => a.at));
    const firstCommit = Math.min(...arrivals.map((a) => a.occurredAt));
    return {
      events: EVENTS,
      delivered: unique,
      duplicates: arrivals.length - unique,
      writeSeconds: (committed - started) / 1000,
      deliveriesPerSecond: Math.round(unique / ((last - firstCommit) / 1000)),
    };
  });
}

async function latency() {
  return withTrellis(async (_t, admin, _url, arrivals) => {
    const total = RATE * SECONDS;
    const started = Date.now();
    const writes: Promise<unknown>[] = [];
    for (let n = 0; n < total; n++) {
      const wait = started + (n * 1000) / RATE - Date.now();
      if (wait > 0) await sleep(wait);
      writes.push(post(admin, { query: 'mutation($i: CreateContactInput!) { createContact(input: $i) { id } }', variables: { i: { lastName: `Live ${n}` } } }));
    }
    await Promise.all(writes);
    await waitFor(arrivals, total, 30_000);
    const lat = arrivals.map((a) => a.at - a.occurredAt).sort((a, b) => a - b);
    return {
      events: total,
      delivered: new Set(arrivals.map((a) => a.id)).size,
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      maxMs: lat[lat.length - 1],
    };
  });
}

async function main(): Promise<void> {
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  const runs: { throughput: Awaited<ReturnType<typeof throughput>>; latency: Awaited<ReturnType<typeof latency>> }[] = [];
  for (let run = 1; run <= RUNS; run++) {
    process.stderr.write(`webhooks: run ${run}/${RUNS}: throughput (${EVENTS} events in bulk)\n`);
    const t = await throughput();
    process.stderr.write(`webhooks: run ${run}/${RUNS}: latency (${RATE} events/s for ${SECONDS} s)\n`);
    const l = await latency();
    runs.push({ throughput: t, latency: l });
    console.log(`\nrun ${run}: webhook delivery, one instance, local receiver:`);
    console.log(
      `  throughput: ${t.delivered}/${t.events} delivered (${t.duplicates} duplicates), ${t.deliveriesPerSecond} deliveries/s (written in ${t.writeSeconds} s)`,
    );
    console.log(
      `  latency at ${RATE} events/s: ${l.delivered}/${l.events} delivered, p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms (commit -> receiver)`,
    );
  }
  const medians = {
    deliveriesPerSecond: acrossRuns(runs.map((r) => r.throughput.deliveriesPerSecond)),
    latencyP99Ms: acrossRuns(runs.map((r) => r.latency.p99Ms)),
    latencyP50Ms: acrossRuns(runs.map((r) => r.latency.p50Ms)),
    lost: Math.max(...runs.map((r) => r.throughput.events - r.throughput.delivered + r.latency.events - r.latency.delivered)),
  };
  const met = medians.deliveriesPerSecond.median >= 1000 && medians.latencyP99Ms.median <= 200 && medians.lost === 0;
  console.log(
    `\nmedian of ${RUNS} run(s) (spread), load average at start ${loadAtStart.join(' ')}: ${medians.deliveriesPerSecond.median} deliveries/s (${medians.deliveriesPerSecond.spread.join('-')}), latency p99 ${medians.latencyP99Ms.median} ms (${medians.latencyP99Ms.spread.join('-')}), undelivered ${medians.lost}; target (>= 1000/s, p99 <= 200 ms): ${met ? 'met' : 'NOT met'}`,
  );
  const file = writeResult('webhooks', {
    date: new Date().toISOString(),
    loadAverageAtStart: loadAtStart,
    rate: RATE,
    seconds: SECONDS,
    runs,
    medians,
    targetMet: met,
  });
  console.log(`results written to ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
