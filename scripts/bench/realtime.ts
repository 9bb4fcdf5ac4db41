// `npm run bench:realtime` (also the last step of `npm run bench`): subscriptions under load (issue 5).
// BENCH_RT_SUBSCRIBERS WebSocket subscribers (1000) on one Trellis instance, each subscribed to
// `recordChanged(types: [ACTIVITY])`; a writer creates BENCH_RT_RATE activities per second (100) for
// BENCH_RT_SECONDS (30), spread over the workspaces. Measured per delivery: the time from the event's
// transaction (its `occurredAt`, taken before the commit, so the figure is an upper bound) to its
// arrival at the client; and the server's memory per connection (RSS, before and after connecting).
// Two scenarios: BENCH_RT_WORKSPACES (10: every event reaches 100 subscribers) and one workspace
// (every event reaches all 1000). Each runs on a fresh database in bench/data/realtime, and first
// writes with no subscriber: the writes' own p99 beside the fan-out is compared with it (issue 21:
// delivery must never cost writes). BENCH_RT_RUNS (3) runs of each; the medians are the figures.
import { readFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadBenchConfig, ROOT, writeResult } from './config';
import { post, type Server, startServer } from './servers';
import { recreateDatabase, startDatabase } from './setup';
import { acrossRuns, percentile, sleep } from './stats';

const SUBSCRIBERS = Number(process.env.BENCH_RT_SUBSCRIBERS ?? 1000);
const RATE = Number(process.env.BENCH_RT_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_RT_SECONDS ?? 30);
const WORKSPACES = Number(process.env.BENCH_RT_WORKSPACES ?? 10);
const RUNS = Number(process.env.BENCH_RT_RUNS ?? 3);
/** The server caps connections per credential (100 by default): subscribers share keys up to that. */
const PER_KEY = 100;

interface Tenant {
  admin: Pick<Server, 'url' | 'headers' | 'name'>;
  keys: string[];
}

interface Scenario {
  workspaces: number;
  subscribers: number;
  eventsSent: number;
  writeFailures: number;
  /** The writes' own latency (request to answer), with no subscriber, then beside the fan-out. */
  writeP99AloneMs: number;
  writeP99Ms: number;
  writeP99Ratio: number;
  deliveriesExpected: number;
  deliveriesReceived: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  kbPerConnection: number;
}

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/**
 * RATE activity creations a second for SECONDS, on schedule (not waiting for one to finish to send
 * the next), spread over the tenants: each write's latency, the events each should reach (`perEvent`
 * of its tenant), and the refusals.
 */
async function write(tenants: Tenant[], perEvent: (n: number) => number) {
  const total = RATE * SECONDS;
  const started = Date.now();
  const inFlight: Promise<number>[] = [];
  const latencies: number[] = [];
  let failures = 0;
  const refusals = new Map<string, string>();
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const t = tenants[n % tenants.length];
    const sent = performance.now();
    inFlight.push(
      post(t.admin, {
        query: 'mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }',
        variables: { i: { type: 'NOTE', subject: `Event ${n}` } },
      }).then(
        () => (latencies.push(performance.now() - sent), perEvent(n)),
        (err: Error) => {
          // The first reason of each kind is shown (the rate limit, a timeout, the pool).
          failures++;
          const kind = err.message.slice(0, 80);
          if (!refusals.has(kind)) refusals.set(kind, err.message.slice(0, 300));
          return 0;
        },
      ),
    );
  }
  // An overloaded server may refuse writes: those events are not expected, and the failures are reported.
  const expected = (await Promise.all(inFlight)).reduce((a, b) => a + b, 0);
  for (const reason of [...refusals.values()].slice(0, 3)) console.log(`  a write was refused: ${reason}`);
  latencies.sort((a, b) => a - b);
  return { total, failures, expected, p99Ms: Math.round(percentile(latencies, 99)) };
}

