import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { isPublicAddress } from '../src/modules/webhooks/ssrf-guard';
import { RETRY_SCHEDULE_MS } from '../src/modules/webhooks/webhook-worker';
import { signUp, startSecondInstance, startTestApp, type SignedUp, type TestApp } from './helpers/app';
import { startReceiver, type Receiver } from './helpers/receiver';
import {
  collapse,
  CREATE_ACCOUNT,
  CREATE_ENDPOINT,
  createAccount,
  createEndpoint,
  DELETE_ENDPOINT,
  deliveries,
  type DeliveryRow,
  eventsByRecord,
  receivedByRecord,
  until,
  UPDATE_ACCOUNT,
} from './helpers/webhooks';

// Point 7 of issue #6 with the real workers of real servers: timeouts, the SSRF guard (at
// registration and at connect time), a server killed with SIGKILL during deliveries and restarted,
// and the order per record with two instances sending. The fake-clock cases: webhooks-reliability.test.ts.

const MAIN = join(__dirname, '..', 'src', 'main.js');

async function ok<T = any>(p: Promise<{ data: T; errors?: unknown }>): Promise<T> {
  const r = await p;
  expect(r.errors).toBeUndefined();
  return r.data;
}

describe('webhook timeouts (WEBHOOK_TIMEOUT_MS=500, real workers)', () => {
  let t: TestApp;
  let admin: SignedUp;
  let rx: Receiver;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_TIMEOUT_MS: '500', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    admin = await signUp(t, 'Timeouts');
    rx = await startReceiver();
  });
  afterAll(async () => {
    await t.close();
    await rx.close();
  });

  it('gives up on a receiver that never answers, records "timed out", and retries', async () => {
    let answering = false;
    rx.respond = (_req, res) => {
      if (answering) res.writeHead(200).end('ok');
      // Otherwise: never answered.
    };
    const ep = await createEndpoint(t, admin, { url: rx.url });
    await createAccount(t, admin, 'Hanging');
    let d!: DeliveryRow;
    await until('the first attempt to be recorded', async () => ((d = (await deliveries(t, ep))[0])?.attempts ?? 0) >= 1);
    expect(d).toMatchObject({ status: 'PENDING', attempts: 1, last_status_code: null, last_error: 'timed out' });
    expect(d.last_duration_ms).toBeGreaterThanOrEqual(450);
    expect(d.last_duration_ms).toBeLessThan(2000);
    // The next attempt is due on the schedule (5 s, with up to 10% jitter).
    const wait = d.next_attempt_at!.getTime() - d.last_attempt_at!.getTime();
    expect(wait).toBeGreaterThanOrEqual(RETRY_SCHEDULE_MS[1] * 0.9 - 1);
    expect(wait).toBeLessThanOrEqual(RETRY_SCHEDULE_MS[1] * 1.1 + 1);

    answering = true;
    await until('the retry to be delivered', async () => (d = (await deliveries(t, ep))[0]).status === 'DELIVERED', 10_000);
    expect(d).toMatchObject({ attempts: 2, last_status_code: 200, last_error: null });
    expect(rx.received).toHaveLength(2);
    expect(rx.received[1].headers['webhook-id']).toBe(rx.received[0].headers['webhook-id']);
    await t.gql(DELETE_ENDPOINT, { id: ep }, admin.accessToken);
  });

  it('limits the whole attempt: an answer that trickles its body forever times out too', async () => {
    const timers: NodeJS.Timeout[] = [];
    rx.received.length = 0;
    rx.respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // One byte every 100 ms: never idle for the body timeout, never done.
      const timer = setInterval(() => res.write('.'), 100);
      timers.push(timer);
      res.on('close', () => clearInterval(timer));
    };
    try {
      const ep = await createEndpoint(t, admin, { url: rx.url });
      await createAccount(t, admin, 'Trickled');
      let d!: DeliveryRow;
      await until('the attempt to be recorded', async () => ((d = (await deliveries(t, ep))[0])?.attempts ?? 0) >= 1);
      expect(d).toMatchObject({ status: 'PENDING', attempts: 1, last_error: 'timed out' });
      expect(d.last_duration_ms).toBeLessThan(2000);
      await t.gql(DELETE_ENDPOINT, { id: ep }, admin.accessToken);
    } finally {
      timers.forEach(clearInterval);
    }
  });
});

