import { readdirSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { EmbeddedDatabase } from '../../src/db/embedded';

/** Caches the runtime keeps in the temp folder by design, not left by a test: Node's module compile cache (jest enables it on Node 22+). */
const RUNTIME_CACHES = new Set(['node-compile-cache']);

/** Stops the run's PostgreSQL, and fails the run if a test left files behind in its temp folder. */
export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__TRELLIS_PG__ as { pg: EmbeddedDatabase; dataDir: string; runTmp: string } | undefined;
  if (!state) return;
  await state.pg.stop();
  rmSync(state.dataDir, { recursive: true, force: true });
  const left = readdirSync(state.runTmp).filter((f) => f !== basename(state.dataDir) && !RUNTIME_CACHES.has(f));
  rmSync(state.runTmp, { recursive: true, force: true });
  if (left.length) throw new Error(`tests left these in the temp folder (remove what a test creates): ${left.join(', ')}`);
}
