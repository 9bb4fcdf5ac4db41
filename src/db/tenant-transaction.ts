import DataLoader from 'dataloader';
import type { DataSource, QueryRunner } from 'typeorm';
import { type TransactionWatch, watchTransaction } from './backend-priority';
import { workspaceGate } from './workspace-gate';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID_RE.test(v);

/** How many rows one request may read in all its statements: a second wall behind the cost model. */
export interface RowBudget {
  readonly limit: number;
  left: number;
}

/** Thrown when a request reads past its row budget (the server layer answers it as QUERY_TOO_COMPLEX). */
export class RowLimitExceeded extends Error {
  constructor(readonly limit: number) {
    super(`This request read more than ${limit} rows; ask for smaller pages or fewer nested lists`);
  }
}

/** Whether a statement was cancelled by statement_timeout (SQLSTATE 57014 with that reason; TypeORM wraps pg's error). */
export function isStatementTimeout(err: unknown): boolean {
  const e = err as { code?: string; message?: string; driverError?: { code?: string; message?: string } } | null;
  const pg = e?.driverError ?? e;
  return pg?.code === '57014' && /statement timeout/.test(pg.message ?? '');
}

function spendRows(budget: RowBudget, rows: number): void {
  budget.left -= rows;
  if (budget.left < 0) throw new RowLimitExceeded(budget.limit);
}

/**
 * One database transaction bound to one workspace: it starts with
 * `set_config('app.workspace_id', <id>, true)`, so row-level security scopes every statement in it.
 * Opened lazily on the first query; a request, a job or a cron tick each hold one.
 *
 * The transaction statements are issued here rather than through TypeORM's transaction API, so that
 * BEGIN and the workspace setting travel in one round trip.
 */
export class TenantTransaction {
  private runner?: QueryRunner;
  private opening?: Promise<QueryRunner>;
  private finished = false;
  private savepoints = 0;
  // One connection runs one statement at a time: resolvers that query concurrently take turns here
  // (pg itself would queue them, but that use of a client is deprecated).
  private turn: Promise<unknown> = Promise.resolve();
  private readonly afterCommitHooks: (() => void)[] = [];
  private scalars?: DataLoader<{ sql: string; params: unknown[] }, unknown>;
  private releaseSlot?: () => void;
  /** Lowers the backend's CPU priority while this transaction reads for long (see backend-priority). */
  private watch?: TransactionWatch;
  /** Rows a request may still read (shared by the transactions of one request); unset: no limit (workers, jobs). */
  rowBudget?: RowBudget;

  constructor(
    readonly dataSource: DataSource,
    readonly workspaceId: string,
    /** False: not counted against the workspace's share of the pool (the shared consumers' work, which holds every tenant's cursor: see WorkspaceGate). */
    private readonly gated = true,
  ) {
    if (!isUuid(workspaceId)) throw new Error('TenantTransaction needs a workspace uuid');
  }

  /** Nothing ran in it: it holds no connection and needs no commit (and may serve the next event of a subscription). */
  get untouched(): boolean {
    return !this.opening && !this.finished && !this.scalars && this.afterCommitHooks.length === 0;
  }

  private open(): Promise<QueryRunner> {
    if (this.finished) return Promise.reject(new Error('transaction already finished'));
    this.opening ??= (async () => {
      // A slot of this workspace's share of the pool first, then a connection (see WorkspaceGate).
      if (this.gated) this.releaseSlot = await workspaceGate(this.dataSource)?.acquire(this.workspaceId);
      const runner = this.dataSource.createQueryRunner();
      try {
        await runner.connect();
        // The id is a validated UUID, so it can be inlined: both statements go in one simple query.
        await runner.query(`BEGIN; SELECT set_config('app.workspace_id', '${this.workspaceId}', true)`);
      } catch (err) {
        await runner.release().catch(() => undefined);
        this.releaseSlot?.();
        throw err;
      }
      this.watch = watchTransaction(this.dataSource, runner);
      this.runner = runner;
      return runner;
    })();
    return this.opening;
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const runner = await this.open();
    // The structured result: TypeORM otherwise returns [rows, count] for UPDATE and DELETE.
    const result = await this.exclusive(() => {
      this.watch?.statement(sql);
      return live(runner).query(sql, params, true);
    });
    if (this.rowBudget) spendRows(this.rowBudget, result.records.length);
    return result.records as T[];
  }