describe('SSRF guard (private networks not allowed: the default)', () => {
  let t: TestApp;
  let admin: SignedUp;
  let tcp: TcpServer;
  let connections = 0;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_TIMEOUT_MS: '1000' });
    admin = await signUp(t, 'No Internal Calls');
    // A listener on 127.0.0.1 that counts every TCP connection made to it (not only HTTP requests).
    tcp = createTcpServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => tcp.close(resolve));
  });

  it('refuses private, loopback, link-local and reserved addresses at registration', async () => {
    const refused = [
      'http://127.0.0.1/hook',
      'https://127.0.0.1/hook',
      'https://10.0.0.1/',
      'https://192.168.1.10/hook',
      'https://[::1]/',
      'https://169.254.169.254/latest/meta-data/',
      'https://100.64.0.1/',
      'https://[fd00::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://0x7f000001/',
      'https://0.0.0.0/',
    ];
    for (const url of refused) {
      const r = await t.gql(CREATE_ENDPOINT, { i: { url, events: ['account.*'] } }, admin.accessToken);
      expect([url, r.errors?.[0].extensions.code, r.errors?.[0].extensions.fields?.[0].field]).toEqual([url, 'BAD_USER_INPUT', 'input.url']);
    }
    expect((await t.gql(`{ webhookEndpoints { id } }`, {}, admin.accessToken)).data.webhookEndpoints).toEqual([]);
    // A public address is accepted (the guard is not refusing everything).
    const ok = await t.gql(CREATE_ENDPOINT, { i: { url: 'https://8.8.8.8/hook', events: ['opportunity.won'] } }, admin.accessToken);
    expect(ok.errors).toBeUndefined();
    await t.gql(DELETE_ENDPOINT, { id: ok.data.createWebhookEndpoint.endpoint.id }, admin.accessToken);
  });

  it('accepts a name that resolves to 127.0.0.1, and refuses it when connecting: nothing reaches the listener', async () => {
    const port = (tcp.address() as AddressInfo).port;
    const ep = await createEndpoint(t, admin, { url: `https://localhost:${port}/hook` });
    await createAccount(t, admin, 'Rebound');
    let d!: DeliveryRow;
    await until('the attempt to be recorded', async () => ((d = (await deliveries(t, ep))[0])?.attempts ?? 0) >= 1);
    expect(d).toMatchObject({ status: 'PENDING', attempts: 1, last_status_code: null });
    expect(d.last_error).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a private or reserved address/);
    expect(connections).toBe(0);

    // An IP literal stored before the rule applied (say) is refused when sending too.
    await t.sql(`UPDATE webhook_endpoint SET url = $2 WHERE id = $1`, [ep, `https://127.0.0.1:${port}/hook`]);
    await t.sql(`UPDATE webhook_delivery SET next_attempt_at = now() WHERE endpoint_id = $1`, [ep]);
    await until('the second attempt to be recorded', async () => (d = (await deliveries(t, ep))[0]).attempts >= 2);
    expect(d.last_error).toMatch(/^127\.0\.0\.1 is a private or reserved address/);
    expect(connections).toBe(0);
    await t.gql(DELETE_ENDPOINT, { id: ep }, admin.accessToken);
  });

  it('isPublicAddress judges the address, including IPv4 carried in IPv6', () => {
    const cases: [string, boolean][] = [
      ['8.8.8.8', true],
      ['2001:4860:4860::8888', true],
      ['127.0.0.1', false],
      ['::ffff:127.0.0.1', false],
      ['::ffff:10.0.0.1', false],
      ['::ffff:8.8.8.8', true],
      ['100.64.0.1', false],
      ['fd00::1', false],
      ['fe80::1', false],
      ['::1', false],
      ['169.254.169.254', false],
      ['10.1.2.3', false],
      ['172.16.0.1', false],
      ['192.168.0.1', false],
      ['0.0.0.0', false],
      ['224.0.0.1', false],
      ['255.255.255.255', false],
      ['not an address', false],
    ];
    expect(cases.map(([a]) => [a, isPublicAddress(a)])).toEqual(cases);
  });
});