async function setUpTenants(trellis: Server, count: number, keysEach: number): Promise<Tenant[]> {
  const tenants: Tenant[] = [];
  for (let w = 0; w < count; w++) {
    const up = await post<any>(trellis, {
      query: 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }',
      variables: { i: { workspaceName: `Realtime ${w}`, name: 'Admin', email: `admin${w}@realtime.test`, password: 'benchmark password' } },
    });
    const admin = { ...trellis, headers: { authorization: `Bearer ${up.signUp.accessToken}` } };
    const keys: string[] = [];
    for (let k = 0; k < keysEach; k++)
      keys.push((await post<any>(admin, { query: 'mutation { createApiKey(input: { name: "sub", scopes: [READ] }) { secret } }' })).createApiKey.secret);
    tenants.push({ admin, keys });
  }
  return tenants;
}

/** A bare graphql-transport-ws client: less client-side work per message than a full client library. */
function connect(url: string, key: string, onEvent: (data: { entityId: string; occurredAt: string }) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })));
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      if (msg.type === 'connection_ack') {
        ws.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: { query: 'subscription { recordChanged(types: [ACTIVITY]) { cursor entityId occurredAt } }' },
          }),
        );
        resolve(ws);
      } else if (msg.type === 'next') {
        if (msg.payload.errors) throw new Error(JSON.stringify(msg.payload.errors));
        onEvent(msg.payload.data.recordChanged);
      } else if (msg.type === 'error') reject(new Error(JSON.stringify(msg.payload)));
    });
    ws.on('error', reject);
    ws.on('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
  });
}

async function scenario(workspaces: number): Promise<Scenario> {
  const cfg = loadBenchConfig([], { ...process.env, BENCH_SCALE: '0.0001' });
  const dataDir = join(ROOT, 'bench', 'data', 'realtime');
  mkdirSync(dataDir, { recursive: true });
  const db = await startDatabase({ ...cfg, dataDir });
  try {
    await recreateDatabase(db);
    const trellis = await startServer('trellis', { db, logDir: dataDir, workspaceId: '', trellisRoot: ROOT });
    try {
      const perWorkspace = Math.ceil(SUBSCRIBERS / workspaces);
      const tenants = await setUpTenants(trellis, workspaces, Math.ceil(perWorkspace / PER_KEY));
      const wsUrl = trellis.url.replace(/^http/, 'ws');
      await sleep(500);
      // The writes alone first: their latency with nobody listening.
      const alone = await write(tenants, () => 0);
      const rssBefore = rssKb(trellis.pid!);

      const latencies: number[] = [];
      let received = 0;
      const sockets: WebSocket[] = [];
      const onEvent = (d: { occurredAt: string }) => {
        received++;
        latencies.push(Date.now() - Date.parse(d.occurredAt));
      };
      for (let i = 0; i < SUBSCRIBERS; i++) {
        const t = tenants[i % workspaces];
        sockets.push(await connect(wsUrl, t.keys[Math.floor(i / workspaces / PER_KEY)], onEvent));
      }
      await sleep(1000);
      const rssAfter = rssKb(trellis.pid!);
      process.stderr.write(`  ${SUBSCRIBERS} subscribers connected over ${workspaces} workspace(s); writing ${RATE} events/s for ${SECONDS} s\n`);
      const fanOut = await write(tenants, (n) => Math.floor(SUBSCRIBERS / workspaces) + (n % workspaces < SUBSCRIBERS % workspaces ? 1 : 0));
      const expected = fanOut.expected;
      const writeFailures = alone.failures + fanOut.failures;
      const total = fanOut.total;
      const deadline = Date.now() + 15_000;
      while (received < expected && Date.now() < deadline) await sleep(100);
      for (const s of sockets) s.terminate();

      latencies.sort((a, b) => a - b);
      return {
        workspaces,
        subscribers: SUBSCRIBERS,
        eventsSent: total - fanOut.failures,
        writeFailures,
        writeP99AloneMs: alone.p99Ms,
        writeP99Ms: fanOut.p99Ms,
        writeP99Ratio: Math.round((fanOut.p99Ms / Math.max(1, alone.p99Ms)) * 100) / 100,
        deliveriesExpected: expected,
        deliveriesReceived: received,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        maxMs: latencies[latencies.length - 1],
        rssBeforeMb: Math.round(rssBefore / 1024),
        rssAfterMb: Math.round(rssAfter / 1024),
        kbPerConnection: Math.round(((rssAfter - rssBefore) / SUBSCRIBERS) * 10) / 10,
      };
    } finally {
      await trellis.stop();
    }
  } finally {
    await db.stop();
  }
}

