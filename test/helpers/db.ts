import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const TEMPLATE_DB = 'trellis_template';

const withDatabase = (url: string, db: string) => url.replace(/\/[^/?]+(\?|$)/, `/${db}$1`);

export interface TestDatabase {
  name: string;
  /** Superuser: bypasses row-level security. For assertions and setup only. */
  ownerUrl: string;
  /** The application role, as the service connects. */
  appUrl: string;
  /** The workers' role (WORKER_DATABASE_URL): what the background workers and the password check connect as. */
  workerUrl: string;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template (a file copy: milliseconds). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const ownerBase = process.env.TRELLIS_TEST_OWNER_URL;
  const appBase = process.env.TRELLIS_TEST_APP_URL;
  const workerBase = process.env.TRELLIS_TEST_WORKER_URL;
  if (!ownerBase || !appBase || !workerBase) throw new Error('the jest global setup did not run');
  const name = `trellis_t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: withDatabase(ownerBase, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    ownerUrl: withDatabase(ownerBase, name),
    appUrl: withDatabase(appBase, name),
    workerUrl: withDatabase(workerBase, name),
    async drop() {
      const c = new Client({ connectionString: withDatabase(ownerBase, 'postgres') });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Runs SQL as the owner (superuser): sees every workspace. */
export async function ownerQuery<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}
