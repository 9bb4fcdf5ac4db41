import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, type ServerName } from './config';

/** A server under test: a child process of its own (its own event loop), on a loopback port. */
export interface Server {
  name: ServerName;
  url: string;
  /** What authenticates a request to this server's workspace. */
  headers: Record<string, string>;
  /** The child's process id (for memory readings). */
  pid?: number;
  stop(): Promise<void>;
}

export interface Databases {
  ownerUrl: string;
  appUrl: string;
  /** The workers' role (WORKER_DATABASE_URL). */
  workerUrl: string;
}

export interface StartOptions {
  db: Databases;
  /** Where each child writes its stdout and stderr. */
  logDir: string;
  workspaceId: string;
  /** Trellis' API key (READ scope). */
  apiKey?: string;
  /** The database URL the servers' pools use, when not db.appUrl (the round-trip counting proxy). */
  appUrlOverride?: string;
  /** The built Trellis checkout to run. */
  trellisRoot: string;
  /** More environment for Trellis (e.g. WEBHOOK_ALLOW_PRIVATE_NETWORKS). */
  trellisEnv?: Record<string, string>;
}

export async function startServer(name: ServerName, o: StartOptions): Promise<Server> {
  const appUrl = o.appUrlOverride ?? o.db.appUrl;
  const port = await freePort();
  const tenant = { 'x-workspace-id': o.workspaceId };
  switch (name) {
    case 'trellis': {
      const env = {
        DATABASE_URL: appUrl,
        // Trellis applies its own migrations (on a fresh bench database, before the data is loaded).
        MIGRATION_DATABASE_URL: o.db.ownerUrl,
        WORKER_DATABASE_URL: o.db.workerUrl,
        JWT_SECRET: randomBytes(32).toString('hex'),
        LOG_LEVEL: 'silent',
        DEMO_SEED: 'false',
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        // Background workers poll the database: off unless a bench measures them, so that they
        // neither take CPU from the requests measured nor add to the round trips counted.
        WEBHOOK_WORKERS: 'false',
        AUTOMATION_WORKERS: 'false',
        // The load is one key at full speed: cost limits would measure themselves, not the server.
        RATE_LIMIT_REFILL_PER_SECOND: '0',
        // The benches sign their workspaces up from one address, run after run.
        SIGNUP_PER_ADDRESS: '1000000',
        SIGNUP_PER_WINDOW: '10000000',
        ...o.trellisEnv,
      };
      const url = `http://127.0.0.1:${port}/graphql`;
      const child = launch(name, [join(o.trellisRoot, 'dist/src/main.js')], env, o.logDir);
      await ready(child, name, `http://127.0.0.1:${port}/readyz`, o.logDir);
      return { name, url, headers: o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}, pid: child.pid, stop: () => stop(child) };
    }
    case 'postgraphile': {
      const dir = installPeer('postgraphile');
      const child = launch(name, [join(dir, 'server.mjs')], { DATABASE_URL: appUrl, PORT: String(port) }, o.logDir);
      await ready(child, name, `http://127.0.0.1:${port}/readyz`, o.logDir, 120_000);
      return { name, url: `http://127.0.0.1:${port}/graphql`, headers: tenant, stop: () => stop(child) };
    }
    case 'raw': {
      const child = launch(name, [join(__dirname, 'floor.js')], { DATABASE_URL: appUrl, PORT: String(port) }, o.logDir);
      await ready(child, name, `http://127.0.0.1:${port}/readyz`, o.logDir);
      return { name, url: `http://127.0.0.1:${port}/graphql`, headers: tenant, stop: () => stop(child) };
    }
  }
}

/**
 * A peer is installed from its pinned package.json and lockfile (under scripts/bench/peers/NAME) into
 * bench/peers/NAME with its own node_modules: it is never a dependency of the product.
 */
function installPeer(peer: string): string {
  const src = join(ROOT, 'scripts/bench/peers', peer);
  const dir = join(ROOT, 'bench/peers', peer);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(src)) copyFileSync(join(src, f), join(dir, f));
  const lock = readFileSync(join(dir, 'package-lock.json'), 'utf8');
  const stamp = join(dir, 'node_modules', '.bench-installed-lock');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lock) {
    process.stderr.write(`installing the ${peer} peer (npm ci in ${dir})...\n`);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    writeFileSync(stamp, lock);
  }
  return dir;
}

function launch(name: string, args: string[], env: Record<string, string>, logDir: string): ChildProcess {
  mkdirSync(logDir, { recursive: true });
  const log = openSync(join(logDir, `${name}.log`), 'a');
  // Only what the server needs from the harness' environment: no BENCH_* or npm_* variables.
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  // BENCH_NODE_ARGS profiles the servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  args = [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...args];
  return spawn(process.execPath, args, { env: { ...base, ...env }, stdio: ['ignore', log, log] });
}

async function ready(child: ChildProcess, name: string, url: string, logDir: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = readFileSync(join(logDir, `${name}.log`), 'utf8')
    .split('\n')
    .slice(-20)
    .join('\n');
  child.kill('SIGKILL');
  throw new Error(`${name} did not become ready (exit code ${child.exitCode}); its log ends with:\n${tail}`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
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

/** One GraphQL (or floor) request; any `errors` in the answer is a failure. */
export async function post<T = Record<string, unknown>>(server: Pick<Server, 'url' | 'headers' | 'name'>, body: unknown): Promise<T> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...server.headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: { data?: T; errors?: unknown[] };
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${server.name}: HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  if (!res.ok || json.errors || !json.data) throw new Error(`${server.name}: HTTP ${res.status}: ${JSON.stringify(json.errors ?? json).slice(0, 600)}`);
  return json.data;
}
