// Imports a CSV file through the API, in constant memory: the file is read as a stream and sent as
// import jobs of at most ~800 KB each (under the request size limit), one after another, with a
// progress bar and a summary of the row errors.
//
//   TRELLIS_API_KEY=trl_... npm run import -- --file contacts.csv --entity contacts [--dry-run]
//     [--match-on EMAIL] [--mapping '{"E-mail":"email"}'] [--date-format DMY]
// Without --mapping, each CSV column maps to the field of the same name.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { clientFromEnv, gql, parseArgs, progress, type ClientOptions } from './lib/api-client';

const ENTITY: Record<string, string> = { accounts: 'ACCOUNT', contacts: 'CONTACT', leads: 'LEAD', opportunities: 'OPPORTUNITY', products: 'PRODUCT', activities: 'ACTIVITY' };
const CHUNK_BYTES = 800_000;

interface Job {
  id: string;
  status: string;
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
    const { importJob } = await gql<{ importJob: Job }>(c, 'query($id: ID!) { importJob(id: $id) { id status processed created updated unchanged failed errorCount errors { row column message } message } }', { id: startImport.id });
    if (importJob.status === 'COMPLETED' || importJob.status === 'FAILED') return importJob;
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const client = clientFromEnv(args);
  const entityType = ENTITY[String(args.entity ?? '')];
  if (!entityType) throw new Error(`--entity must be one of ${Object.keys(ENTITY).join(', ')}`);
  if (!args.file) throw new Error('--file is required');
  const given = args.mapping ? (JSON.parse(String(args.mapping)) as Record<string, string>) : null;
  const totals = { rows: 0, created: 0, updated: 0, unchanged: 0, failed: 0 };
  const errors: Job['errors'] = [];
  let header: string[] | null = null;
  let chunk: string[][] = [];
  let bytes = 0;
  let rowOffset = 0;

  const flush = async () => {
    if (!header || chunk.length === 0) return;
    const mapping = given ?? Object.fromEntries(header.map((h) => [h, h]));
    const job = await runJob(client, { entityType, csv: stringify([header, ...chunk]), mapping, matchOn: args['match-on'] ?? 'EXTERNAL_ID', dryRun: !!args['dry-run'], dateFormat: args['date-format'] ?? 'MDY' });
    if (job.status === 'FAILED') throw new Error(`import job ${job.id} failed: ${job.message}`);
    for (const k of ['created', 'updated', 'unchanged', 'failed'] as const) totals[k] += job[k];
    errors.push(...job.errors.map((e) => ({ ...e, row: e.row + rowOffset })));
    rowOffset += chunk.length;
    totals.rows += chunk.length;
    progress('importing', totals.rows, null);
    chunk = [];
    bytes = 0;
  };

  const parser = createReadStream(String(args.file)).pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, delimiter: [',', ';'] }));
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
  process.stderr.write('\n');
  console.log(`${args['dry-run'] ? 'dry run: ' : ''}${totals.rows} rows: ${totals.created} created, ${totals.updated} updated, ${totals.unchanged} unchanged, ${totals.failed} failed`);
  for (const e of errors.slice(0, 20)) console.log(`  row ${e.row}${e.column ? ` (${e.column})` : ''}: ${e.message}`);
  if (errors.length > 20) console.log(`  ... and ${errors.length - 20} more`);
  if (totals.failed) process.exitCode = 2;
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
