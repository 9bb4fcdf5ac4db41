import { createServer, connect, type Server, type Socket } from 'node:net';
import { TenantTransaction } from '../src/db/tenant-transaction';
import { isDatabaseUnavailable } from '../src/db/unavailable';
import { apiKey, signUp, startTestAppOn, type SignedUp, type TestApp } from './helpers/app';
import { createTestDatabase } from './helpers/db';

/**
 * A TCP proxy between Trellis and its PostgreSQL that a test can break: stop listening (connection
 * refused), reset connections when they next send (connection terminated), or accept connections and
 * never answer (a connect timeout, and the pool's wait timing out behind it).
 */
class BreakableProxy {
  port = 0;
  /** pass: forward; reset: drop a connection as soon as the client sends; blackhole: accept new connections, answer nothing. */
  mode: 'pass' | 'reset' | 'blackhole' = 'pass';
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Stops listening (new connections are refused) and cuts every open connection. */
  async down(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    this.cutAll();
    await closed;
  }

  cutAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.mode === 'blackhole') {
      client.on('data', () => undefined);
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d) => (this.mode === 'reset' ? cut() : upstream.write(d)));
    upstream.on('data', (d) => client.write(d));
    client.on('close', cut);
    upstream.on('close', cut);
  }
}

interface Answer {
  status: number;
  retryAfter: string | null;
  text: string;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** A database outage is answered 503 SERVICE_UNAVAILABLE with Retry-After, without a stack trace. */
describe('the database unreachable', () => {
  let t: TestApp;
  let proxy: BreakableProxy;
  let admin: SignedUp;
  let key: string;

  beforeAll(async () => {
    const db = await createTestDatabase();
    const direct = new URL(db.appUrl);
    proxy = new BreakableProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    await proxy.up();
    const proxied = new URL(db.appUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    t = await startTestAppOn(
      { ...db, appUrl: proxied.toString() },
      { DB_POOL_SIZE: '2', DB_CONNECT_TIMEOUT_MS: '1000', WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false' },
    );
    admin = await signUp(t, 'Outage Co');
    key = (await apiKey(t, admin, ['READ', 'WRITE'])).secret;
  });
  afterAll(async () => {
    proxy.mode = 'pass';
    await proxy.down().catch(() => undefined);
    await t?.close();
  });

  const READ = `{ accounts(first: 5) { totalCount } }`;
  const post = async (query: string, token?: string, variables: Record<string, unknown> = {}): Promise<Answer> => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return { status: res.status, retryAfter: res.headers.get('retry-after'), text, body: JSON.parse(text) };
  };
  const expectUnavailable = (a: Answer) => {
    expect({ status: a.status, retryAfter: a.retryAfter, codes: a.body.errors?.map((e) => e.extensions?.code) }).toEqual({
      status: 503,
      retryAfter: '5',
      codes: ['SERVICE_UNAVAILABLE'],
    });
    expect(a.body.errors![0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 5 });
    expect(a.body.errors![0].message).toMatch(/temporarily unavailable.*retry/);
    expect(a.text).not.toMatch(/stacktrace|ECONNREFUSED|terminated|timeout exceeded|\bat .*\.js:\d+/);
  };
  /** The pool has let go of its broken connections: a request succeeds again. */
  const recovers = async () => {
    proxy.mode = 'pass';
    const deadline = Date.now() + 15_000;
    for (;;) {
      const a = await post(READ, admin.accessToken);
      if (a.status === 200 && !a.body.errors) return;
      if (Date.now() > deadline) throw new Error(`no recovery: ${a.status} ${a.text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('connection refused: 503 whether credentials are being checked, a resolver or a sign-up reaches for the database; /readyz and /intake too', async () => {
    expect((await post(READ, admin.accessToken)).status).toBe(200);
    expect((await post(READ, key)).status).toBe(200); // the key is now cached: its next request reaches the database in the resolver
    const intakeToken = ((await post(`mutation { rotateIntakeToken }`, admin.accessToken)).body.data as { rotateIntakeToken: string }).rotateIntakeToken;
    await proxy.down();
    try {
      expectUnavailable(await post(READ, admin.accessToken)); // checking the user's token
      expectUnavailable(await post(READ, key)); // in the resolver's transaction
      expectUnavailable(await post(`mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }`, key, { i: { name: 'Lost' } }));
      expectUnavailable(
        await post(`mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }`, undefined, {
          i: { workspaceName: 'Nope', name: 'N', email: `nope-${Date.now()}@example.com`, password: 'correct horse battery staple' },
        }),
      );
      const ready = await fetch(`${t.url}/readyz`);
      expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 503, body: { status: 'database unreachable' } });
      // /healthz says so too (its probe is reused for two seconds: within a few).
      let health = await fetch(`${t.url}/healthz`);
      for (let i = 0; i < 50 && health.status === 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        health = await fetch(`${t.url}/healthz`);
      }
      expect({ status: health.status, body: ((await health.json()) as { status: string }).status }).toEqual({ status: 503, body: 'database unreachable' });
      const intake = await fetch(`${t.url}/intake/${intakeToken}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ lastName: 'Form' }),
      });
      expect({
        status: intake.status,
        retryAfter: intake.headers.get('retry-after'),
        code: ((await intake.json()) as { error: { code: string } }).error.code,
      }).toEqual({ status: 503, retryAfter: '5', code: 'SERVICE_UNAVAILABLE' });
    } finally {
      await proxy.up();
    }
    await recovers();
    expect(await t.sql(`SELECT 1 FROM account WHERE name = 'Lost'`)).toEqual([]);
    let health = await fetch(`${t.url}/healthz`);
    for (let i = 0; i < 50 && health.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      health = await fetch(`${t.url}/healthz`);
    }
    expect(health.status).toBe(200);
  });

  it('connection terminated under a request: 503', async () => {
    await recovers(); // the pool holds live connections
    proxy.mode = 'reset';
    expectUnavailable(await post(READ, admin.accessToken));
    expectUnavailable(await post(`mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }`, key, { i: { name: 'Cut' } }));
    await recovers();
  });

  it('a transaction whose connection is lost between two statements says so (an outage), in its next statement and its commit', async () => {
    await recovers();
    const tx = new TenantTransaction(t.ds, admin.workspaceId);
    expect(await tx.query(`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
    proxy.cutAll(); // idle in transaction: the driver learns of it from the socket, and lets the connection go
    await new Promise((r) => setTimeout(r, 100));
    const next = await tx.query(`SELECT 2`).catch((err: unknown) => err);
    expect([String(next), isDatabaseUnavailable(next)]).toEqual(['Error: Connection terminated: the database connection of this transaction was lost', true]);
    const commit = await tx.commit().catch((err: unknown) => err);
    expect(isDatabaseUnavailable(commit)).toBe(true);
    await recovers();
  });

  it('no connection within DB_CONNECT_TIMEOUT_MS (the server does not answer; the pool’s queue waits behind it): 503 in about that time', async () => {
    proxy.cutAll();
    proxy.mode = 'blackhole';
    const started = Date.now();
    // A pool of 2: two requests wait on connections that never open, the others for a free one.
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(READ, key)));
    const took = Date.now() - started;
    answers.forEach(expectUnavailable);
    expect(took).toBeLessThan(10_000);
    proxy.cutAll();
    await recovers();
  });

  it('an error that is not an outage stays what it was', async () => {
    const a = await post(`{ account(id: "00000000-0000-4000-8000-000000000000") { id } }`, key);
    expect({ status: a.status, codes: a.body.errors?.map((e) => e.extensions?.code), retryAfter: a.retryAfter }).toEqual({
      status: 200,
      codes: ['NOT_FOUND'],
      retryAfter: null,
    });
  });
});
