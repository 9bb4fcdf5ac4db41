import { DataSource } from 'typeorm';
import { type Pool, types } from 'pg';
import { join } from 'node:path';
import { SnakeNamingStrategy } from './naming';
import { parseTimestamptz } from './timestamptz';

// DATE stays a 'YYYY-MM-DD' string (a calendar day has no time zone); numeric and int8 stay strings (exact).
types.setTypeParser(types.builtins.DATE, (v) => v);
types.setTypeParser(types.builtins.TIMESTAMPTZ, parseTimestamptz);

const MIGRATIONS_GLOB = join(__dirname, '..', '..', 'migrations', '*.js');

interface DataSourceOptions {
  url: string;
  /** The entity classes (the composition root passes the modules' list): this layer knows none of them. */
  entities: readonly Function[];
  poolSize?: number;
  /** How long to wait for a connection (a free one in the pool, or a new one to connect); 0 or none: no limit. */
  connectTimeoutMs?: number;
  applicationName?: string;
  /** Every statement's time limit (statement_timeout of each connection); none: no limit. */
  statementTimeoutMs?: number;
  /**
   * PostgreSQL's parallel workers one statement may use (max_parallel_workers_per_gather); none: the
   * server's setting. A statement with workers takes several cores: one tenant's slow query would take them all.
   */
  parallelWorkersPerQuery?: number;
  onPoolError?: (err: Error) => void;
}

export function createDataSource(opts: DataSourceOptions): DataSource {
  const ds = new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: [...opts.entities],
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    namingStrategy: new SnakeNamingStrategy(),
    applicationName: opts.applicationName ?? 'trellis',
    poolSize: opts.poolSize ?? 10,
    extra: {
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 0,
      ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
      ...(opts.parallelWorkersPerQuery !== undefined ? { options: `-c max_parallel_workers_per_gather=${Math.floor(opts.parallelWorkersPerQuery)}` } : {}),
    },
    logging: false,
  });
  return ds;
}

/** The pg pool under a data source (rate limiter stores and metrics use it directly). */
export function poolOf(ds: DataSource): Pool {
  return (ds.driver as unknown as { master: Pool }).master;
}

/**
 * Initialises a data source and attaches the pool error handler: an idle client losing its server
 * (a database restart) emits 'error' on the pool, which would otherwise crash the process.
 */
export async function connect(opts: DataSourceOptions): Promise<DataSource> {
  const ds = createDataSource(opts);
  await ds.initialize();
  const pool = poolOf(ds);
  pool.on('error', (err) => opts.onPoolError?.(err));
  return ds;
}

/**
 * The migrations this code has that the database has not applied, by name. Read with the
 * data source's own connection (the service role may read the `migrations` table); migrations applied
 * that this code does not know (a newer version's, during a rolling deploy) are not its concern.
 */
export async function pendingMigrations(ds: DataSource): Promise<string[]> {
  const applied = new Set(((await ds.query(`SELECT name FROM ${ds.options.migrationsTableName ?? 'migrations'}`)) as { name: string }[]).map((r) => r.name));
  return ds.migrations.map((m) => m.name ?? m.constructor.name).filter((name) => !applied.has(name));
}

/** Applies pending migrations as the owner role, then disconnects. */
export async function runMigrations(url: string): Promise<string[]> {
  const ds = createDataSource({ url, entities: [], poolSize: 1, applicationName: 'trellis-migrations' });
  await ds.initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}
