// `npm run bench:realtime` (also the last step of `npm run bench`): subscriptions under load (issue 5).
// BENCH_RT_SUBSCRIBERS WebSocket subscribers (1000) on one Trellis instance, each subscribed to
// `recordChanged(types: [ACTIVITY])`; a writer creates BENCH_RT_RATE activities per second (100) for
// BENCH_RT_SECONDS (30), spread over the workspaces. Measured per delivery: the time from the event's
// transaction (its `occurredAt`, taken before the commit, so the figure is an upper bound) to its
// arrival at the client; and the server's memory per connection (RSS, before and after connecting).
// Two scenarios: BENCH_RT_WORKSPACES (10: every event reaches 100 subscribers) and one workspace
// (every event reaches all 1000). Each runs on a fresh database in bench/data/realtime.
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadBenchConfig, ROOT, writeResult } from './config';
import { post, type Server, startServer } from './servers';
import { recreateDatabase, startDatabase } from './setup';

const SUBSCRIBERS = Number(process.env.BENCH_RT_SUBSCRIBERS ?? 1000);
const RATE = Number(process.env.BENCH_RT_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_RT_SECONDS ?? 30);
const WORKSPACES = Number(process.env.BENCH_RT_WORKSPACES ?? 10);
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

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

      // The writer: RATE mutations per second, on schedule (not waiting for one to finish to send the next).
      const total = RATE * SECONDS;
      const started = Date.now();
      const inFlight: Promise<number>[] = [];
      let writeFailures = 0;
      const refusals = new Map<string, string>();
      for (let n = 0; n < total; n++) {
        const due = started + (n * 1000) / RATE;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        const t = tenants[n % workspaces];
        const perEvent = Math.floor(SUBSCRIBERS / workspaces) + (n % workspaces < SUBSCRIBERS % workspaces ? 1 : 0);
        inFlight.push(
          post(t.admin, {
            query: 'mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }',
            variables: { i: { type: 'NOTE', subject: `Event ${n}` } },
          }).then(
            () => perEvent,
            (err: Error) => {
              // The first reason of each kind is shown (the rate limit, a timeout, the pool).
              writeFailures++;
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
      const deadline = Date.now() + 15_000;
      while (received < expected && Date.now() < deadline) await sleep(100);
      for (const s of sockets) s.terminate();

      latencies.sort((a, b) => a - b);
      return {
        workspaces,
        subscribers: SUBSCRIBERS,
        eventsSent: total - writeFailures,
        writeFailures,
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
  const results: Scenario[] = [];
  for (const w of [...new Set([WORKSPACES, 1])]) {
    process.stderr.write(`realtime: ${SUBSCRIBERS} subscribers, ${w} workspace(s)\n`);
    results.push(await scenario(w));
  }
  console.log('\nreal-time delivery (commit of the write -> client), one instance:');
  console.log('workspaces  fan-out/event  deliveries          p50 ms  p99 ms  max ms  server RSS before -> after   per connection');
  for (const r of results) {
    console.log(
      `${String(r.workspaces).padEnd(11)} ${String(r.subscribers / r.workspaces).padEnd(14)} ${`${r.deliveriesReceived}/${r.deliveriesExpected}${r.writeFailures ? ` (${r.writeFailures} writes refused)` : ''}`.padEnd(19)} ${String(r.p50Ms).padStart(6)}  ${String(r.p99Ms).padStart(6)}  ${String(r.maxMs).padStart(6)}  ${`${r.rssBeforeMb} MB -> ${r.rssAfterMb} MB`.padEnd(27)} ${r.kbPerConnection} KB`,
    );
  }
  const target = results.every((r) => r.writeFailures === 0 && r.deliveriesReceived === r.deliveriesExpected && r.p99Ms < 250);
  console.log(`target: every delivery made, p99 under 250 ms: ${target ? 'met' : 'NOT met'}`);
  const file = writeResult('realtime', { date: new Date().toISOString(), rate: RATE, seconds: SECONDS, results, targetMet: target });
  console.log(`results written to ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
