import { rmSync } from 'node:fs';
import type { EmbeddedDatabase } from '../../src/db/embedded';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__TRELLIS_PG__ as { pg: EmbeddedDatabase; dataDir: string } | undefined;
  if (!state) return;
  await state.pg.stop();
  rmSync(state.dataDir, { recursive: true, force: true });
}
