import 'reflect-metadata';
import { Client } from 'pg';
import { startTestApp, type TestApp } from '../../helpers/app';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123';

/** The shared test app; DB_POOL_SIZE in `env` sizes its pool, as in production (a pool of one under pressure). */
export const startHardeningApp = (env: Record<string, string> = {}): Promise<TestApp> => startTestApp(env);

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
