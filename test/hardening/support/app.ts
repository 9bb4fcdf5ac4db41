import 'reflect-metadata';
import { Client } from 'pg';
import request from 'supertest';
import { createApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import { connect } from '../../../src/db/data-source';
import { createLogger } from '../../../src/logger';
import { createServices } from '../../../src/modules';
import { createTestDatabase, ownerQuery } from '../../helpers/db';
import type { TestApp } from '../../helpers/app';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123';

/**
 * Like helpers/app's startTestApp, but the pool is sized by DB_POOL_SIZE as in production (the
 * shared helper always opens 5 connections), so that a pool of one can be put under pressure.
 */
export async function startHardeningApp(env: Record<string, string> = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.appUrl, JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent', LOGIN_ATTEMPTS_PER_ADDRESS: '100000', ...env });
  const log = createLogger(config.logLevel);
  const ds = await connect({ url: db.appUrl, poolSize: config.dbPoolSize });
  const services = createServices(ds, config, log);
  const app = await createApp(ds, config, log, services);
  const port = await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  return {
    db,
    ds,
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
      await db.drop();
    },
  };
}

/** One superuser connection kept open for the many snapshot queries of a test file. */
export async function ownerClient(t: TestApp): Promise<Client> {
  const c = new Client({ connectionString: t.db.ownerUrl });
  await c.connect();
  return c;
}

/** Polls `check` until it holds, or fails after `ms` naming `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rejects after `ms` unless `p` settles first (a hung request fails the test rather than the run). */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** No stack trace, file path or frame in anything a client receives. */
export function expectNoStack(body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  expect(text).not.toMatch(/stacktrace/i);
  expect(text).not.toMatch(/\bat \S+ \(|node_modules|\/work\/|\/src\/|\.[jt]s:\d+(:\d+)?/);
}
