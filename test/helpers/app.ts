import 'reflect-metadata';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { createApp, type App } from '../../src/server/app';
import { loadConfig, type Config } from '../../src/kernel/config';
import { connect } from '../../src/db/data-source';
import { createLogger } from '../../src/kernel/logger';
import { createServices, type Services } from '../../src/server/services';
import { createTestDatabase, ownerQuery, type TestDatabase } from './db';
import { ENTITIES } from '../../src/modules/registry';

export interface GqlResponse<T = any> {
  status: number;
  data: T;
  errors?: { message: string; extensions: { code: string; fields?: { field: string; message: string }[]; [k: string]: unknown }; path?: string[] }[];
  body: any;
}

export interface TestApp {
  db: TestDatabase;
  ds: DataSource;
  /** The workers' pool (role trellis_background), as the server opens it. */
  workerDs: DataSource;
  config: Config;
  services: Services;
  app: App;
  url: string;
  port: number;
  /** POSTs a GraphQL operation; `token` is an access token or an API key. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string, headers?: Record<string, string>): Promise<GqlResponse<T>>;
  /** SQL as the superuser, which row-level security does not apply to. */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

const RAISED_LIMITS = { LOGIN_ATTEMPTS_PER_ADDRESS: '100000', SIGNUP_PER_ADDRESS: '1000000', SIGNUP_PER_WINDOW: '10000000' };

/** A real Trellis (HTTP + WebSocket) on its own fresh database, listening on a free port. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  return startTestAppOn(await createTestDatabase(), env);
}

/** A real Trellis on a database the test created (and filled, e.g. through the admin CLI); `close` drops it. */
export async function startTestAppOn(db: TestDatabase, env: Record<string, string> = {}): Promise<TestApp> {
  // Test files sign many users up and in from one address: the per-address and sign-up limits are high unless a test sets them.
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.appUrl,
    WORKER_DATABASE_URL: db.workerUrl,
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    LOG_LEVEL: 'silent',
    ...RAISED_LIMITS,
    ...env,
  });
  const log = createLogger(config.logLevel);
  // Five connections unless the test sizes the pool itself (a pool of one, under pressure); no limit
  // on the wait for one (a loaded test machine) unless the test sets DB_CONNECT_TIMEOUT_MS.
  const ds = await connect({
    entities: ENTITIES,
    url: db.appUrl,
    poolSize: env.DB_POOL_SIZE ? config.dbPoolSize : 5,
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS ? config.dbConnectTimeoutMs : 0,
    statementTimeoutMs: config.tenancy.statementTimeoutMs,
    parallelWorkersPerQuery: config.tenancy.parallelWorkersPerQuery,
  });
  const workerDs = await connect({
    entities: ENTITIES,
    url: config.workerDatabaseUrl!,
    poolSize: 5,
    applicationName: 'trellis-workers',
    statementTimeoutMs: config.tenancy.workerStatementTimeoutMs,
    parallelWorkersPerQuery: config.tenancy.parallelWorkersPerQuery,
  });
  const services = createServices(ds, config, log, workerDs);
  const app = await createApp(ds, config, log, services);
  const port = await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  return {
    db,
    ds,
    workerDs,
    config,
    services,
    app,
    url,
    port,
    async gql(query, variables, token, headers = {}) {
      let req = request(url).post('/graphql').set('content-type', 'application/json');
      if (token) req = req.set('authorization', `Bearer ${token}`);
      for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
      const res = await req.send({ query, variables });
      return { status: res.status, data: res.body?.data, errors: res.body?.errors, body: res.body };
    },
    sql: (text, params) => ownerQuery(db.ownerUrl, text, params),
    async close() {
      await app.close();
      await ds.destroy();
      await workerDs.destroy();
      await db.drop();
    },
  };
}

/** Another server instance on the same database (its own pool, event bus and HTTP/WebSocket server). */
export async function startSecondInstance(
  t: TestApp,
  env: Record<string, string> = {},
): Promise<{ url: string; port: number; services: Services; close(): Promise<void> }> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: t.db.appUrl,
    WORKER_DATABASE_URL: t.db.workerUrl,
    JWT_SECRET: t.config.jwtSecret,
    LOG_LEVEL: 'silent',
    ...RAISED_LIMITS,
    ...env,
  });
  const ds = await connect({
    entities: ENTITIES,
    url: t.db.appUrl,
    poolSize: 5,
    statementTimeoutMs: config.tenancy.statementTimeoutMs,
    parallelWorkersPerQuery: config.tenancy.parallelWorkersPerQuery,
  });
  const workerDs = await connect({
    entities: ENTITIES,
    url: t.db.workerUrl,
    poolSize: 5,
    applicationName: 'trellis-workers',
    statementTimeoutMs: config.tenancy.workerStatementTimeoutMs,
    parallelWorkersPerQuery: config.tenancy.parallelWorkersPerQuery,
  });
  const services = createServices(ds, config, createLogger(config.logLevel), workerDs);
  const app = await createApp(ds, config, createLogger(config.logLevel), services);
  const port = await app.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    services,
    async close() {
      await app.close();
      await ds.destroy();
      await workerDs.destroy();
    },
  };
}

let seq = 0;
export interface SignedUp {
  accessToken: string;
  refreshToken: string;
  userId: string;
  workspaceId: string;
  email: string;
  password: string;
}

/** Signs up a new workspace through the API and returns its admin's tokens. */
export async function signUp(t: TestApp, name = `Workspace ${++seq}`): Promise<SignedUp> {
  const email = `admin${++seq}-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  const r = await t.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken user { id } workspace { id } } }`, {
    input: { workspaceName: name, name: 'Admin', email, password },
  });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  const s = r.data.signUp;
  return { accessToken: s.accessToken, refreshToken: s.refreshToken, userId: s.user.id, workspaceId: s.workspace.id, email, password };
}

/** Creates a user with a role and signs them in; returns their access token and id. */
export async function userWithRole(t: TestApp, admin: SignedUp, role: string): Promise<{ token: string; id: string; email: string }> {
  const email = `${role.toLowerCase()}${++seq}-${Date.now()}@example.com`;
  const password = 'another good password';
  const c = await t.gql(`mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, { i: { name: role, email, role, password } }, admin.accessToken);
  if (c.errors) throw new Error(JSON.stringify(c.errors));
  const l = await t.gql(`mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }`, { e: email, p: password });
  if (l.errors) throw new Error(JSON.stringify(l.errors));
  return { token: l.data.logIn.accessToken, id: c.data.createUser.id, email };
}

/** Creates an API key with the given scopes and returns its secret. */
export async function apiKey(t: TestApp, admin: SignedUp, scopes: string[], expiresAt?: string): Promise<{ secret: string; id: string }> {
  const r = await t.gql(
    `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id } } }`,
    { i: { name: 'k', scopes, expiresAt } },
    admin.accessToken,
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return { secret: r.data.createApiKey.secret, id: r.data.createApiKey.apiKey.id };
}

export function codes(r: GqlResponse): string[] {
  return (r.errors ?? []).map((e) => e.extensions.code);
}
