// What every database command of the admin CLI shares: the server's configuration, the database
// (started, joined or given), and the services, wired as in the server.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, type Config } from '../../src/kernel/config';
import { connect, runMigrations } from '../../src/db/data-source';
import { pgError } from '../../src/db/pg-errors';
import { AppError } from '../../src/kernel/errors';
import { createLogger } from '../../src/kernel/logger';
import { createServices } from '../../src/server/services';
import type { Admin } from './admin';
import { openDatabase } from './database';
import { UsageError } from './usage-error';
import { ENTITIES } from '../../src/modules/registry';

/** The server's configuration. The CLI signs no tokens, so it needs no JWT_SECRET of its own. */
export function cliConfig(): Config {
  try {
    // Nor does it start workers or check passwords: the workers' connection is not its concern.
    return loadConfig({
      ...process.env,
      JWT_SECRET: process.env.JWT_SECRET || randomBytes(32).toString('hex'),
      WORKER_DATABASE_URL: process.env.WORKER_DATABASE_URL || process.env.DATABASE_URL,
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** Opens the database, hands the services to `fn`, and closes everything (stopping an embedded PostgreSQL it started). */
export async function withAdmin<T>(fn: (a: Admin, config: Config) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const db = await openDatabase(config);
  try {
    // As `npm start` does: an embedded database the CLI started is its own to bring up to date.
    if (db.startedEmbedded && config.runMigrations) await runMigrations(db.ownerUrl);
    const ds = await connect({ entities: ENTITIES, url: db.appUrl, poolSize: 2, applicationName: 'trellis-cli' });
    try {
      return await fn({ ds, services: createServices(ds, config, createLogger('silent')) }, config);
    } finally {
      await ds.destroy();
    }
  } finally {
    await db.close();
  }
}

/** Applies pending migrations as the owner; the names of those applied. */
export async function migrate(): Promise<string[]> {
  const db = await openDatabase(cliConfig());
  try {
    return await runMigrations(db.ownerUrl);
  } finally {
    await db.close();
  }
}

/**
 * What the services refuse, as a usage error (invalid or unknown arguments: exit 2) or a failure
 * (CONFLICT, say: exit 1), with the message to print.
 */
export function describeFailure(err: unknown): { message: string; usage: boolean } | null {
  if (err instanceof AppError) return { message: err.message, usage: err.code === 'BAD_USER_INPUT' || err.code === 'NOT_FOUND' };
  if (pgError(err).code === '42P01') return { message: 'the database has no Trellis tables yet: run `npm run trellis -- migrate` first', usage: false };
  return null;
}
