import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../src/kernel/config';

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const A_SECRET = 'a-secret-that-is-long-enough-0123456789';

const scratch = mkdtempSync(join(tmpdir(), 'trellis-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
/** A path in the scratch folder that does not exist yet. */
const newDir = () => join(scratch, `d${++n}`);

/** Invalid settings, and the one each error must name. */
const INVALID: [string, Record<string, string>, string][] = [
  ['PORT not a number', { PORT: 'abc' }, 'PORT'],
  ['PORT out of range', { PORT: '70000' }, 'PORT'],
  ['PORT not an integer', { PORT: '8080.5' }, 'PORT'],
  ['production without JWT_SECRET (embedded)', { NODE_ENV: 'production' }, 'JWT_SECRET'],
  ['production without JWT_SECRET (DATABASE_URL)', { NODE_ENV: 'production', DATABASE_URL: 'postgres://trellis@127.0.0.1:5432/trellis' }, 'JWT_SECRET'],
  ['DATABASE_URL without JWT_SECRET', { DATABASE_URL: 'postgres://trellis@127.0.0.1:5432/trellis' }, 'JWT_SECRET'],
  ['JWT_SECRET too short', { JWT_SECRET: 'short-s3cret-value' }, 'JWT_SECRET'],
  ['DATABASE_URL not a URL', { DATABASE_URL: 'not-a-url' }, 'DATABASE_URL'],
  ['DATABASE_URL not a URL, with a password in it', { DATABASE_URL: 'postgres//trellis:hunter2-pw@db/trellis', JWT_SECRET: A_SECRET }, 'DATABASE_URL'],
  ['MIGRATION_DATABASE_URL not a URL', { MIGRATION_DATABASE_URL: 'nope' }, 'MIGRATION_DATABASE_URL'],
  ['DATABASE_URL without WORKER_DATABASE_URL', { DATABASE_URL: 'postgres://trellis@127.0.0.1:5432/trellis', JWT_SECRET: A_SECRET }, 'WORKER_DATABASE_URL'],
  ['WORKER_DATABASE_URL not a URL', { WORKER_DATABASE_URL: 'nope' }, 'WORKER_DATABASE_URL'],
  ['NODE_ENV unknown', { NODE_ENV: 'staging' }, 'NODE_ENV'],
  ['LOG_LEVEL unknown', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ['DEMO_SEED not a boolean', { DEMO_SEED: 'yes' }, 'DEMO_SEED'],
  ['MAX_QUERY_DEPTH below its minimum', { MAX_QUERY_DEPTH: '1' }, 'MAX_QUERY_DEPTH'],
  ['DB_POOL_SIZE zero', { DB_POOL_SIZE: '0' }, 'DB_POOL_SIZE'],
  ['WEB_CONCURRENCY not a whole number', { WEB_CONCURRENCY: 'auto' }, 'WEB_CONCURRENCY'],
  ['TRUST_PROXY not an address', { TRUST_PROXY: 'loopback, proxy.internal' }, 'TRUST_PROXY'],
  ['TRUST_PROXY with a prefix too long', { TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
  ['API_KEY_CACHE_MS negative', { API_KEY_CACHE_MS: '-1' }, 'API_KEY_CACHE_MS'],
  ['EXPLORER not a boolean', { EXPLORER: 'on' }, 'EXPLORER'],
  ['SIGNUP neither open nor closed', { SIGNUP: 'invite-only' }, 'SIGNUP'],
  ['LOGIN_MAX_ACCOUNTS_PER_EMAIL zero', { LOGIN_MAX_ACCOUNTS_PER_EMAIL: '0' }, 'LOGIN_MAX_ACCOUNTS_PER_EMAIL'],
];

/** Values from INVALID that must never be echoed back (secrets and credentials). */
const NEVER_ECHOED = ['short-s3cret-value', 'hunter2-pw'];

function run(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const p = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // An invalid configuration must not get as far as starting: if it does, stop it and report.
  const guard = setTimeout(() => p.kill('SIGKILL'), 20_000);
  return new Promise((res) =>
    p.once('close', (code, signal) => {
      clearTimeout(guard);
      res({ code, signal, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

describe('an invalid configuration stops the process before it starts anything', () => {
  it.each(INVALID)('%s', async (_name, env, setting) => {
    const dataDir = newDir();
    const r = await run({ TRELLIS_DATA_DIR: dataDir, ...env });
    expect(r.signal).toBeNull(); // it exited by itself (the guard did not have to kill it)
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    // Exactly one line on stderr, naming the setting; no stack, no log output.
    expect(r.stderr.endsWith('\n')).toBe(true);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`\\b${setting}\\b`));
    expect(lines[0]).not.toMatch(/\bat .+:\d+|Error:|[{}]/);
    for (const s of NEVER_ECHOED) expect(lines[0]).not.toContain(s);
    expect(r.stdout).toBe('');
    // Nothing was started or written: the data folder was never created.
    expect(existsSync(dataDir)).toBe(false);
  });

  it('reports one problem at a time when several settings are wrong', async () => {
    const r = await run({ TRELLIS_DATA_DIR: newDir(), PORT: 'abc', LOG_LEVEL: 'loud', NODE_ENV: 'staging' });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/\b(PORT|LOG_LEVEL|NODE_ENV)\b/);
  });
});

describe('loadConfig', () => {
  it('has the documented defaults, and runs embedded when no DATABASE_URL is given', () => {
    const dataDir = newDir();
    const c = loadConfig({ TRELLIS_DATA_DIR: dataDir });
    const { jwtSecret, ...rest } = c;
    expect(rest).toEqual({
      env: 'development',
      exposeErrorDetails: false,
      port: 4000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      migrationDatabaseUrl: undefined,
      embedded: true,
      dataDir,
      logLevel: 'info',
      webConcurrency: 1,
      dbPoolSize: 10,
      dbConnectTimeoutMs: 10000,
      accessTokenTtlSeconds: 900,
      changeFeedRetentionDays: 30,
      apiKeyCacheMs: 5000,
      refreshTokenTtlDays: 30,
      refreshTokenReuseGraceSeconds: 0,
      limits: { depth: 12, aliases: 30, directives: 50, tokens: 5000, cost: 50000, bodyBytes: 1_000_000, rowsPerRequest: 100_000, responseBytes: 20_000_000 },
      persistedQueriesCacheBytes: 10_000_000,
      tenancy: {
        statementTimeoutMs: 15_000,
        workerStatementTimeoutMs: 300_000,
        maxConnectionsPerWorkspace: 0,
        heavyWorkspaceSeconds: 5,
        lowPriorityAfterMs: 50,
        parallelWorkersPerQuery: 0,
        importJobsPerWorkspace: 1,
      },
      ws: { maxSubscriptionsPerConnection: 50, maxConnectionsPerCredential: 100, initTimeoutMs: 10_000, keepAliveMs: 12_000, maxQueue: 1000 },
      webhooks: { allowPrivateNetworks: false, timeoutMs: 10_000, concurrency: 64, workers: true },
      smtp: { url: undefined, from: 'Trellis <no-reply@trellis.local>' },
      automation: { workers: true, catchUpHours: 24 },
      rateLimits: { capacity: 1_000_000, refillPerSecond: 100_000, loginPerAccount: 10, loginPerAddress: 100, loginWindowSeconds: 900 },
      demoSeed: true,
      runMigrations: true,
      explorer: true,
      trustProxy: false,
      signUp: { open: true, perAddress: 10, perWindow: 1000, windowSeconds: 3600 },
      loginMaxAccountsPerEmail: 5,
      intake: { perAddressPerMinute: 10, perFormPerMinute: 300 },
      automationEmailsPerDay: 1000,
    });
    expect(jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.limits)).toBe(true);
  });

  it('keeps the data folder in the project by default, and makes a relative one absolute', () => {
    // With a JWT_SECRET given nothing is written, so these do not touch the project folder.
    expect(loadConfig({ JWT_SECRET: A_SECRET }).dataDir).toBe(join(ROOT, '.data'));
    expect(loadConfig({ JWT_SECRET: A_SECRET, TRELLIS_DATA_DIR: 'some/relative' }).dataDir).toBe(resolve(process.cwd(), 'some/relative'));
  });

  it('reads numbers and booleans from their text', () => {
    const c = loadConfig({
      TRELLIS_DATA_DIR: newDir(),
      JWT_SECRET: A_SECRET,
      PORT: '8080',
      HOST: '127.0.0.1',
      MAX_QUERY_DEPTH: '20',
      MAX_QUERY_COST: '1234',
      DB_POOL_SIZE: '3',
      DEMO_SEED: 'false',
      MIGRATIONS_RUN: '0',
      LOG_LEVEL: 'warn',
    });
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dbPoolSize: 3,
      demoSeed: false,
      runMigrations: false,
      logLevel: 'warn',
      limits: { depth: 20, cost: 1234 },
    });
    expect(loadConfig({ TRELLIS_DATA_DIR: newDir(), JWT_SECRET: A_SECRET, DEMO_SEED: '1', MIGRATIONS_RUN: 'true' })).toMatchObject({
      demoSeed: true,
      runMigrations: true,
    });
    // PORT=0 is allowed: the system picks a free port.
    expect(loadConfig({ TRELLIS_DATA_DIR: newDir(), JWT_SECRET: A_SECRET, PORT: '0' }).port).toBe(0);
  });

  it('embedded: generates the JWT secret once and keeps it in the data folder, readable by its owner only', () => {
    const dataDir = join(newDir(), 'nested', 'data');
    const first = loadConfig({ TRELLIS_DATA_DIR: dataDir });
    const file = join(dataDir, 'jwt-secret');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.jwtSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadConfig({ TRELLIS_DATA_DIR: dataDir });
    expect(second.jwtSecret).toBe(first.jwtSecret);
    // Another data folder, another secret.
    expect(loadConfig({ TRELLIS_DATA_DIR: newDir() }).jwtSecret).not.toBe(first.jwtSecret);
  });

  it('embedded: a secret already in the data folder is used as it is', () => {
    const dataDir = newDir();
    loadConfig({ TRELLIS_DATA_DIR: dataDir }); // creates the folder
    writeFileSync(join(dataDir, 'jwt-secret'), 'kept-secret-kept-secret-kept-secret-0000\n');
    expect(loadConfig({ TRELLIS_DATA_DIR: dataDir }).jwtSecret).toBe('kept-secret-kept-secret-kept-secret-0000');
  });

  it('a JWT_SECRET given is used and nothing is written to the data folder', () => {
    const dataDir = newDir();
    expect(loadConfig({ TRELLIS_DATA_DIR: dataDir, JWT_SECRET: A_SECRET }).jwtSecret).toBe(A_SECRET);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('with DATABASE_URL: not embedded, migrations use DATABASE_URL unless MIGRATION_DATABASE_URL is set', () => {
    const url = 'postgres://trellis_app:pw@db.internal:5432/trellis';
    const owner = 'postgres://trellis_owner:pw@db.internal:5432/trellis';
    const workers = 'postgres://trellis_workers:pw@db.internal:5432/trellis';
    const c = loadConfig({ NODE_ENV: 'production', DATABASE_URL: url, WORKER_DATABASE_URL: workers, JWT_SECRET: A_SECRET });
    expect(c).toMatchObject({
      env: 'production',
      embedded: false,
      databaseUrl: url,
      migrationDatabaseUrl: url,
      workerDatabaseUrl: workers,
      jwtSecret: A_SECRET,
    });
    expect(loadConfig({ DATABASE_URL: url, MIGRATION_DATABASE_URL: owner, WORKER_DATABASE_URL: workers, JWT_SECRET: A_SECRET }).migrationDatabaseUrl).toBe(
      owner,
    );
  });

  it('EXPLORER: on by default, off in production unless EXPLORER=true', () => {
    const prod = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://trellis_app:pw@db.internal:5432/trellis',
      WORKER_DATABASE_URL: 'postgres://w:pw@db.internal:5432/trellis',
      JWT_SECRET: A_SECRET,
    };
    expect(loadConfig(prod).explorer).toBe(false);
    expect(loadConfig({ ...prod, EXPLORER: 'true' }).explorer).toBe(true);
    expect(loadConfig({ ...prod, EXPLORER: '1' }).explorer).toBe(true);
    expect(loadConfig({ TRELLIS_DATA_DIR: newDir(), JWT_SECRET: A_SECRET, EXPLORER: 'false' }).explorer).toBe(false);
    expect(loadConfig({ TRELLIS_DATA_DIR: newDir(), JWT_SECRET: A_SECRET, NODE_ENV: 'test' }).explorer).toBe(true);
  });

  it('NODE_ENV=test with DATABASE_URL: a random secret per load, never written', () => {
    const dataDir = newDir();
    const env = { NODE_ENV: 'test', DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', TRELLIS_DATA_DIR: dataDir };
    const a = loadConfig(env);
    const b = loadConfig(env);
    expect(a.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(a.jwtSecret).not.toBe(b.jwtSecret);
    expect(existsSync(dataDir)).toBe(false);
  });

  it.each(INVALID)('throws a ConfigError naming the setting: %s', (_name, env, setting) => {
    const dataDir = newDir();
    let error: unknown;
    try {
      loadConfig({ TRELLIS_DATA_DIR: dataDir, ...env });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`\\b${setting}\\b`));
    expect(message).not.toContain('\n');
    for (const s of NEVER_ECHOED) expect(message).not.toContain(s);
    expect(existsSync(dataDir)).toBe(false);
  });
});
