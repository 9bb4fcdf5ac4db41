import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '../../src/db/data-source';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { TEMPLATE_DB } from '../helpers/db';

/**
 * One PostgreSQL for the whole run, tuned for tests (no fsync), and one migrated template database
 * that every test file clones, so files are independent and run in parallel.
 */
export default async function globalSetup(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-test-'));
  const pg = await startEmbeddedPostgres({
    dataDir,
    database: TEMPLATE_DB,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  await runMigrations(pg.ownerUrl);
  (globalThis as Record<string, unknown>).__TRELLIS_PG__ = { pg, dataDir };
  process.env.TRELLIS_TEST_OWNER_URL = pg.ownerUrl;
  process.env.TRELLIS_TEST_APP_URL = pg.appUrl;
  process.env.TRELLIS_TEST_WORKER_URL = pg.workerUrl;
  process.env.TRELLIS_TEST_DATA_DIR = dataDir;
}
