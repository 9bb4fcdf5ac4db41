import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/** How long a health answer is reused: a probe opens a connection, and /healthz may be polled often. */
const REUSE_MS = 2000;
const TIMEOUT_MS = 2000;

/**
 * Whether the database answers, asked on a connection of its own rather than the pool's: a pool
 * busy with slow requests is not a lost database, and a lost one must show even while the pool's
 * idle connections look fine. At most one probe every two seconds; callers meanwhile share it.
 */
export function databaseProbe(ds: DataSource): () => Promise<{ ok: boolean; error?: string }> {
  const url = (ds.options as { url?: string }).url;
  let last: { at: number; result: Promise<{ ok: boolean; error?: string }> } | null = null;
  const probe = async () => {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS, query_timeout: TIMEOUT_MS, application_name: 'trellis-health' });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  return () => {
    if (!last || Date.now() - last.at > REUSE_MS) last = { at: Date.now(), result: probe() };
    return last.result;
  };
}
