import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

const PROJECT_ROOT = resolve(__dirname, '..', '..', '..');

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(4000, 0, 65535),
  // No default here: loopback in embedded mode, every interface with DATABASE_URL (see loadConfig).
  HOST: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL')
    .optional(),
  MIGRATION_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL')
    .optional(),
  TRELLIS_DATA_DIR: z.string().min(1).optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WEB_CONCURRENCY: int(1, 1, 64),
  DB_POOL_SIZE: int(10, 1, 200),
  DB_CONNECT_TIMEOUT_MS: int(10_000, 0, 600_000),
  ACCESS_TOKEN_TTL_SECONDS: int(900, 60, 86400),
  REFRESH_TOKEN_TTL_DAYS: int(30, 1, 365),
  REFRESH_TOKEN_REUSE_GRACE_SECONDS: int(0, 0, 300),
  MAX_QUERY_DEPTH: int(12, 2, 50),
  MAX_QUERY_ALIASES: int(30, 1, 1000),
  MAX_QUERY_DIRECTIVES: int(50, 1, 1000),
  MAX_QUERY_TOKENS: int(5000, 100, 100000),
  MAX_QUERY_COST: int(50000, 100, 10000000),
  MAX_BODY_BYTES: int(1_000_000, 1000, 100_000_000),
  MAX_ROWS_PER_REQUEST: int(100_000, 1000, 10_000_000),
  MAX_RESPONSE_BYTES: int(20_000_000, 100_000, 1_000_000_000),
  // Automatic persisted queries: the documents clients registered by hash, per instance (0: none).
  PERSISTED_QUERIES_CACHE_BYTES: int(10_000_000, 0, 1_000_000_000),
  // Multi-tenant limits: what one workspace may take of an instance's shared capacity.
  STATEMENT_TIMEOUT_MS: int(15_000, 100, 3_600_000),
  WORKER_STATEMENT_TIMEOUT_MS: int(300_000, 1000, 86_400_000),
  DB_MAX_CONNECTIONS_PER_WORKSPACE: int(0, 0, 200),
  DB_HEAVY_WORKSPACE_SECONDS: int(5, 0, 86_400),
  DB_LOW_PRIORITY_AFTER_MS: int(50, 0, 3_600_000),
  DB_PARALLEL_WORKERS_PER_QUERY: int(0, 0, 64),
  IMPORT_JOBS_PER_WORKSPACE: int(1, 1, 100),
  CHANGE_FEED_RETENTION_DAYS: int(30, 1, 3650),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: int(50, 1, 10_000),
  WS_MAX_CONNECTIONS_PER_CREDENTIAL: int(100, 1, 100_000),
  WS_INIT_TIMEOUT_MS: int(10_000, 100, 600_000),
  WS_KEEPALIVE_MS: int(12_000, 1_000, 600_000),
  SUBSCRIPTION_MAX_QUEUE: int(1000, 10, 1000),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool(false),
  WEBHOOK_TIMEOUT_MS: int(10_000, 100, 60_000),
  WEBHOOK_CONCURRENCY: int(64, 1, 1000),
  WEBHOOK_WORKERS: bool(true),
  SMTP_URL: z.string().url().optional(),
  SMTP_FROM: z.string().min(3).max(320).default('Trellis <no-reply@trellis.local>'),
  AUTOMATION_WORKERS: bool(true),
  AUTOMATION_CATCH_UP_HOURS: int(24, 0, 24 * 30),
  API_KEY_CACHE_MS: int(5000, 0, 60_000),
  RATE_LIMIT_CAPACITY: int(1_000_000, 1, 1_000_000_000),
  RATE_LIMIT_REFILL_PER_SECOND: int(100_000, 0, 1_000_000_000),
  LOGIN_ATTEMPTS_PER_ACCOUNT: int(10, 1, 10_000),
  LOGIN_ATTEMPTS_PER_ADDRESS: int(100, 1, 100_000),
  LOGIN_WINDOW_SECONDS: int(900, 1, 86_400),
  DEMO_SEED: bool(true),
  MIGRATIONS_RUN: bool(true),
  // No default here: it depends on NODE_ENV (see loadConfig).
  EXPLORER: z.enum(['true', 'false', '1', '0']).optional(),
  TRUST_PROXY: z
    .string()
    .refine(
      isTrustProxy,
      'must be true, false, a number of proxies, or a comma-separated list of addresses, subnets (CIDR) or loopback, linklocal, uniquelocal',
    )
    .optional(),
  // Tenant isolation: the workers' own connection (issue 17). Generated in embedded mode.
  WORKER_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL')
    .optional(),
  // Sign-up and sign-in (tenant isolation: anyone may sign up, so signing up is limited, and an email
  // shared by many workspaces costs a bounded number of password checks).
  SIGNUP: z.enum(['open', 'closed']).default('open'),
  SIGNUP_PER_ADDRESS: int(10, 1, 1_000_000),
  SIGNUP_PER_WINDOW: int(1000, 1, 10_000_000),
  SIGNUP_WINDOW_SECONDS: int(3600, 1, 7 * 86_400),
  LOGIN_MAX_ACCOUNTS_PER_EMAIL: int(5, 1, 100),
  // Public intake and automation email (issue 17: the intake as an email relay). Counted in
  // PostgreSQL, so every instance shares them.
  INTAKE_SUBMISSIONS_PER_ADDRESS_PER_MINUTE: int(10, 1, 100_000),
  INTAKE_SUBMISSIONS_PER_FORM_PER_MINUTE: int(300, 1, 1_000_000),
  AUTOMATION_EMAILS_PER_DAY: int(1000, 0, 10_000_000),
});

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  /** Internal errors' messages and stack traces in answers: only with NODE_ENV=development set explicitly. */
  readonly exposeErrorDetails: boolean;
  readonly port: number;
  readonly host: string;
  /** Undefined: start an embedded PostgreSQL in `dataDir`. */
  readonly databaseUrl?: string;
  readonly migrationDatabaseUrl?: string;
  /**
   * With DATABASE_URL: what the background workers and the password check connect as, a role granted
   * trellis_background, which alone may call the functions that read across workspaces.
   */
  readonly workerDatabaseUrl?: string;
  readonly embedded: boolean;
  readonly dataDir: string;
  readonly jwtSecret: string;
  readonly logLevel: string;
  /** Server processes sharing the port (node:cluster); 1: this process serves. */
  readonly webConcurrency: number;
  readonly dbPoolSize: number;
  /** How long a request waits for a database connection (from the pool, or a new one) before SERVICE_UNAVAILABLE; 0: no limit. */
  readonly dbConnectTimeoutMs: number;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlDays: number;
  /** A used refresh token presented again within this many seconds is refused without ending its family (two tabs racing); 0: every reuse ends it. */
  readonly refreshTokenReuseGraceSeconds: number;
  readonly limits: {
    readonly depth: number;
    readonly aliases: number;
    readonly directives: number;
    readonly tokens: number;
    readonly cost: number;
    readonly bodyBytes: number;
    /** Rows one operation may read from the database in all (a subscription: per event). */
    readonly rowsPerRequest: number;
    /** The largest response body sent (HTTP) or message (WebSocket); larger answers are refused. */
    readonly responseBytes: number;
  };
  /**
   * Automatic persisted queries: how much query text (in characters, bytes for ASCII documents) this
   * instance keeps by hash, least recently used dropped first; 0 turns them off (PERSISTED_QUERY_NOT_SUPPORTED).
   */
  readonly persistedQueriesCacheBytes: number;
  readonly tenancy: {
    /** Each statement of a request stops after this long (QUERY_TIMEOUT): the request pool's statement_timeout. */
    readonly statementTimeoutMs: number;
    /** The same for import jobs, automation runs and the other background workers (the workers' pool). */
    readonly workerStatementTimeoutMs: number;
    /** Pooled connections one workspace may hold at once on this instance; 0: half the pool, rounded up. */
    readonly maxConnectionsPerWorkspace: number;
    /**
     * Slow connection seconds (each transaction's time past 0.5 s, decaying, half-life 10 s) past which
     * a workspace is heavy: while others are active it holds one connection at a time. 0: never.
     */
    readonly heavyWorkspaceSeconds: number;
    /**
     * A transaction holding its connection this long, having written nothing, has its database process reniced to
     * the lowest CPU priority while it only reads, when the database runs on this machine (see db/backend-priority). 0: never.
     */
    readonly lowPriorityAfterMs: number;
    /** PostgreSQL parallel workers a request's statement may use (0: one core per statement). */
    readonly parallelWorkersPerQuery: number;
    /** Import jobs of one workspace that run at once on this instance; more wait their turn (PENDING). */
    readonly importJobsPerWorkspace: number;
  };
  readonly changeFeedRetentionDays: number;
  readonly ws: {
    /** Operations one WebSocket may have open at once. */
    readonly maxSubscriptionsPerConnection: number;
    /** WebSockets one user or API key may hold on one instance. */
    readonly maxConnectionsPerCredential: number;
    /** A socket that has not sent connection_init by then is closed (4408). */
    readonly initTimeoutMs: number;
    readonly keepAliveMs: number;
    /** Undelivered events a subscriber may fall behind before it is cut off (at most 1000). */
    readonly maxQueue: number;
  };
  readonly webhooks: {
    /** Lets webhooks go to loopback and private addresses (tests, local development). */
    readonly allowPrivateNetworks: boolean;
    readonly timeoutMs: number;
    /** Deliveries in flight at once per instance. */
    readonly concurrency: number;
    /** False: this instance neither dispatches nor sends webhooks. */
    readonly workers: boolean;
  };
  readonly smtp: {
    /** Where automation emails go (nodemailer); without it they are only logged (sentEmails). */
    readonly url?: string;
    readonly from: string;
  };
  readonly automation: {
    /** False: this instance runs no rules (neither record events nor schedules). */
    readonly workers: boolean;
    /** Schedule slots missed while no instance ran are run once each within this many hours. */
    readonly catchUpHours: number;
  };
  /** How long a verified API key is trusted without asking the database again (0: always ask). */
  readonly apiKeyCacheMs: number;
  readonly rateLimits: {
    /** Query cost points a key or user may spend in a burst. */
    readonly capacity: number;
    /** Points given back per second; 0 turns cost limits off. */
    readonly refillPerSecond: number;
    readonly loginPerAccount: number;
    readonly loginPerAddress: number;
    readonly loginWindowSeconds: number;
  };
  readonly demoSeed: boolean;
  readonly runMigrations: boolean;
  /** GraphiQL for browsers at GET /graphql: on by default, off in production unless EXPLORER=true. */
  readonly explorer: boolean;
  /**
   * Which proxies in front of the service are believed about the client's address (X-Forwarded-For),
   * as Express's `trust proxy`: per-address limits key on that address. None by default: a client
   * could otherwise name any address it likes.
   */
  readonly trustProxy: boolean | number | string[];
  readonly signUp: {
    /** False (SIGNUP=closed): signUp is refused; an operator creates workspaces with the admin CLI. */
    readonly open: boolean;
    /** Sign-ups one client address may make in the window. */
    readonly perAddress: number;
    /** Sign-ups from all addresses together in the window, counted by every instance. */
    readonly perWindow: number;
    readonly windowSeconds: number;
  };
  /** Accounts with one email whose password a logIn without workspaceId checks (the oldest first). */
  readonly loginMaxAccountsPerEmail: number;
  /** Lead intake submissions a minute, per client address and form, and per form, across every instance. */
  readonly intake: { readonly perAddressPerMinute: number; readonly perFormPerMinute: number };
  /** Automation emails one workspace may send in any 24 hours (SEND_EMAIL past it fails the run); 0: none. */
  readonly automationEmailsPerDay: number;
}

