// The admin CLI reaches the database the way the server does: DATABASE_URL (and
// MIGRATION_DATABASE_URL for the owner) or, without them, the embedded PostgreSQL of the data folder.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../src/kernel/config';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded';
import { APP_ROLE } from '../../src/db/roles';

export interface Database {
  /** The migration owner. */
  ownerUrl: string;
  /** The application role, under row-level security: the services act through it, as in the server. */
  appUrl: string;
  /** True when the CLI started the embedded PostgreSQL itself (and so may migrate it freely). */
  startedEmbedded: boolean;
  close(): Promise<void>;
}

/**
 * Opens the configured database. In embedded mode a PostgreSQL already running on the data folder
 * (a `npm start` in another terminal) is joined, not restarted: starting it again would stop the
 * server's. Otherwise the CLI starts it for the command and stops it afterwards.
 */
export async function openDatabase(config: Config): Promise<Database> {
  if (!config.embedded) {
    return { ownerUrl: config.migrationDatabaseUrl!, appUrl: config.databaseUrl!, startedEmbedded: false, close: async () => undefined };
  }
  const running = runningEmbedded(config.dataDir);
  if (running) return { ...running, startedEmbedded: false, close: async () => undefined };
  const pg: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: config.dataDir, database: 'trellis' });
  return { ownerUrl: pg.ownerUrl, appUrl: pg.appUrl, startedEmbedded: true, close: () => pg.stop() };
}

/** The URLs of the embedded PostgreSQL if a live postmaster holds the data folder (its pid file gives the port). */
function runningEmbedded(dataDir: string): { ownerUrl: string; appUrl: string } | null {
  const pidFile = join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  // postmaster.pid: line 1 the pid, line 4 the port (PostgreSQL's documented layout).
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || !isAlive(pid)) return null;
  const secret = (name: string) => encodeURIComponent(readFileSync(join(dataDir, name), 'utf8').trim());
  return {
    ownerUrl: `postgres://postgres:${secret('pg-superuser-password')}@127.0.0.1:${port}/trellis`,
    appUrl: `postgres://${APP_ROLE}:${secret('pg-app-password')}@127.0.0.1:${port}/trellis`,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's (PostgreSQL runs as `postgres` when Trellis runs as root).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