  async one<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.query<T>(sql, params))[0];
  }

  /**
   * The one value of a one-column, one-row query. Such queries asked for in the same tick share a
   * statement, `SELECT (q1) AS v0, (q2) AS v1, ...`: a document counting six lists (one alias per
   * stage) makes one round trip, not six. Each query keeps its own plan inside the statement.
   */
  scalar<T>(sql: string, params: unknown[] = []): Promise<T> {
    this.scalars ??= new DataLoader(
      async (queries) => {
        const all: unknown[] = [];
        const parts = queries.map((q, i) => {
          const offset = all.length;
          all.push(...q.params);
          // Parameters are renumbered after those of the queries before it (the SQL is ours: `$n` is never inside a literal).
          return `(${q.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)}) AS v${i}`;
        });
        const row = (await this.one(`SELECT ${parts.join(', ')}`, all))!;
        return queries.map((_, i) => row[`v${i}`]);
      },
      { cache: false },
    );
    return this.scalars.load({ sql, params }) as Promise<T>;
  }

  /** Runs `fn` inside a savepoint: on error its writes are undone and the transaction goes on. */
  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    const runner = await this.open();
    const name = `sp_${++this.savepoints}`;
    await this.exclusive(() => live(runner).query(`SAVEPOINT ${name}`));
    try {
      const result = await fn();
      await this.exclusive(() => live(runner).query(`RELEASE SAVEPOINT ${name}`));
      return result;
    } catch (err) {
      await this.exclusive(() => live(runner).query(`ROLLBACK TO SAVEPOINT ${name}`)).catch(() => undefined);
      throw err;
    }
  }

  private exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.turn.then(fn, fn);
    this.turn = run.catch(() => undefined);
    return run;
  }

  /** Runs `fn` once this transaction has committed (never if it rolls back): side effects wait for the data. */
  afterCommit(fn: () => void): void {
    this.afterCommitHooks.push(fn);
  }

  async commit(): Promise<void> {
    await this.finish(true);
    for (const fn of this.afterCommitHooks.splice(0)) fn();
  }

  async rollback(): Promise<void> {
    await this.finish(false);
  }

  private async finish(commit: boolean): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const runner = this.runner ?? (this.opening ? await this.opening.catch(() => undefined) : undefined);
    if (!runner) return;
    let leftLow = false;
    try {
      await this.turn;
      // Full priority back before COMMIT: a commit takes locks every other transaction's commit needs
      // (the NOTIFY queue's, the WAL's), and a backend at low priority holding them would make everyone wait.
      leftLow = this.watch?.end() ?? false;
      // A lost connection rolled the transaction back already: nothing to roll back, and no commit.
      if (runner.isReleased && !commit) return;
      await live(runner).query(commit ? 'COMMIT' : 'ROLLBACK');
    } finally {
      // A backend whose priority could not be restored is closed rather than handed to the next transaction.
      if (leftLow || this.watch?.end())
        await (runner as unknown as { releasePostgresConnection(err: Error): Promise<void> }).releasePostgresConnection(
          new Error('backend left at low priority'),
        );
      else await runner.release();
      this.releaseSlot?.();
    }
  }
}

/**
 * The transaction's runner, unless its connection was lost: TypeORM then releases the runner by
 * itself, and its next query would fail with "Query runner already released", which reads like a
 * bug. Said as what it is, it is answered as the outage it is (SERVICE_UNAVAILABLE, see db/unavailable).
 */
function live(runner: QueryRunner): QueryRunner {
  if (runner.isReleased) throw new Error('Connection terminated: the database connection of this transaction was lost');
  return runner;
}

/**
 * Runs `fn` in a transaction of its own for `workspaceId`: committed if it returns, rolled back if it
 * throws. `gated: false` for the shared consumers' work (dispatching, matching and running rules,
 * recording deliveries), which must not wait behind (or be refused for) a workspace's own requests: a
 * busy tenant would otherwise hold up everyone's cursor. Their time is bounded otherwise
 * (STORED_FILTER_TIMEOUT_MS, the workers' pool).
 */
export async function inWorkspace<T>(
  ds: DataSource,
  workspaceId: string,
  fn: (tx: TenantTransaction) => Promise<T>,
  opts: { gated?: boolean } = {},
): Promise<T> {
  const tx = new TenantTransaction(ds, workspaceId, opts.gated ?? true);
  try {
    const result = await fn(tx);
    await tx.commit();
    return result;
  } catch (err) {
    await tx.rollback().catch(() => undefined);
    throw err;
  }
}