describe('webhooks survive SIGKILL of the server', () => {
  let t: TestApp;
  let admin: SignedUp;
  let rx: Receiver;
  const children: ChildProcess[] = [];

  /** Trellis as a real process on the test database, sending webhooks (1 s timeout, so a 3 s lease). */
  function startTrellis(): ChildProcess {
    const child = spawn(process.execPath, [MAIN], {
      cwd: join(__dirname, '..', '..'),
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: t.db.appUrl,
        MIGRATION_DATABASE_URL: t.db.ownerUrl,
        WORKER_DATABASE_URL: t.db.workerUrl,
        JWT_SECRET: t.config.jwtSecret,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        DEMO_SEED: 'false',
        NODE_ENV: 'test',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        WEBHOOK_TIMEOUT_MS: '1000',
        WEBHOOK_CONCURRENCY: '8',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  }
  const exited = (c: ChildProcess) =>
    new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));

  beforeAll(async () => {
    // This process only writes: its own webhook workers are off.
    t = await startTestApp({ WEBHOOK_WORKERS: 'false', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    admin = await signUp(t, 'Crash Test');
    rx = await startReceiver();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await t.close();
    await rx.close();
  });

  it('every event still arrives after a SIGKILL mid-way; a duplicate carries the same webhook-id', async () => {
    // eslint-disable-next-line prefer-const -- the receiver below reads it; the server is started after
    let first: ChildProcess | undefined;
    rx.respond = (req, res) => {
      if (req.json.type === 'account.updated' && !first!.killed) {
        // Killed while this request (and others) are in flight: it is never answered nor recorded, and
        // the next events of its record, queued behind it, must wait until it is sent again.
        first!.kill('SIGKILL');
        return;
      }
      setTimeout(() => res.writeHead(200).end('ok'), 10 + Math.random() * 20);
    };
    await ok(t.gql(CREATE_ENDPOINT, { i: { url: rx.url, events: ['account.*'] } }, admin.accessToken));

    // 100 accounts, 10 of them updated 3 times, before the server starts; 50 more accounts and 2 more
    // rounds of updates while it runs, is killed, and is down.
    const ids: string[] = [];
    const create = async (n: number, from: number) => {
      for (let i = 0; i < n; i += 10) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, (_, j) => ok(t.gql(CREATE_ACCOUNT, { i: { name: `Crash ${from + i + j}` } }, admin.accessToken))),
        );
        ids.push(...batch.map((d) => d.createAccount.id));
      }
    };
    // A record's updates one after the other, so that they queue next to each other.
    const update = async (rounds: number, from: number) => {
      for (const id of ids.slice(0, 10)) {
        for (let round = from; round < from + rounds; round++) await ok(t.gql(UPDATE_ACCOUNT, { id, i: { employees: round + 1 } }, admin.accessToken));
      }
    };
    await create(100, 0);
    await update(3, 0);
    first = startTrellis();
    const writing = (async () => {
      await create(50, 100);
      await update(2, 3);
    })();

    await until('the first server to be killed', () => first!.signalCode === 'SIGKILL', 20_000);
    await exited(first);
    const [{ pending }] = await t.sql<{ pending: number }>(`SELECT count(*)::int AS pending FROM webhook_delivery WHERE status = 'PENDING'`);
    expect(pending).toBeGreaterThan(0);

    const second = startTrellis();
    await writing;
    const commit = await eventsByRecord(t, admin.workspaceId);
    const all = [...commit.values()].flat();
    expect(all).toHaveLength(200);
    await until('every event at the receiver', () => new Set(rx.received.map((r) => String(r.headers['webhook-id']))).size >= all.length);
    await until('every delivery recorded', async () => (await t.sql(`SELECT 1 FROM webhook_delivery WHERE status <> 'DELIVERED'`)).length === 0);
    second.kill('SIGTERM');
    await exited(second);

    // Every event arrived, and nothing else; each request's webhook-id is its event's id.
    const got = rx.received.map((r) => String(r.headers['webhook-id']));
    expect([...new Set(got)].sort()).toEqual([...all].sort());
    for (const r of rx.received) expect(r.json.data.id).toBe(r.headers['webhook-id']);
    // Duplicates: only what was in flight when the server died (at most its concurrency), and at least the unanswered one.
    const dups = got.length - new Set(got).size;
    expect(dups).toBeGreaterThanOrEqual(1);
    expect(dups).toBeLessThanOrEqual(8);
    // A duplicate is the same request again: same id, same body.
    const bodies = new Map<string, string>();
    for (const r of rx.received) {
      const id = String(r.headers['webhook-id']);
      if (bodies.has(id)) expect(r.body).toBe(bodies.get(id));
      bodies.set(id, r.body);
    }
    // In order per record, across the crash.
    const arrived = receivedByRecord(rx.received);
    for (const [record, events] of commit) expect([record, collapse(arrived.get(record)!)]).toEqual([record, events]);
  });
});

