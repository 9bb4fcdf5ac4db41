import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import type { DataSource } from 'typeorm';
import { deprioritizeSlowTransactions, localBackendPid, LOW_PRIORITY_NICE, mayWrite } from '../src/db/backend-priority';
import { connect } from '../src/db/data-source';
import { inWorkspace } from '../src/db/tenant-transaction';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { ENTITIES } from '../src/modules/registry';

// Slow transactions yield the CPU: their PostgreSQL backend runs at the lowest priority (its own
// nice value and its session's autogroup) until they end, and the next transaction on that
// connection runs at full priority again. The embedded database runs on this machine, as these tests do.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const autogroupNice = (pid: number): number | undefined => {
  const file = `/proc/${pid}/autogroup`;
  return existsSync(file) ? Number(/nice (-?\d+)/.exec(readFileSync(file, 'utf8'))![1]) : undefined;
};

describe('slow transactions run at low CPU priority', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const workspace = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await connect({ entities: ENTITIES, url: db.appUrl, poolSize: 1, applicationName: 'trellis-priority-test' });
    deprioritizeSlowTransactions(ds, { afterMs: 100, nice: LOW_PRIORITY_NICE });
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('lowers the backend of a transaction past afterMs, and gives the next transaction full priority', async () => {
    const seen: { during: number[]; group?: number; pid: number } = { during: [], pid: 0 };
    await inWorkspace(ds, workspace, async (tx) => {
      seen.pid = (await tx.one<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
      expect(getPriority(seen.pid)).toBe(0);
      const slow = tx.query('SELECT pg_sleep(0.6)');
      await sleep(350);
      seen.during.push(getPriority(seen.pid));
      seen.group = autogroupNice(seen.pid);
      await slow;
    });
    expect(seen.during).toEqual([LOW_PRIORITY_NICE]);
    // Each backend leads a session of its own: where the kernel groups by session, the group is lowered too.
    if (seen.group !== undefined) expect(seen.group).toBe(LOW_PRIORITY_NICE);

    // The next transaction: the same backend put back (as root), or a new one (the old one closed
    // because its priority could not be raised again): either way at full priority.
    await inWorkspace(ds, workspace, async (tx) => {
      const pid = (await tx.one<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
      expect(getPriority(pid)).toBe(0);
      if (autogroupNice(pid) !== undefined) expect(autogroupNice(pid)).toBe(0);
    });
  });

  it('never lowers a transaction that has written, and raises a lowered one at its first write', async () => {
    const seen: number[] = [];
    // Writes first, then reads for long: a writer holds locks and the event log's horizon, it stays at full priority.
    await inWorkspace(ds, workspace, async (tx) => {
      const pid = (await tx.one<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
      await tx.query('CREATE TEMP TABLE priority_probe (n int) ON COMMIT DROP');
      const slow = tx.query('SELECT pg_sleep(0.4)');
      await sleep(250);
      seen.push(getPriority(pid));
      await slow;
    });
    expect(seen).toEqual([0]);

    // Reads for long (lowered), then writes: full priority from that statement on.
    await inWorkspace(ds, workspace, async (tx) => {
      const pid = (await tx.one<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
      await tx.query('SELECT pg_sleep(0.3)');
      seen.push(getPriority(pid));
      await tx.query('CREATE TEMP TABLE priority_probe (n int) ON COMMIT DROP');
      seen.push(getPriority(pid));
    });
    expect(seen).toEqual([0, LOW_PRIORITY_NICE, 0]);
  });

  it('takes every statement but a SELECT that names no write, lock, sequence or writing function as one that may write', () => {
    const reads = [
      'SELECT 1',
      '  select * from account t WHERE t.name ILIKE $1 AND t.deleted_at IS NULL ORDER BY t.updated_at',
      'SELECT (SELECT count(*) FROM contact) AS v0',
      'WITH page AS MATERIALIZED (SELECT * FROM account) SELECT p.* FROM page p',
    ];
    const writes = [
      'INSERT INTO event (id) VALUES ($1)',
      'UPDATE account SET name = $1',
      'DELETE FROM contact',
      'WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x',
      'SELECT * FROM account WHERE id = $1 FOR UPDATE',
      'SELECT * FROM account FOR NO KEY UPDATE',
      'SELECT * FROM account FOR SHARE',
      "SELECT nextval('s')",
      'SELECT * FROM worker_claim_webhook_deliveries($1, $2)',
      'SELECT pg_advisory_xact_lock(1)',
      'CREATE TEMP TABLE t (n int)',
      'LOCK TABLE account',
    ];
    expect(reads.filter(mayWrite)).toEqual([]);
    expect(writes.filter((w) => !mayWrite(w))).toEqual([]);
  });

  it('leaves a quick transaction alone', async () => {
    let pid = 0;
    await inWorkspace(ds, workspace, async (tx) => {
      pid = (await tx.one<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
      await tx.query('SELECT pg_sleep(0.02)');
      await sleep(20);
    });
    await sleep(150); // past afterMs: the timer of the ended transaction must not fire
    expect(getPriority(pid)).toBe(0);
  });

  it('renices only a process that is the backend of this very connection', () => {
    // This test's own process (not a postgres backend), or a backend serving another client port: untouched.
    expect(localBackendPid({ processID: process.pid, connection: { stream: { localPort: 1 } } })).toBe(false);
    expect(localBackendPid({ processID: 999_999_999, connection: { stream: { localPort: 1 } } })).toBe(false);
    expect(localBackendPid({ processID: null })).toBe(false);
    expect(getPriority(process.pid)).toBe(0);
  });
});
