// `npm run load`: a mixed workload against one Trellis (issue 10, point 3). LOAD_CLIENTS (30) clients
// for LOAD_SECONDS (60), each with its own API key (READ, WRITE), send requests one after the other:
// list, read and search (reads), create, update and upsert (writes). Meanwhile LOAD_SUBSCRIBERS (10)
// WebSocket subscribers listen to recordChanged, and a webhook endpoint for account.* and contact.*
// delivers to a local receiver. It prints request counts, errors by code, the zero-5xx check, p50 and
// p99 per kind, webhook deliveries and subscription events received against what was committed, and
// the server's RSS at the start, middle and end; and writes bench/results/load.json.
//
// Trellis runs as a child process (NODE_ENV=production, its webhook and automation workers on, cost
// limits on at their defaults) on its own embedded PostgreSQL in bench/data/load (fsync off, like the
// other benches), with a fresh database each run.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { Client } from 'pg';
import WebSocket from 'ws';
import { startEmbeddedPostgres } from '../src/db/embedded';
import { writeResult } from './bench/config';
import { freePort, post, type Server, startServer } from './bench/servers';

const ROOT = resolve(__dirname, '..', '..');
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 30);
const SUBSCRIBERS = Number(process.env.LOAD_SUBSCRIBERS ?? 10);
const DATABASE = 'trellis_load';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const round = (n: number) => Math.round(n * 10) / 10;

type Kind = 'list' | 'read' | 'search' | 'create' | 'update' | 'upsert';
const MIX: [Kind, number][] = [
  ['list', 25],
  ['read', 20],
  ['search', 10],
  ['create', 15],
  ['update', 20],
  ['upsert', 10],
];
const READS: Kind[] = ['list', 'read', 'search'];

const Q = {
  list: `query($after: String) { accounts(first: 20, after: $after, orderBy: [{ field: CREATED_AT, direction: DESC }]) { totalCount nodes { id name industry employees owner { id name } } pageInfo { endCursor } } }`,
  read: `query($id: ID!) { account(id: $id) { id name version employees contacts { id firstName lastName email } activities(first: 5) { id subject } } }`,
  search: `query($q: String!) { search(query: $q, first: 10) { id type title score } }`,
  create: `mutation($i: CreateAccountInput!) { createAccount(input: $i) { id version } }`,
  update: `mutation($id: ID!, $i: UpdateAccountInput!) { updateAccount(id: $id, input: $i) { id version } }`,
  upsert: `mutation($i: [UpsertContactInput!]!) { upsertContacts(inputs: $i) { created updated unchanged failed } }`,
};

interface Sample {
  kind: Kind;
  ms: number;
  /** 'ok', a GraphQL error code, HTTP_<status>, TIMEOUT or NETWORK. */
  outcome: string;
  status: number;
}

function pick(): Kind {
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  let r = Math.random() * total;
  for (const [k, w] of MIX) if ((r -= w) < 0) return k;
  return 'list';
}

async function request(url: string, key: string, query: string, variables: Record<string, unknown>): Promise<{ status: number; outcome: string; data?: any }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let body: { data?: unknown; errors?: { extensions?: { code?: string } }[] } = {};
    try {
      body = JSON.parse(text);
    } catch {
      return { status: res.status, outcome: `HTTP_${res.status}` };
    }
    if (body.errors?.length) return { status: res.status, outcome: body.errors[0].extensions?.code ?? `HTTP_${res.status}` };
    if (res.status !== 200) return { status: res.status, outcome: `HTTP_${res.status}` };
    return { status: 200, outcome: 'ok', data: body.data };
  } catch (err) {
    return { status: 0, outcome: (err as Error).name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK' };
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/**
 * The server's JavaScript heap after a full garbage collection, through the inspector (the child runs
 * with --inspect on a loopback port): what the process still holds, unlike RSS, which V8 keeps high.
 */
interface Memory {
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  rssMb: number;
}

async function heapAfterGc(inspectPort: number): Promise<Memory> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, fail) => ws.once('open', ok).once('error', fail));
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<any>((ok) => {
      const my = ++id;
      const onMessage = (raw: WebSocket.RawData) => {
        const msg = JSON.parse(raw.toString());
        if (msg.id !== my) return;
        ws.off('message', onMessage);
        ok(msg.result);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id: my, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    const r = await call('Runtime.evaluate', { expression: 'process.memoryUsage()', returnByValue: true });
    const m = r.result.value as Record<string, number>;
    const mb = (n: number) => Math.round(n / 1024 / 1024);
    return { heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external), arrayBuffersMb: mb(m.arrayBuffers), rssMb: mb(m.rss) };
  } finally {
    ws.close();
  }
}