export class ConfigError extends Error {}

/**
 * Reads and validates the environment once. In embedded mode a missing JWT secret is generated and
 * kept in the data folder so tokens survive restarts; in production it must be given.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set" (as shells and .env files write it), not 0 or "".
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid configuration: ${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  const embedded = !e.DATABASE_URL;
  const dataDir = resolve(e.TRELLIS_DATA_DIR ?? join(PROJECT_ROOT, '.data'));
  let jwtSecret = e.JWT_SECRET;
  if (!jwtSecret) {
    if (e.NODE_ENV === 'production') throw new ConfigError('invalid configuration: JWT_SECRET: required when NODE_ENV=production');
    if (!embedded && e.NODE_ENV !== 'test') throw new ConfigError('invalid configuration: JWT_SECRET: required with DATABASE_URL');
    jwtSecret = e.NODE_ENV === 'test' && !embedded ? randomBytes(32).toString('hex') : readOrCreateSecret(dataDir);
  }
  // Without it the workers would run as the request role, which may not call their functions. Tests
  // that give only DATABASE_URL (and start no worker) get it as a stand-in.
  if (!embedded && !e.WORKER_DATABASE_URL && e.NODE_ENV !== 'test') {
    throw new ConfigError(
      'invalid configuration: WORKER_DATABASE_URL: required with DATABASE_URL (a login role granted trellis_background: see README, "Your own PostgreSQL")',
    );
  }
  return Object.freeze({
    env: e.NODE_ENV,
    // Raw messages and stack traces of internal errors go to clients only when asked for by name:
    // NODE_ENV's default is `development` (for the explorer, introspection, a generated secret), and
    // an `npm start` left reachable must not hand out SQL errors. The logs have them either way.
    exposeErrorDetails: given.NODE_ENV === 'development',
    port: e.PORT,
    // The embedded database is a laptop's: its server (and the demo key in the explorer) stays on this
    // machine unless HOST says otherwise. With DATABASE_URL it is a server deployment (a container, a
    // VM behind a load balancer): every interface, as before.
    host: e.HOST ?? (embedded ? '127.0.0.1' : '0.0.0.0'),
    databaseUrl: e.DATABASE_URL,
    migrationDatabaseUrl: e.MIGRATION_DATABASE_URL ?? e.DATABASE_URL,
    workerDatabaseUrl: e.WORKER_DATABASE_URL ?? e.DATABASE_URL,
    embedded,
    dataDir,
    jwtSecret,
    logLevel: e.LOG_LEVEL,
    webConcurrency: e.WEB_CONCURRENCY,
    dbPoolSize: e.DB_POOL_SIZE,
    dbConnectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    refreshTokenReuseGraceSeconds: e.REFRESH_TOKEN_REUSE_GRACE_SECONDS,
    limits: Object.freeze({
      depth: e.MAX_QUERY_DEPTH,
      aliases: e.MAX_QUERY_ALIASES,
      directives: e.MAX_QUERY_DIRECTIVES,
      tokens: e.MAX_QUERY_TOKENS,
      cost: e.MAX_QUERY_COST,
      bodyBytes: e.MAX_BODY_BYTES,
      rowsPerRequest: e.MAX_ROWS_PER_REQUEST,
      responseBytes: e.MAX_RESPONSE_BYTES,
    }),
    persistedQueriesCacheBytes: e.PERSISTED_QUERIES_CACHE_BYTES,
    tenancy: Object.freeze({
      statementTimeoutMs: e.STATEMENT_TIMEOUT_MS,
      workerStatementTimeoutMs: e.WORKER_STATEMENT_TIMEOUT_MS,
      maxConnectionsPerWorkspace: e.DB_MAX_CONNECTIONS_PER_WORKSPACE,
      heavyWorkspaceSeconds: e.DB_HEAVY_WORKSPACE_SECONDS,
      lowPriorityAfterMs: e.DB_LOW_PRIORITY_AFTER_MS,
      parallelWorkersPerQuery: e.DB_PARALLEL_WORKERS_PER_QUERY,
      importJobsPerWorkspace: e.IMPORT_JOBS_PER_WORKSPACE,
    }),
    changeFeedRetentionDays: e.CHANGE_FEED_RETENTION_DAYS,
    ws: Object.freeze({
      maxSubscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxConnectionsPerCredential: e.WS_MAX_CONNECTIONS_PER_CREDENTIAL,
      initTimeoutMs: e.WS_INIT_TIMEOUT_MS,
      keepAliveMs: e.WS_KEEPALIVE_MS,
      maxQueue: e.SUBSCRIPTION_MAX_QUEUE,
    }),
    webhooks: Object.freeze({
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      workers: e.WEBHOOK_WORKERS,
    }),
    smtp: Object.freeze({ url: e.SMTP_URL, from: e.SMTP_FROM }),
    automation: Object.freeze({ workers: e.AUTOMATION_WORKERS, catchUpHours: e.AUTOMATION_CATCH_UP_HOURS }),
    apiKeyCacheMs: e.API_KEY_CACHE_MS,
    rateLimits: Object.freeze({
      capacity: e.RATE_LIMIT_CAPACITY,
      refillPerSecond: e.RATE_LIMIT_REFILL_PER_SECOND,
      loginPerAccount: e.LOGIN_ATTEMPTS_PER_ACCOUNT,
      loginPerAddress: e.LOGIN_ATTEMPTS_PER_ADDRESS,
      loginWindowSeconds: e.LOGIN_WINDOW_SECONDS,
    }),
    demoSeed: e.DEMO_SEED,
    runMigrations: e.MIGRATIONS_RUN,
    explorer: e.EXPLORER === undefined ? e.NODE_ENV !== 'production' : e.EXPLORER === 'true' || e.EXPLORER === '1',
    trustProxy: trustProxyOf(e.TRUST_PROXY),
    signUp: Object.freeze({
      open: e.SIGNUP === 'open',
      perAddress: e.SIGNUP_PER_ADDRESS,
      perWindow: e.SIGNUP_PER_WINDOW,
      windowSeconds: e.SIGNUP_WINDOW_SECONDS,
    }),
    loginMaxAccountsPerEmail: e.LOGIN_MAX_ACCOUNTS_PER_EMAIL,
    intake: Object.freeze({ perAddressPerMinute: e.INTAKE_SUBMISSIONS_PER_ADDRESS_PER_MINUTE, perFormPerMinute: e.INTAKE_SUBMISSIONS_PER_FORM_PER_MINUTE }),
    automationEmailsPerDay: e.AUTOMATION_EMAILS_PER_DAY,
  });
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** As Express (proxy-addr, on ipaddr.js) will read it: true/false, a number of hops, or names, addresses and CIDR subnets. */
function isTrustProxy(v: string): boolean {
  if (/^(true|false|\d{1,2})$/.test(v)) return true;
  return v.split(',').every((entry) => {
    const e = entry.trim();
    return PROXY_NAMES.has(e) || ipaddr.isValid(e) || ipaddr.isValidCIDR(e);
  });
}

function trustProxyOf(v: string | undefined): boolean | number | string[] {
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v.split(',').map((entry) => entry.trim());
}

function readOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
