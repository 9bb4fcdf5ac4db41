import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse';
import type { DataSource } from 'typeorm';
import { rowMapper } from '../../data/hydrate';
import { inWorkspace, isUuid, type TenantTransaction } from '../../db/tenant-transaction';
import { workspaceGate } from '../../db/workspace-gate';
import type { ServiceContext } from '../../data/context';
import { badField, badInput, type FieldError, notFound } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { requireWrite, scopesOfRole, type Viewer } from '../../kernel/viewer';
import { type BatchResult, BatchItemStatus, MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import { recordEvent } from '../../data/event-log';
import { convertRow, CSV_FIELDS, type DateOrder, defaultMatchOn, mappingFromHeader } from './csv-fields';
import { ImportJob, type ImportRowError, ImportStatus } from './import-job.entity';
import type { StartImportInput } from './import.types';
import { RECORD_KINDS } from '../registry';
import type { Role } from '../../kernel/roles';
import { ApiScope, ActorType } from '../../kernel/roles';

/**
 * Rows per batch (one transaction, one progress event). Validating and writing a batch is work on the
 * event loop every request of this instance shares: 500 rows held it for about 0.2 s, 100 for a fifth.
 */
const BATCH = 100;
/**
 * While another workspace is active on the instance, an import waits after each batch as long as the
 * batch took (at most this long): a tenant's bulk load then takes at most half of the event loop and
 * of the database's time, and the others' requests keep their latency. Alone, it runs flat out.
 */
const MAX_YIELD_MS = 1000;
const MAX_STORED_ERRORS = 1000;

/** The service of a kind a file may be imported into (method syntax: each takes its own kind's inputs). */
interface Upserter {
  upsert(ctx: ServiceContext, inputs: object[], matchOn: MatchOn, allOrNone: boolean, keylessCreates: boolean): Promise<BatchResult>;
}
interface ImportTarget {
  upsert: Upserter['upsert'];
  inputClass: new () => object;
}

class DryRunRollback extends Error {
  constructor(readonly result: BatchResult) {
    super('dry run');
  }
}

type Counts = { created: number; updated: number; unchanged: number; failed: number };

class ImportStopped extends Error {}

/** An all-or-none import that found failing rows: its transaction is undone, the findings kept. */
class AllOrNoneRollback extends Error {
  constructor(
    readonly failed: number,
    readonly errors: ImportRowError[],
  ) {
    super('all or none');
  }
}

/**
 * CSV imports: a job row holds the file and the mapping; a runner works through it in batches of
 * 100 rows, each batch written through the entity's upsert together with the job's progress in one
 * transaction, so a crash resumes where the last batch ended and no row is applied twice.
 */
export class ImportService {
  /** Jobs this process has taken on: running, or waiting for their workspace's turn. */
  private readonly running = new Set<string>();
  /** Per workspace: how many of its jobs run now, and the ids of those waiting (in order). */
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, string[]>();
  private stopped = false;
  /** The kinds a file may be imported into, with the service that upserts its rows. */
  private readonly targets: Partial<Record<EntityType, ImportTarget>> = {};

  constructor(
    /** The requests' pool: its gate says whether other workspaces are active (a job then yields). */
    private readonly requestDs: DataSource,
    private readonly customFields: CustomFieldService,
    upserters: Partial<Record<EntityType, Upserter>>,
    private readonly log: Logger,
    /**
     * The workers' pool: its role may list the unfinished jobs of every workspace, and jobs run in it
     * with the workers' statement time (WORKER_STATEMENT_TIMEOUT_MS), not a request's.
     */
    private readonly workerDs: DataSource = requestDs,
    /** Jobs of one workspace that run at once here: one tenant's imports never take every connection. */
    private readonly maxPerWorkspace = 1,
  ) {
    // The kinds a file may be imported into: those whose descriptor describes their CSV, with their service.
    for (const kind of RECORD_KINDS) {
      const service = upserters[kind.entityType as EntityType];
      if (kind.csv && service) this.targets[kind.entityType as EntityType] = { upsert: (...args) => service.upsert(...args), inputClass: kind.csv.input };
    }
  }

  async get(ctx: ServiceContext, id: string): Promise<ImportJob> {
    if (!isUuid(id)) throw notFound('Import job');
    const row = await ctx.tx.one('SELECT * FROM import_job WHERE workspace_id = $1 AND id = $2', [ctx.tx.workspaceId, id]);
    if (!row) throw notFound('Import job');
    return rowMapper(ctx.tx.dataSource, ImportJob)(row);
  }

  /** Checks the header and the mapping, stores the job, and starts it once the request commits. */
  async start(ctx: ServiceContext, input: StartImportInput): Promise<ImportJob> {
    requireWrite(ctx.viewer);
    const fields = CSV_FIELDS[input.entityType];
    if (!fields || !this.targets[input.entityType])
      throw badField('entityType', 'imports take accounts, contacts, leads, opportunities, products or activities');
    const { header, rows } = await parseCsv(input.csv);
    if (rows.length === 0) throw badField('csv', 'holds no data row');
    const mapping = input.mapping ?? mappingFromHeader(header, fields, await this.customFields.list(ctx, input.entityType));
    if (input.mapping == null && Object.keys(mapping).length === 0)
      throw badField('mapping', `no column of the header names a field of ${input.entityType.toLowerCase()}s: give a mapping (CSV column -> field)`);
    await this.checkMapping(ctx, input.entityType, mapping, header, fields);
    const id = randomUUID();
    await ctx.tx.query(
      `INSERT INTO import_job (workspace_id, id, entity_type, status, dry_run, all_or_none, match_on, mapping, date_format, csv, total, created_by_id, actor_type, actor_id)
       VALUES ($1, $2, $3, 'PENDING', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
      [
        ctx.tx.workspaceId,
        id,
        input.entityType,
        input.dryRun ?? false,
        input.allOrNone ?? false,
        input.matchOn ?? defaultMatchOn(input.entityType, mapping, rows),
        JSON.stringify(mapping),
        input.dateFormat ?? 'MDY',
        input.csv,
        rows.length,
        ctx.viewer.userId,
        ctx.actor.type,
        ctx.actor.id,
      ],
    );
    await jobEvent(ctx.tx, 'import_job.created', await this.get(ctx, id));
    ctx.tx.afterCommit(() => this.kick(ctx.tx.workspaceId, id));
    return this.get(ctx, id);
  }

  /** Picks up the jobs a stopped instance left unfinished (through the worker's definer function). */
  async resumeUnfinished(): Promise<void> {
    const jobs: { workspace_id: string; id: string }[] = await this.workerDs.query('SELECT * FROM worker_unfinished_import_jobs()');
    for (const j of jobs) this.kick(j.workspace_id, j.id);
  }

  /** Stops taking batches: running jobs end after their current batch and stay RUNNING, to resume later. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Jobs still waiting stay PENDING: the next start resumes them.
    for (const ids of this.waiting.values()) for (const id of ids) this.running.delete(id);
    this.waiting.clear();
    await this.idle();
  }

  /** Resolves when no job runs in this process (tests and shutdown wait on it). */
  async idle(): Promise<void> {
    while (this.running.size) await new Promise((r) => setTimeout(r, 20));
  }

  private kick(workspaceId: string, id: string): void {
    if (this.running.has(id) || this.stopped) return;
    this.running.add(id);
    // Past the workspace's share the job stays PENDING and waits its turn (in this process, or after a restart).
    if ((this.active.get(workspaceId) ?? 0) >= this.maxPerWorkspace) return void this.waiting.set(workspaceId, [...(this.waiting.get(workspaceId) ?? []), id]);
    this.launch(workspaceId, id);
  }

  private launch(workspaceId: string, id: string): void {
    this.active.set(workspaceId, (this.active.get(workspaceId) ?? 0) + 1);
    void this.run(workspaceId, id)
      .catch((err) => this.log.error({ err, jobId: id }, 'import job failed'))
      .finally(() => {
        this.running.delete(id);
        const left = this.active.get(workspaceId)! - 1;
        if (left) this.active.set(workspaceId, left);
        else this.active.delete(workspaceId);
        const next = this.waiting.get(workspaceId)?.shift();
        if (!this.waiting.get(workspaceId)?.length) this.waiting.delete(workspaceId);
        if (next && !this.stopped) this.launch(workspaceId, next);
        else if (next) this.running.delete(next);
      });
  }

  private async run(workspaceId: string, id: string): Promise<void> {
    const job = await inWorkspace(this.workerDs, workspaceId, async (tx) => {
      const row = await tx.one(
        `UPDATE import_job SET status = 'RUNNING', started_at = coalesce(started_at, now()), updated_at = now() WHERE workspace_id = $1 AND id = $2 AND status IN ('PENDING', 'RUNNING') RETURNING *`,
        [workspaceId, id],
      );
      if (!row) return null;
      const claimed = rowMapper(tx.dataSource, ImportJob)(row);
      await jobEvent(tx, 'import_job.started', claimed);
      return claimed;
    });
    if (!job) return;
    try {
      const csv = (await inWorkspace(this.workerDs, workspaceId, (tx) =>
        tx.one<{ csv: string }>('SELECT csv FROM import_job WHERE workspace_id = $1 AND id = $2', [workspaceId, id]),
      ))!.csv;
      const { rows } = await parseCsv(csv);
      const target = this.targets[job.entityType]!;
      if (job.allOrNone && !job.dryRun) return await this.runAllOrNone(workspaceId, id, job, rows, target);
      for (let start = job.processed; start < rows.length; start += BATCH) {
        if (this.stopped) return;
        const began = performance.now();
        const applied = await inWorkspace(this.workerDs, workspaceId, async (tx) => {
          // Every instance resumes unfinished jobs on start, so another may run this one too: the job
          // row, locked, says which batch is next. A runner that finds it moved on leaves the job to the other.
          const next = await tx.one<{ processed: number; status: string }>(
            'SELECT processed, status FROM import_job WHERE workspace_id = $1 AND id = $2 FOR UPDATE',
            [workspaceId, id],
          );
          if (next?.status !== ImportStatus.RUNNING || next.processed !== start) return false;
          const { counts, errors } = await this.applyBatch(tx, job, target, rows, start);
          await recordProgress(tx, job, Math.min(BATCH, rows.length - start), counts, errors);
          return true;
        });
        if (!applied) return;
        // An import is background work: requests waiting on the event loop go first, and while another
        // workspace is active it leaves as much time as it took (MAX_YIELD_MS).
        const took = performance.now() - began;
        const contended = workspaceGate(this.requestDs)?.contended(workspaceId);
        await new Promise((resolve) => (contended ? setTimeout(resolve, Math.min(took, MAX_YIELD_MS)) : setImmediate(resolve)));
      }
      await this.finish(workspaceId, id, ImportStatus.COMPLETED, null);
    } catch (err) {
      const kept = job.allOrNone && !job.dryRun ? 'nothing was written' : 'the rows before it were imported';
      await this.finish(workspaceId, id, ImportStatus.FAILED, `The import stopped on an unexpected error; ${kept}`).catch(() => undefined);
      throw err;
    }
  }

  /** Converts and upserts the rows of one batch (from `start`): what it did, and the row errors. */
  private async applyBatch(
    tx: TenantTransaction,
    job: ImportJob,
    target: ImportTarget,
    rows: Record<string, string>[],
    start: number,
  ): Promise<{ counts: Counts; errors: ImportRowError[] }> {
    const viewer = await this.viewerOf(tx, job);
    const ctx: ServiceContext = { tx, viewer, actor: { type: job.actorType as ActorType, id: job.actorId } };
    const custom = new Map((await this.customFields.list(ctx, job.entityType)).map((d) => [d.key, d]));
    const chunk = rows.slice(start, start + BATCH);
    const errors: ImportRowError[] = [];
    const counts: Counts = { created: 0, updated: 0, unchanged: 0, failed: 0 };
    const inputs: { row: number; input: object }[] = [];
    chunk.forEach((r, i) => {
      const rowNumber = start + i + 2;
      const c = convertRow(r, job.mapping, CSV_FIELDS[job.entityType]!, custom, job.dateFormat as DateOrder);
      if (c.errors.length) {
        counts.failed++;
        errors.push(...c.errors.map((e) => ({ row: rowNumber, column: e.column, message: e.message })));
      } else inputs.push({ row: rowNumber, input: Object.assign(new target.inputClass(), c.input) });
    });
    const result = await this.apply(
      ctx,
      target,
      inputs.map((x) => x.input),
      job,
    );
    result.results.forEach((r, i) => {
      if (r.status === BatchItemStatus.FAILED)
        errors.push(
          ...r.errors.map((e) => ({ row: inputs[i].row, column: columnOf(job.mapping, e.field), message: e.field ? `${e.field}: ${e.message}` : e.message })),
        );
    });
    counts.created += result.created;
    counts.updated += result.updated;
    counts.unchanged += result.unchanged;
    counts.failed += result.failed;
    return { counts, errors };
  }

  /**
   * allOrNone: every batch in one transaction, which is undone if any row fails. Then the job holds
   * the row errors, no record was written, and it is FAILED. Progress shows at the end only (the
   * batches' work is not visible before the commit); stopped midway, it starts over on resume.
   */
  private async runAllOrNone(workspaceId: string, id: string, job: ImportJob, rows: Record<string, string>[], target: ImportTarget): Promise<void> {
    try {
      const done = await inWorkspace(this.workerDs, workspaceId, async (tx) => {
        const next = await tx.one<{ status: string }>('SELECT status FROM import_job WHERE workspace_id = $1 AND id = $2 AND processed = 0 FOR UPDATE', [
          workspaceId,
          id,
        ]);
        if (next?.status !== ImportStatus.RUNNING) return false;
        const totals: Counts = { created: 0, updated: 0, unchanged: 0, failed: 0 };
        const errors: ImportRowError[] = [];
        for (let start = 0; start < rows.length; start += BATCH) {
          if (this.stopped) throw new ImportStopped(); // undoes the batches so far: the job resumes from its start
          const batch = await this.applyBatch(tx, job, target, rows, start);
          for (const k of Object.keys(totals) as (keyof Counts)[]) totals[k] += batch.counts[k];
          errors.push(...batch.errors);
        }
        if (totals.failed) throw new AllOrNoneRollback(totals.failed, errors);
        await recordProgress(tx, job, rows.length, totals, []);
        return true;
      }).catch((err: unknown) => {
        if (err instanceof ImportStopped) return false;
        throw err;
      });
      if (done) await this.finish(workspaceId, id, ImportStatus.COMPLETED, null);
    } catch (err) {
      if (!(err instanceof AllOrNoneRollback)) throw err;
      await inWorkspace(this.workerDs, workspaceId, (tx) =>
        recordProgress(tx, job, rows.length, { created: 0, updated: 0, unchanged: 0, failed: err.failed }, err.errors),
      );
      await this.finish(workspaceId, id, ImportStatus.FAILED, `${err.failed} of ${rows.length} rows failed; allOrNone: nothing was written`);
    }
  }

  /** A dry run applies each batch in a savepoint and rolls it back: every check runs, nothing stays. */
  private async apply(ctx: ServiceContext, target: ImportTarget, inputs: object[], job: ImportJob): Promise<BatchResult> {
    // A row whose key cell is empty creates a record (as a person importing a list expects), where an upsert through the API refuses it.
    if (!job.dryRun) return target.upsert(ctx, inputs, job.matchOn, false, true);
    try {
      await ctx.tx.savepoint(async () => {
        throw new DryRunRollback(await target.upsert(ctx, inputs, job.matchOn, false, true));
      });
    } catch (err) {
      if (err instanceof DryRunRollback) return err.result;
      throw err;
    }
    throw new Error('unreachable');
  }

  private async finish(workspaceId: string, id: string, status: ImportStatus, message: string | null): Promise<void> {
    await inWorkspace(this.workerDs, workspaceId, async (tx) => {
      const [row] = await tx.query(
        'UPDATE import_job SET status = $3, message = $4, finished_at = now(), updated_at = now(), version = version + 1 WHERE workspace_id = $1 AND id = $2 RETURNING *',
        [workspaceId, id, status, message],
      );
      await jobEvent(tx, status === ImportStatus.COMPLETED ? 'import_job.completed' : 'import_job.failed', rowMapper(tx.dataSource, ImportJob)(row));
    });
  }

  /** The job acts as whoever started it, with their permissions as they are now. */
  private async viewerOf(tx: TenantTransaction, job: ImportJob): Promise<Viewer> {
    const base = { workspaceId: tx.workspaceId, teamId: null };
    if (job.actorType === ActorType.API_KEY) {
      const key = await tx.one<{ scopes: ApiScope[] }>('SELECT scopes FROM api_key WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL', [
        tx.workspaceId,
        job.actorId,
      ]);
      return { ...base, kind: 'API_KEY', userId: job.createdById, apiKeyId: job.actorId, role: null, scopes: key?.scopes ?? [] };
    }
    const user = await tx.one<{ role: Role }>('SELECT role FROM app_user WHERE workspace_id = $1 AND id = $2 AND active AND deleted_at IS NULL', [
      tx.workspaceId,
      job.actorId,
    ]);
    return { ...base, kind: 'USER', userId: job.actorId, apiKeyId: null, role: user?.role ?? null, scopes: user ? scopesOfRole(user.role) : [] };
  }

  private async checkMapping(ctx: ServiceContext, entityType: EntityType, mapping: unknown, header: string[], fields: Record<string, unknown>): Promise<void> {
    if (!mapping || typeof mapping !== 'object' || Array.isArray(mapping) || Object.keys(mapping).length === 0)
      throw badField('mapping', 'must be an object: CSV column -> field');
    const custom = new Set((await this.customFields.list(ctx, entityType)).map((d) => d.key));
    const errors: FieldError[] = [];
    const targets = new Set<string>();
    for (const [column, field] of Object.entries(mapping)) {
      if (!header.includes(column)) errors.push({ field: `mapping.${column}`, message: `no column ${column} in the CSV header` });
      if (typeof field !== 'string') errors.push({ field: `mapping.${column}`, message: 'must name a field' });
      else if (field.startsWith('customFields.') ? !custom.has(field.slice(13)) : !(field in fields))
        errors.push({ field: `mapping.${column}`, message: `${field} is not a field of ${entityType.toLowerCase()}s` });
      else if (targets.has(field)) errors.push({ field: `mapping.${column}`, message: `${field} is mapped twice` });
      else targets.add(field);
    }
    if (errors.length) throw badInput(errors);
  }
}

/**
 * A job's life in the event log (created, each batch's progress, completed or failed), as whoever
 * started it: what subscriptions and webhooks will follow.
 */
/** Adds a batch's (or, all or none, the whole file's) outcome to the job, with its progress event. */
async function recordProgress(tx: TenantTransaction, job: ImportJob, rows: number, counts: Counts, errors: ImportRowError[]): Promise<void> {
  const [row] = await tx.query(
    `UPDATE import_job SET processed = processed + $3, created = created + $4, updated = updated + $5, unchanged = unchanged + $6, failed = failed + $7,
       errors = CASE WHEN jsonb_array_length(errors) >= ${MAX_STORED_ERRORS} THEN errors ELSE errors || $8::jsonb END,
       error_count = error_count + $9, updated_at = now(), version = version + 1
     WHERE workspace_id = $1 AND id = $2 RETURNING *`,
    [
      tx.workspaceId,
      job.id,
      rows,
      counts.created,
      counts.updated,
      counts.unchanged,
      counts.failed,
      JSON.stringify(errors.slice(0, MAX_STORED_ERRORS)),
      errors.length,
    ],
  );
  await jobEvent(tx, 'import_job.progressed', rowMapper(tx.dataSource, ImportJob)(row));
}

async function jobEvent(tx: TenantTransaction, type: string, job: ImportJob): Promise<void> {
  const data = {
    id: job.id,
    entityType: job.entityType,
    status: job.status,
    dryRun: job.dryRun,
    allOrNone: job.allOrNone,
    total: job.total,
    processed: job.processed,
    created: job.created,
    updated: job.updated,
    unchanged: job.unchanged,
    failed: job.failed,
    errorCount: job.errorCount,
  };
  await recordEvent(tx, { type, entityType: 'import_job', entityId: job.id, actor: { type: job.actorType as ActorType, id: job.actorId }, data });
}

/** How much CSV text is parsed between two turns of the event loop (a few milliseconds of work). */
const PARSE_SLICE_CHARS = 32_768;

/**
 * Parses CSV text: BOM or not, `,` or `;` (whichever the header uses), quoted fields with newlines.
 * In slices, yielding the event loop between them: a file of a few megabytes takes a few hundred
 * milliseconds to parse, which in one piece would hold every other tenant's requests that long.
 */
async function parseCsv(csv: string): Promise<{ header: string[]; rows: Record<string, string>[] }> {
  const text = csv.replace(/^\uFEFF/, '');
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  let header: string[] | undefined;
  const rows: Record<string, string>[] = [];
  const parser = parse({ delimiter, relax_column_count: true, skip_empty_lines: true, trim: false });
  let failure: Error | undefined;
  parser.on('readable', () => {
    for (let record: string[] | null; (record = parser.read() as string[] | null) !== null;) {
      if (!header) header = record.map((h) => h.trim());
      else rows.push(Object.fromEntries(header.map((n, i) => [n, record![i] ?? ''])));
    }
  });
  parser.on('error', (err) => (failure ??= err));
  const ended = new Promise<void>((resolve) => parser.once('close', resolve));
  for (let at = 0; at < text.length && !failure;) {
    // A slice never ends between the two halves of a surrogate pair (each is encoded on its own).
    let end = Math.min(text.length, at + PARSE_SLICE_CHARS);
    if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1])) end++;
    parser.write(text.slice(at, end));
    at = end;
    await new Promise((resolve) => setImmediate(resolve));
  }
  parser.end();
  await ended;
  if (failure) throw badField('csv', `is not valid CSV: ${failure.message.split('\n')[0]}`);
  return { header: header ?? [], rows };
}

function columnOf(mapping: Record<string, string>, field: string): string | null {
  const top = field.split('.')[0] === 'customFields' ? field : field.split('.')[0];
  return Object.entries(mapping).find(([, f]) => f === top || f === field)?.[0] ?? null;
}
