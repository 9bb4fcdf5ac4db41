import autocannon from 'autocannon';
import { Client } from 'pg';
import type { Server } from './servers';

export interface Sample {
  /** Requests per second (autocannon's mean of its per-second counts). */
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Transport errors, timeouts, non-2xx answers and answers carrying `errors`; a run without any answer counts as one. */
  failures: number;
}

/**
 * Fixed concurrency: `connections` clients each send the same request again as soon as the previous
 * answer arrives, for `seconds`. An answer counts only if it is `{"data":...}` without `errors`:
 * GraphQL servers answer HTTP 200 with errors, and a fast error must not pass for a fast answer.
 */
export async function load(server: Server, body: unknown, seconds: number, connections: number): Promise<Sample> {
  const r = await autocannon({
    url: server.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.headers },
    body: JSON.stringify(body),
    connections,
    duration: seconds,
    verifyBody: (text: string) => text.startsWith('{"data":') && !text.includes('"errors":'),
  } as autocannon.Options);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    failures: r.errors + r.timeouts + r.non2xx + (r as { mismatches?: number }).mismatches! + (r.requests.total === 0 ? 1 : 0),
  };
}

/**
 * When autocannon stops, the requests it had in flight still run in the servers and the database.
 * The next measurement must start on an idle database: give them a few seconds, cancel what is
 * still running (slow searches), and wait until no statement is active, three times in a row (a
 * request queued for a pool connection may start in between).
 */
export async function settle(ownerUrl: string, database: string): Promise<void> {
  const c = new Client({ connectionString: ownerUrl });
  await c.connect();
  const active = `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state <> 'idle' AND pid <> pg_backend_pid()`;
  try {
    for (let i = 0, quiet = 0; i < 600 && quiet < 3; i++) {
      const pids = (await c.query<{ pid: number }>(active, [database])).rows.map((r) => r.pid);
      quiet = pids.length === 0 ? quiet + 1 : 0;
      if (i >= 50 && pids.length) await c.query(`SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) pid`, [pids]);
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    await c.end();
  }
}