function startReceiver(): Promise<{ url: string; requests: () => number; ids: Set<string>; close(): Promise<void> }> {
  let requests = 0;
  const ids = new Set<string>();
  const server: HttpServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      ids.add(String(req.headers['webhook-id']));
      setTimeout(() => res.writeHead(204).end(), Math.random() * 5);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolveListen) =>
    server.listen(0, '127.0.0.1', () =>
      resolveListen({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
        requests: () => requests,
        ids,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

interface Listener {
  ids: Set<string>;
  received: number;
  errors: number;
  client: WsClient;
}

async function listen(baseUrl: string, key: string): Promise<Listener> {
  const client = createClient({
    url: baseUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
  });
  const l: Listener = { ids: new Set(), received: 0, errors: 0, client };
  await new Promise<void>((ok, fail) => {
    client.on('connected', () => ok());
    client.on('closed', () => fail(new Error('subscription socket closed')));
  });
  client.subscribe(
    { query: `subscription { recordChanged { id type entityId } }` },
    {
      next: (r) => {
        if (r.errors) l.errors++;
        const id = (r.data as { recordChanged?: { id: string } } | undefined)?.recordChanged?.id;
        if (id) {
          l.received++;
          l.ids.add(id);
        }
      },
      error: () => l.errors++,
      complete: () => undefined,
    },
  );
  return l;
}

async function main(): Promise<void> {
  const dataDir = join(ROOT, 'bench', 'data', 'load');
  mkdirSync(dataDir, { recursive: true });
  process.stderr.write(`load: starting PostgreSQL in ${dataDir}\n`);
  const db = await startEmbeddedPostgres({
    dataDir,
    database: DATABASE,
    settings: { shared_buffers: '1GB', fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '200' },
  });
  const receiver = await startReceiver();
  const owner = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const c = new Client({ connectionString: db.ownerUrl });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as T[];
    } finally {
      await c.end();
    }
  };
  let trellis: Server | undefined;
  const listeners: Listener[] = [];
  try {
    const admin = new Client({ connectionString: db.ownerUrl.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();

    // The inspector (loopback only) lets the script measure the heap after a full GC.
    const inspectPort = await freePort();
    process.env.BENCH_NODE_ARGS = `${process.env.BENCH_NODE_ARGS ?? ''} --inspect=127.0.0.1:${inspectPort}`.trim();
    trellis = await startServer('trellis', {
      db,
      logDir: dataDir,
      workspaceId: '',
      trellisRoot: ROOT,
      trellisEnv: { WEBHOOK_WORKERS: 'true', AUTOMATION_WORKERS: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', RATE_LIMIT_REFILL_PER_SECOND: '100000' },
    });
    const pid = trellis.pid!;
    const up = await post<any>(trellis, {
      query: 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken workspace { id } } }',
      variables: { i: { workspaceName: 'Load Co', name: 'Admin', email: 'admin@load.test', password: 'load test password' } },
    });
    const workspaceId = up.signUp.workspace.id as string;
    const adminServer = { ...trellis, headers: { authorization: `Bearer ${up.signUp.accessToken}` } };
    const keys: string[] = [];
    for (let i = 0; i < CLIENTS + SUBSCRIBERS; i++) {
      const k = await post<any>(adminServer, {
        query: `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }`,
        variables: { i: { name: `load ${i}`, scopes: ['READ', 'WRITE'] } },
      });
      keys.push(k.createApiKey.secret);
    }
    await post(adminServer, {
      query: 'mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }',
      variables: { i: { url: receiver.url, events: ['account.*', 'contact.*'] } },
    });

    // Something to read: 300 accounts, 600 contacts spread over them.
    const seed = { ...trellis, headers: { authorization: `Bearer ${keys[0]}` } };
    const accounts = await post<any>(seed, {
      query: `mutation($i: [UpsertAccountInput!]!) { upsertAccounts(inputs: $i) { results { id } } }`,
      variables: {
        i: Array.from({ length: 300 }, (_, n) => ({
          externalId: `ACC-${n}`,
          name: `Seed Account ${n}`,
          industry: ['Retail', 'Finance', 'Energy'][n % 3],
          employees: n,
        })),
      },
    });
    const accountIds: string[] = accounts.upsertAccounts.results.map((r: { id: string }) => r.id);
    await post(seed, {
      query: `mutation($i: [UpsertContactInput!]!) { upsertContacts(inputs: $i) { created } }`,
      variables: {
        i: Array.from({ length: 600 }, (_, n) => ({
          externalId: `SEED-${n}`,
          firstName: `Seed${n}`,
          lastName: `Person${n}`,
          email: `seed${n}@load.test`,
          accountExternalId: `ACC-${n % 300}`,
        })),
      },
    });

    for (let i = 0; i < SUBSCRIBERS; i++) listeners.push(await listen(trellis.url, keys[CLIENTS + i]));
    await sleep(1000);
    const [{ head }] = await owner<{ head: string }>(`SELECT coalesce(max(id), 0)::text AS head FROM event`);
    const afterGcStart = await heapAfterGc(inspectPort);
    const heapStartMb = afterGcStart.heapUsedMb;

    // The load.
    process.stderr.write(`load: ${CLIENTS} clients for ${SECONDS} s, ${SUBSCRIBERS} subscribers, one webhook endpoint\n`);
    const samples: Sample[] = [];
    const rss: { t: number; mb: number }[] = [];
    const started = Date.now();
    const deadline = started + SECONDS * 1000;
    rss.push({ t: 0, mb: rssMb(pid) });
    const sampler = setInterval(() => rss.push({ t: round((Date.now() - started) / 1000), mb: rssMb(pid) }), 1000);
    // In the middle: the heap after a full GC while under load (one pause of the server, some ms).
    let afterGcMiddle: Memory | undefined;
    const middleProbe = setTimeout(() => void heapAfterGc(inspectPort).then((m) => (afterGcMiddle = m)), (SECONDS * 1000) / 2);
    let upserts = 0;
    const client = async (c: number) => {
      const key = keys[c];
      let n = 0;
      while (Date.now() < deadline) {
        const kind = pick();
        const id = accountIds[Math.floor(Math.random() * accountIds.length)];
        const vars: Record<string, unknown> =
          kind === 'list'
            ? {}
            : kind === 'read'
              ? { id }
              : kind === 'search'
                ? { q: ['Seed Account', 'Person1', 'Load', 'Retail'][n % 4] }
                : kind === 'create'
                  ? { i: { name: `Load ${c}-${n}`, industry: 'Load', employees: n } }
                  : kind === 'update'
                    ? { id, i: { employees: Math.floor(Math.random() * 100_000) } }
                    : {
                        i: Array.from({ length: 20 }, (_, k) => ({
                          externalId: `UP-${c}-${upserts}-${k}`,
                          lastName: `Load${k}`,
                          accountExternalId: `ACC-${(n + k) % 300}`,
                        })),
                      };
        if (kind === 'upsert') upserts++;
        const t0 = performance.now();
        const r = await request(trellis!.url, key, Q[kind], vars);
        samples.push({ kind, ms: performance.now() - t0, outcome: r.outcome, status: r.status });
        if (kind === 'create' && r.data?.createAccount?.id) accountIds.push(r.data.createAccount.id);
        n++;
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    clearInterval(sampler);
    clearTimeout(middleProbe);
    const elapsed = (Date.now() - started) / 1000;
    const endMb = rssMb(pid);

    // Let the webhook backlog and the subscribers catch up (up to 60 s), then compare with what committed.
    const drainStarted = Date.now();
    let expectedEvents = 0;
    let deliveries = { total: 0, delivered: 0 };
    for (;;) {
      [{ n: expectedEvents }] = await owner<{ n: number }>(`SELECT count(*)::int AS n FROM event WHERE workspace_id = $1 AND id > $2`, [workspaceId, head]);
      [deliveries] = await owner<{ total: number; delivered: number }>(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'DELIVERED')::int AS delivered FROM webhook_delivery`,
      );
      const caughtUp =
        listeners.every((l) => l.ids.size >= expectedEvents) && deliveries.delivered === deliveries.total && receiver.ids.size >= deliveries.total;
      if (caughtUp || Date.now() - drainStarted > 60_000) break;
      await sleep(250);
    }
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    const settledMb = rssMb(pid);
    const afterGcEnd = await heapAfterGc(inspectPort);
    const heapEndMb = afterGcEnd.heapUsedMb;
    const heapMiddleMb = afterGcMiddle?.heapUsedMb ?? NaN;

    // Figures.
    const byKind: Record<string, { requests: number; errors: number; p50Ms: number; p99Ms: number; maxMs: number }> = {};
    for (const [kind] of MIX) {
      const s = samples.filter((x) => x.kind === kind);
      const ms = s.map((x) => x.ms).sort((a, b) => a - b);
      byKind[kind] = {
        requests: s.length,
        errors: s.filter((x) => x.outcome !== 'ok').length,
        p50Ms: round(percentile(ms, 50)),
        p99Ms: round(percentile(ms, 99)),
        maxMs: round(ms[ms.length - 1] ?? NaN),
      };
    }
    const all = samples.map((x) => x.ms).sort((a, b) => a - b);
    const reads = samples
      .filter((x) => READS.includes(x.kind))
      .map((x) => x.ms)
      .sort((a, b) => a - b);
    const writes = samples
      .filter((x) => !READS.includes(x.kind))
      .map((x) => x.ms)
      .sort((a, b) => a - b);
    const errorsByCode: Record<string, number> = {};
    for (const s of samples) if (s.outcome !== 'ok') errorsByCode[s.outcome] = (errorsByCode[s.outcome] ?? 0) + 1;
    const fiveXx = samples.filter((s) => s.status >= 500).length;
    const noAnswer = samples.filter((s) => s.status === 0).length;
    const middle = rss.reduce((best, x) => (Math.abs(x.t - SECONDS / 2) < Math.abs(best.t - SECONDS / 2) ? x : best), rss[0]);
    const startMb = rss[0].mb;
    // Stable: once the load is over and the backlogs drained, a full GC brings the heap back to within
    // 20 MB of where it was before the load (what a leak holds, a GC cannot give back), and RSS after
    // that GC to within 50% of its start. RSS under load is a sawtooth (V8 grows the heap, then
    // collects): its peaks per half are reported, not judged.
    const peak = (list: { mb: number }[]) => Math.max(...list.map((x) => x.mb));
    const firstHalfPeakMb = peak(rss.filter((x) => x.t <= SECONDS / 2));
    const secondHalfPeakMb = peak([...rss.filter((x) => x.t > SECONDS / 2), { mb: endMb }]);
    const memoryStable = heapEndMb - heapStartMb <= 20 && afterGcEnd.rssMb <= 1.5 * startMb;
    const subscriptions = listeners.map((l) => ({ received: l.received, unique: l.ids.size, errors: l.errors }));
    const result = {
      date: new Date().toISOString(),
      seconds: round(elapsed),
      clients: CLIENTS,
      subscribers: SUBSCRIBERS,
      mix: Object.fromEntries(MIX),
      requests: {
        total: samples.length,
        perSecond: round(samples.length / elapsed),
        ok: samples.filter((s) => s.outcome === 'ok').length,
        errors: samples.length - samples.filter((s) => s.outcome === 'ok').length,
      },
      errorsByCode,
      zeroFiveXx: fiveXx === 0 && noAnswer === 0,
      fiveXx,
      noAnswer,
      latency: {
        all: { p50Ms: round(percentile(all, 50)), p99Ms: round(percentile(all, 99)) },
        reads: { p50Ms: round(percentile(reads, 50)), p99Ms: round(percentile(reads, 99)) },
        writes: { p50Ms: round(percentile(writes, 50)), p99Ms: round(percentile(writes, 99)) },
        byKind,
      },
      events: { committed: expectedEvents, drainSeconds: round(drainSeconds) },
      webhooks: { deliveries: deliveries.total, delivered: deliveries.delivered, receivedRequests: receiver.requests(), receivedUnique: receiver.ids.size },
      subscriptions: {
        expectedEach: expectedEvents,
        each: subscriptions,
        allComplete: subscriptions.every((s) => s.unique >= expectedEvents && s.received === s.unique && s.errors === 0),
      },
      rss: {
        startMb,
        middleMb: middle.mb,
        endMb,
        afterDrainMb: settledMb,
        maxMb: Math.max(endMb, settledMb, ...rss.map((x) => x.mb)),
        firstHalfPeakMb,
        secondHalfPeakMb,
        samples: rss,
      },
      afterFullGc: { beforeLoad: afterGcStart, middle: afterGcMiddle ?? null, afterDrain: afterGcEnd },
      memoryStable,
    };

    console.log(
      `\nload: ${CLIENTS} clients for ${result.seconds} s against one Trellis (NODE_ENV=production), ${SUBSCRIBERS} subscribers, one webhook endpoint`,
    );
    console.log(
      `  requests: ${result.requests.total} (${result.requests.perSecond}/s), ok ${result.requests.ok}, errors ${result.requests.errors}${result.requests.errors ? ' ' + JSON.stringify(errorsByCode) : ''}`,
    );
    console.log(`  zero 5xx: ${result.zeroFiveXx ? 'yes' : `NO (${fiveXx} 5xx, ${noAnswer} without an answer)`}`);
    console.log(`  latency (ms)       requests   errors   p50     p99     max`);
    for (const [kind, k] of Object.entries(byKind))
      console.log(
        `    ${kind.padEnd(16)} ${String(k.requests).padStart(8)} ${String(k.errors).padStart(8)}   ${String(k.p50Ms).padEnd(7)} ${String(k.p99Ms).padEnd(7)} ${k.maxMs}`,
      );
    console.log(
      `    ${'all'.padEnd(16)} ${String(samples.length).padStart(8)} ${String(result.requests.errors).padStart(8)}   ${String(result.latency.all.p50Ms).padEnd(7)} ${result.latency.all.p99Ms}`,
    );
    console.log(`  events committed during the run: ${expectedEvents} (backlog drained in ${result.events.drainSeconds} s)`);
    console.log(
      `  webhooks: ${receiver.ids.size} unique deliveries received of ${deliveries.total} (${deliveries.delivered} DELIVERED), ${receiver.requests()} requests`,
    );
    console.log(
      `  subscriptions: ${SUBSCRIBERS} subscribers received ${subscriptions.map((s) => s.unique).join('/')} of ${expectedEvents} events each${result.subscriptions.allComplete ? ' (all, no duplicate, no error)' : ' (INCOMPLETE)'}`,
    );
    console.log(
      `  server RSS: start ${startMb} MB, middle ${middle.mb} MB, end ${endMb} MB, after drain ${settledMb} MB, max ${result.rss.maxMb} MB (peak ${firstHalfPeakMb} MB in the first half, ${secondHalfPeakMb} MB in the second)`,
    );
    console.log(
      `  server heap after a full GC: before the load ${heapStartMb} MB, middle ${heapMiddleMb} MB (under load), after the drain ${heapEndMb} MB (external ${afterGcStart.externalMb} -> ${afterGcEnd.externalMb} MB, RSS after that GC ${afterGcEnd.rssMb} MB); memory stable: ${memoryStable ? 'yes' : 'NO'}`,
    );
    const file = writeResult('load', result);
    console.log(`results written to ${file}`);
    if (!result.zeroFiveXx) process.exitCode = 1;
  } finally {
    for (const l of listeners) await l.client.dispose();
    await trellis?.stop();
    await receiver.close();
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
