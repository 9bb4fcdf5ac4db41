// Imports a CSV file through the API, in constant memory: the file is read as a stream and sent as
// import jobs of at most ~800 KB each (under the request size limit), one after another, with a
// progress bar and a summary of the row errors.
//
//   TRELLIS_API_KEY=trl_... npx trellis import --file contacts.csv --entity contacts [--dry-run]
//     [--match-on EMAIL] [--mapping '{"E-mail":"email"}'] [--date-format DMY]
// Without --mapping, the server reads the mapping from the header (columns named like fields, as the
// export writes them; the others are left out, and said so). Without --match-on the
// server chooses the key (see StartImportInput.matchOn): the external id when a column maps to it,
// else the kind's natural key (email, domain, SKU); the summary says which.
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { clientFromEnv, gql, parseArgs, type ClientOptions } from './lib/api-client';
import { Progress } from './lib/progress';

const ENTITY: Record<string, string> = {
  accounts: 'ACCOUNT',
  contacts: 'CONTACT',
  leads: 'LEAD',
  opportunities: 'OPPORTUNITY',
  products: 'PRODUCT',
  activities: 'ACTIVITY',
};
const CHUNK_BYTES = 800_000;

interface Job {
  id: string;
  status: string;
  matchOn: string;
  mapping: Record<string, string>;
  processed: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errorCount: number;
  errors: { row: number; column: string | null; message: string }[];
  message: string | null;
}

async function runJob(c: ClientOptions, input: Record<string, unknown>): Promise<Job> {
  const { startImport } = await gql<{ startImport: { id: string } }>(c, 'mutation($i: StartImportInput!) { startImport(input: $i) { id } }', { i: input });
  for (;;) {
    const { importJob } = await gql<{ importJob: Job }>(
      c,
      'query($id: ID!) { importJob(id: $id) { id status matchOn mapping processed created updated unchanged failed errorCount errors { row column message } message } }',
      { id: startImport.id },
    );
    if (importJob.status === 'COMPLETED' || importJob.status === 'FAILED') return importJob;
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** CSV records of a file (quoted fields may hold newlines), for the progress bar's total. */
async function countRecords(file: string): Promise<number> {
  let n = 0;
  for await (const _ of createReadStream(file).pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, delimiter: [',', ';'] }))) n++;
  return Math.max(0, n - 1);
}

/** `trellis import ...`: the arguments after the command name. */
export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const client = clientFromEnv(args);
  const entityType = ENTITY[String(args.entity ?? '')];
  if (!entityType) throw new Error(`--entity must be one of ${Object.keys(ENTITY).join(', ')}`);
  if (!args.file || args.file === true) throw new Error('--file <csv> is required');
  const file = String(args.file);
  await access(file, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  let given: Record<string, string> | null = null;
  try {
    given = args.mapping ? (JSON.parse(String(args.mapping)) as Record<string, string>) : null;
  } catch (err) {
    throw new Error(`--mapping is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const totals = { rows: 0, created: 0, updated: 0, unchanged: 0, failed: 0 };
  const errors: Job['errors'] = [];
  const matchedOn = new Set<string>();
  let header: string[] | null = null;
  let chunk: string[][] = [];
  let bytes = 0;
  let rowOffset = 0;
  const total = await countRecords(file).catch((err: Error) => {
    throw new Error(`${file} is not CSV: ${err.message}`);
  });
  const bar = new Progress('importing', total);

  const flush = async () => {
    if (!header || chunk.length === 0) return;
    const input: Record<string, unknown> = {
      entityType,
      csv: stringify([header, ...chunk]),
      dryRun: !!args['dry-run'],
      dateFormat: args['date-format'] ?? 'MDY',
    };
    if (given) input.mapping = given;
    // The key the server chose for the first part holds for the rest: one file, one key.
    const matchOn = args['match-on'] ?? [...matchedOn][0];
    if (matchOn) input.matchOn = matchOn;
    const job = await runJob(client, input);
    if (job.status === 'FAILED') throw new Error(`import job ${job.id} failed: ${job.message}`);
    if (!given && matchedOn.size === 0) {
      const left = header.filter((h) => !(h in job.mapping));
      if (left.length) process.stderr.write(`columns not imported (they name no field; give --mapping to map them): ${left.join(', ')}\n`);
    }
    matchedOn.add(job.matchOn);
    for (const k of ['created', 'updated', 'unchanged', 'failed'] as const) totals[k] += job[k];
    errors.push(...job.errors.map((e) => ({ ...e, row: e.row + rowOffset })));
    rowOffset += chunk.length;
    totals.rows += chunk.length;
    bar.update(totals.rows);
    chunk = [];
    bytes = 0;
  };

  try {
    bar.update(0);
    const parser = createReadStream(file).pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, delimiter: [',', ';'] }));
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record.map((h) => h.trim());
        continue;
      }
      chunk.push(record);
      bytes += record.reduce((n, v) => n + v.length + 3, 0);
      if (bytes >= CHUNK_BYTES) await flush();
    }
    await flush();
  } finally {
    bar.stop();
  }
  const keys = [...matchedOn].join(', ');
  console.log(
    `${args['dry-run'] ? 'dry run: ' : ''}${totals.rows} rows: ${totals.created} created, ${totals.updated} updated, ${totals.unchanged} unchanged, ${totals.failed} failed${keys ? ` (matched on ${keys})` : ''}`,
  );
  for (const e of errors.slice(0, 20)) console.log(`  row ${e.row}${e.column ? ` (${e.column})` : ''}: ${e.message}`);
  if (errors.length > 20) console.log(`  ... and ${errors.length - 20} more`);
  if (totals.failed) process.exitCode = 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`trellis import: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