describe('order per record with two instances sending', () => {
  let t: TestApp;
  let admin: SignedUp;
  let rx: Receiver;
  let other: Awaited<ReturnType<typeof startSecondInstance>>;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    other = await startSecondInstance(t, { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    admin = await signUp(t, 'Two Instances');
    rx = await startReceiver();
  });
  afterAll(async () => {
    await other.close();
    await t.close();
    await rx.close();
  });

  it('delivers each record’s events in commit order while the workers of both instances claim and send', async () => {
    // Answers held until every event is written (so each record has a queue), then after 0-15 ms each.
    let open = false;
    const held: (() => void)[] = [];
    rx.respond = (_req, res) => {
      const answer = () => setTimeout(() => res.writeHead(200).end('ok'), Math.floor(Math.random() * 15));
      if (open) answer();
      else held.push(answer);
    };
    await ok(t.gql(CREATE_ENDPOINT, { i: { url: rx.url, events: ['account.*'] } }, admin.accessToken));
    const ids = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => (await ok(t.gql(CREATE_ACCOUNT, { i: { name: `Busy ${i}` } }, admin.accessToken))).createAccount.id as string),
    );
    // 20 updates of each record, all records at once, written through both instances.
    const viaOther = (query: string, variables: Record<string, unknown>) =>
      fetch(`${other.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.accessToken}` },
        body: JSON.stringify({ query, variables }),
      }).then((r) => r.json() as Promise<{ data: any; errors?: unknown }>);
    await Promise.all(
      ids.map(async (id, i) => {
        for (let n = 0; n < 20; n++) {
          const variables = { id, i: { employees: n + 1 } };
          await ok((n + i) % 2 ? t.gql(UPDATE_ACCOUNT, variables, admin.accessToken) : viaOther(UPDATE_ACCOUNT, variables));
        }
      }),
    );
    const commit = await eventsByRecord(t, admin.workspaceId);
    const all = [...commit.values()].flat();
    expect(all).toHaveLength(5 * 21);
    // Held meanwhile: one request per record, its first event; the rest wait behind it.
    await until('the first event of each record', () => rx.received.length >= ids.length);
    expect(rx.received.map((r) => String(r.headers['webhook-id'])).sort()).toEqual([...commit.values()].map((e) => e[0]).sort());
    open = true;
    held.splice(0).forEach((answer) => answer());
    await until('every event at the receiver', () => new Set(rx.received.map((r) => String(r.headers['webhook-id']))).size >= all.length, 15_000);
    await until('every delivery recorded', async () => (await t.sql(`SELECT 1 FROM webhook_delivery WHERE status <> 'DELIVERED'`)).length === 0);
    // Each once, in order per record.
    expect(rx.received).toHaveLength(all.length);
    const arrived = receivedByRecord(rx.received);
    for (const [record, events] of commit) expect([record, arrived.get(record)]).toEqual([record, events]);
  });
});