async function main(): Promise<void> {
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  const runs: Scenario[][] = [];
  for (let run = 1; run <= RUNS; run++) {
    const results: Scenario[] = [];
    for (const w of [...new Set([WORKSPACES, 1])]) {
      process.stderr.write(`realtime: run ${run}/${RUNS}: ${SUBSCRIBERS} subscribers, ${w} workspace(s)\n`);
      results.push(await scenario(w));
    }
    runs.push(results);
    console.log(`\nrun ${run}: real-time delivery (commit of the write -> client), one instance:`);
    console.log(
      'workspaces  fan-out/event  deliveries          p50 ms  p99 ms  max ms  write p99 alone -> beside  server RSS before -> after   per connection',
    );
    for (const r of results) {
      console.log(
        `${String(r.workspaces).padEnd(11)} ${String(r.subscribers / r.workspaces).padEnd(14)} ${`${r.deliveriesReceived}/${r.deliveriesExpected}${r.writeFailures ? ` (${r.writeFailures} writes refused)` : ''}`.padEnd(19)} ${String(r.p50Ms).padStart(6)}  ${String(r.p99Ms).padStart(6)}  ${String(r.maxMs).padStart(6)}  ${`${r.writeP99AloneMs} -> ${r.writeP99Ms} ms (x${r.writeP99Ratio})`.padEnd(26)} ${`${r.rssBeforeMb} MB -> ${r.rssAfterMb} MB`.padEnd(27)} ${r.kbPerConnection} KB`,
      );
    }
  }
  // Per scenario, the median of the runs (and the spread) of each figure.
  const medians = runs[0].map((first, i) => {
    const of = (f: (r: Scenario) => number) => acrossRuns(runs.map((rs) => f(rs[i])));
    return {
      workspaces: first.workspaces,
      writeFailures: of((r) => r.writeFailures),
      deliveryP99Ms: of((r) => r.p99Ms),
      writeP99AloneMs: of((r) => r.writeP99AloneMs),
      writeP99Ms: of((r) => r.writeP99Ms),
      writeP99Ratio: of((r) => r.writeP99Ratio),
      lost: of((r) => r.deliveriesExpected - r.deliveriesReceived),
    };
  });
  console.log(`\nmedian of ${RUNS} run(s) (spread), load average at start ${loadAtStart.join(' ')}:`);
  for (const m of medians)
    console.log(
      `  ${m.workspaces} workspace(s): delivery p99 ${m.deliveryP99Ms.median} ms (${m.deliveryP99Ms.spread.join('-')}), writes refused ${m.writeFailures.median} (${m.writeFailures.spread.join('-')}), write p99 ${m.writeP99AloneMs.median} -> ${m.writeP99Ms.median} ms, x${m.writeP99Ratio.median} (${m.writeP99Ratio.spread.join('-')}), deliveries lost ${m.lost.median}`,
    );
  const target = medians.every(
    (m) => m.writeFailures.median === 0 && m.lost.median === 0 && m.deliveryP99Ms.median <= 250 && (m.workspaces !== 1 || m.writeP99Ratio.median <= 2),
  );
  console.log(
    `target (every delivery made, no write refused, delivery p99 <= 250 ms; one workspace: write p99 <= 2x without subscribers): ${target ? 'met' : 'NOT met'}`,
  );
  const file = writeResult('realtime', {
    date: new Date().toISOString(),
    loadAverageAtStart: loadAtStart,
    rate: RATE,
    seconds: SECONDS,
    runs,
    medians,
    targetMet: target,
  });
  console.log(`results written to ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
