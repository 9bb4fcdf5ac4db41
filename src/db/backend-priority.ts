import { readFileSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Slow work yields the database's CPU to quick work. A statement runs in a PostgreSQL backend
 * process, and a slow one (a filter scanning 150 000 rows, an import's batch) holds a whole core for
 * as long as it runs; on a small machine the other tenants' quick reads then queue behind it for the
 * CPU, not for a lock, and no connection cap helps. So a transaction still holding its connection
 * after `afterMs`, having written nothing, has its backend process reniced to `nice` (LOW_PRIORITY_NICE)
 * until it writes or ends: it
 * goes on at full speed on an idle machine, and gives way whenever anyone else's statement needs the CPU (an operating-system scheduler does what PostgreSQL has no setting for). The work of
 * every tenant is treated alike: only its length counts.
 *
 * A process' nice value alone is not enough on Linux: with autogroup scheduling (the default on
 * desktops and most VMs) CPU time is shared between sessions first, and every PostgreSQL backend
 * starts a session of its own (setsid), so a reniced backend still gets a full session's share. Its
 * session's nice value (/proc/<pid>/autogroup) is lowered as well; the kernel accepts such a change
 * at most ten times a second, so a change refused for that is tried again shortly, and a backend
 * whose priority cannot be restored is closed instead of serving the next transaction.
 *
 * This works only where the backend is a process this one may renice: the database on this machine
 * (the embedded one, or a local server run by the same user or with Node as root). Before renicing,
 * the process is checked to be the backend serving exactly this connection (its process title names
 * the client's port), so a database elsewhere, behind a proxy or in another process namespace is left
 * alone: there this does nothing at all.
 */
interface PriorityOptions {
  /** How long a transaction holds its connection before its backend is reniced; 0: never. */
  afterMs: number;
  /** The nice value slow backends run at (LOW_PRIORITY_NICE). */
  nice: number;
}

interface PgClient {
  processID?: number | null;
  connection?: { stream?: { localPort?: number; remoteAddress?: string } };
}

/** The kernel takes one autogroup change per 100 ms, for the whole machine. */
const RETRY_MS = 100;

/**
 * The nice value slow reads run at: the lowest. Stretching a read while the machine is busy makes
 * only its own client wait (a read-only transaction holds no row lock and no transaction id, so the
 * event log's horizon does not wait for it); writes are never lowered (see watchTransaction).
 * Measured with bench:isolation (B's p99 beside A over alone, median of 3): x4.1 at nice 10, x2.6
 * at 19 (x1.4 when writers were lowered too, which stalled subscriptions behind starved writers).
 */
export const LOW_PRIORITY_NICE = 19;

const policies = new WeakMap<DataSource, PriorityOptions>();
/** Per pooled client: the backend's pid once checked to be ours, or false if it is not a process of this machine we may renice. */
const verified = new WeakMap<object, number | false>();

/** Renices the backends of this data source's slow transactions (see above). */
export function deprioritizeSlowTransactions(ds: DataSource, opts: PriorityOptions): void {
  if (opts.afterMs > 0) policies.set(ds, opts);
}

function clientOf(runner: QueryRunner): PgClient | undefined {
  return (runner as unknown as { databaseConnection?: PgClient }).databaseConnection;
}

/** The pid of the local backend process serving this client, if there is one this process may see. */
export function localBackendPid(client: PgClient): number | false {
  const known = verified.get(client);
  if (known !== undefined) return known;
  let pid: number | false = false;
  const backend = client.processID;
  if (backend) {
    try {
      // A backend's process title: "postgres: <user> <db> <host>(<port>) <state>", or "[local]" over a socket.
      const title = readFileSync(`/proc/${backend}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const port = client.connection?.stream?.localPort;
      const ours = port ? title.includes(`(${port})`) : title.includes('[local]');
      if (title.startsWith('postgres:') && ours) pid = backend;
    } catch {
      // No such process here (a database elsewhere), or no /proc: nothing to renice.
    }
  }
  verified.set(client, pid);
  return pid;
}

interface Lowered {
  pid: number;
  nice: number;
  /** The session's nice value before, if the backend leads a session of its own with an autogroup. */
  group?: number;
}

/** The nice value of the backend's autogroup, if it has one and leads its session (so that the group is its alone). */
function autogroupNice(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state, ppid, pgrp, session, ...
    const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
    if (session !== pid) return undefined;
    const m = /nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // no autogroup scheduling in this kernel
  }
}

/** Lowers the backend's CPU priority; false if the kernel asks to try again later (its autogroup rate limit). */
function lower(pid: number, nice: number): Lowered | false | undefined {
  const before = getPriority(pid);
  const group = autogroupNice(pid);
  if (before >= nice && (group === undefined || group >= nice)) return undefined;
  if (group !== undefined && group < nice) {
    try {
      writeFileSync(`/proc/${pid}/autogroup`, String(nice));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return false;
      throw err;
    }
  }
  const lowered: Lowered = { pid, nice: before, group };
  try {
    if (before < nice) setPriority(pid, nice);
  } catch {
    // Its session is lowered already (or nothing is): either way what was changed is put back at the end.
  }
  return lowered;
}

/** Puts the backend's priority back; false if it could not be (the connection must then be closed). */
function restore(l: Lowered): boolean {
  try {
    if (l.group !== undefined) writeFileSync(`/proc/${l.pid}/autogroup`, String(l.group));
    setPriority(l.pid, l.nice);
    return true;
  } catch {
    // The kernel's autogroup rate limit, or raising a priority back needs privileges a process running
    // as the database's own user lacks.
    return false;
  }
}

/** A transaction's watch: see watchTransaction. */
export interface TransactionWatch {
  /** Before each statement: a write puts the backend back to full priority, for the rest of the transaction. */
  statement(sql: string): void;
  /** At the transaction's end, before its COMMIT or ROLLBACK: restores the priority; true if the connection must be discarded instead of reused. */
  end(): boolean;
}

/**
 * A statement that may write or lock rows: anything but a SELECT (or a WITH ... SELECT), or one that
 * names a write, a row lock, a sequence or a function that writes. Conservative: a read taken for a write only keeps its full priority.
 */
export const mayWrite = (sql: string): boolean =>
  !/^\s*(SELECT|WITH)\b/i.test(sql) ||
  /\b(INSERT|UPDATE|DELETE|FOR\s+(NO\s+KEY\s+)?UPDATE|FOR\s+(KEY\s+)?SHARE|nextval|worker_\w+|pg_advisory\w*)\b/i.test(sql);

const NO_WATCH: TransactionWatch = { statement: () => undefined, end: () => false };

/**
 * Watches one transaction's connection. Only a transaction that has written nothing is lowered:
 * a writing transaction holds row locks and (with its transaction id) the event log's visibility
 * horizon, which every subscription and webhook of every workspace waits behind, so stretching it
 * would make everyone wait. Reads are what takes the CPU for long (a slow filter, a page at the cap).
 */
export function watchTransaction(ds: DataSource, runner: QueryRunner): TransactionWatch {
  const policy = policies.get(ds);
  // No timer for a connection already found not to be a local backend (a database elsewhere).
  if (!policy || verified.get(clientOf(runner) ?? {}) === false) return NO_WATCH;
  let lowered: Lowered | undefined;
  let ended = false;
  let wrote = false;
  let failedRestore = false;
  let timer: NodeJS.Timeout;
  const attempt = () => {
    const client = clientOf(runner);
    const pid = client && localBackendPid(client);
    if (!pid || ended || wrote) return;
    try {
      const done = lower(pid, policy.nice);
      if (done === false) timer = setTimeout(attempt, RETRY_MS).unref();
      else lowered = done;
    } catch {
      // The process ended, or is not ours to renice: leave it as it is.
      verified.set(client, false);
    }
  };
  const raise = () => {
    clearTimeout(timer);
    if (lowered && !restore(lowered)) failedRestore = true;
    lowered = undefined;
  };
  timer = setTimeout(attempt, policy.afterMs).unref();
  return {
    statement(sql) {
      if (wrote || !mayWrite(sql)) return;
      wrote = true;
      raise();
    },
    end() {
      ended = true;
      raise();
      return failedRestore;
    },
  };
}
