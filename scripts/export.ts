// Streams a whole list out of Trellis through the API, page by page (keyset cursors, so every page
// costs the same), in constant memory:
//
//   TRELLIS_API_KEY=trl_... npx trellis export --entity opportunities --format csv|ndjson [--filter '<json>'] [--out file] [--parallel 2] [--no-escape-formulas]
//
// In CSV, a cell that a spreadsheet would run as a formula (= + - @ tab CR first) gets a leading
// single quote (see lib/csv-cells.ts); --no-escape-formulas writes cells as they are, for a program
// that reads the file rather than a person opening it.
//
// With --parallel N (default 1) rows come in runs of a page from each of N ranges of creation time
// (see exportRows): sort the output if its order matters.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import { csvCell } from './lib/csv-cells';
import { type ClientOptions, clientFromEnv, dataOf, gql, gqlText, jsonArrayElements, parseArgs } from './lib/api-client';
import { Progress } from './lib/progress';

const MONEY = '{ amount currency }';
/** The scalar fields exported per list, with the GraphQL type of its filter. */
const ENTITIES: Record<string, { filter: string; fields: string[] }> = {
  accounts: {
    filter: 'AccountFilter',
    fields: [
      'id',
      'externalId',
      'name',
      'domain',
      'industry',
      'type',
      'employees',
      `annualRevenue ${MONEY}`,
      'phone',
      'website',
      'address',
      'country',
      'owner { email }',
      'customFields',
      'createdAt',
      'updatedAt',
    ],
  },
  contacts: {
    filter: 'ContactFilter',
    fields: [
      'id',
      'externalId',
      'firstName',
      'lastName',
      'email',
      'phone',
      'title',
      'account { externalId name }',
      'owner { email }',
      'customFields',
      'createdAt',
      'updatedAt',
    ],
  },
  leads: {
    filter: 'LeadFilter',
    fields: [
      'id',
      'externalId',
      'firstName',
      'lastName',
      'email',
      'phone',
      'company',
      'title',
      'status',
      'source',
      'owner { email }',
      'customFields',
      'createdAt',
      'updatedAt',
    ],
  },
  opportunities: {
    filter: 'OpportunityFilter',
    fields: [
      'id',
      'externalId',
      'name',
      `amount ${MONEY}`,
      'status',
      'probability',
      'expectedCloseDate',
      'closedAt',
      'stage { name }',
      'pipeline { name }',
      'account { externalId name }',
      'owner { email }',
      'customFields',
      'createdAt',
      'updatedAt',
    ],
  },
  products: { filter: 'ProductFilter', fields: ['id', 'externalId', 'name', 'sku', 'description', `unitPrice ${MONEY}`, 'active', 'createdAt', 'updatedAt'] },
  activities: {
    filter: 'ActivityFilter',
    fields: [
      'id',
      'externalId',
      'type',
      'subject',
      'body',
      'status',
      'dueAt',
      'completedAt',
      'durationSeconds',
      'outcome',
      'account { externalId }',
      'contact { externalId }',
      'opportunity { externalId }',
      'owner { email }',
      'customFields',
      'createdAt',
      'updatedAt',
    ],
  },
};

/** Nested objects become dotted columns (amount.amount, owner.email); JSON stays JSON. */
function flatten(node: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(node)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (k === 'customFields') out[key] = v == null ? '' : JSON.stringify(v);
    else if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out[key] = v ?? '';
  }
  return out;
}

export interface ExportOptions {
  entity: string;
  format: 'csv' | 'ndjson';
  filter?: unknown;
  out: NodeJS.WritableStream;
  /** Stop after this many rows (benchmarks). */
  limit?: number;
  quiet?: boolean;
  /** CSV: quote cells that start like a formula (default true). */
  escapeFormulas?: boolean;
  /**
   * Ranges of creation time read at once (default 1: rows in the list's order). Each range is a
   * chain of pages (a page's cursor is needed for the next), so one chain leaves the server idle while
   * PostgreSQL reads and while the page travels. On the 2-core bench machine, where server, database
   * and client share the cores: 24.1k rows/s with 1, 32.9k with 2; 3 help a server with a process
   * per core (WEB_CONCURRENCY=2: 37.0k with 2, 41.5k with 3). Pages of the ranges interleave in the output.
   */
  parallel?: number;
}

type Page = { page: { totalCount?: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Record<string, unknown>[] } };
/** A page as the export reads it: its rows parsed (CSV), or as their JSON text (NDJSON). */
type ReadPage = Pick<Page['page'], 'pageInfo'> & ({ nodes: Record<string, unknown>[] } | { json: string[] });

const PAGE_HEAD = '{"data":{"page":{"pageInfo":';
const NODES = ',"nodes":[';

/**
 * For NDJSON, a page's rows are cut out of the response as they came: parsing 500 bytes a row and
 * writing them back out again was half of this client's CPU, which on one machine is taken from the
 * server. Only a response of the expected shape is cut (no errors: they would come first); any other is parsed.
 */
function readPage(text: string, asJson: boolean): ReadPage {
  const nodesAt = asJson && text.startsWith(PAGE_HEAD) ? text.indexOf(NODES, PAGE_HEAD.length) : -1;
  if (nodesAt < 0) return dataOf<Page>(JSON.parse(text)).page;
  const { elements, close } = jsonArrayElements(text, nodesAt + NODES.length - 1);
  if (!text.startsWith(']}}', close)) return dataOf<Page>(JSON.parse(text)).page;
  return { pageInfo: JSON.parse(text.slice(PAGE_HEAD.length, nodesAt)) as Page['page']['pageInfo'], json: elements };
}

/** Streams every matching row to `out`, a page at a time; returns the rows written and the seconds. */
export async function exportRows(client: ClientOptions, o: ExportOptions): Promise<{ rows: number; seconds: number }> {
  const { entity, format, out } = o;
  const spec = ENTITIES[entity];
  if (!spec) throw new Error(`--entity must be one of ${Object.keys(ENTITIES).join(', ')}`);
  const parallel = o.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 8) throw new Error('--parallel must be 1 to 8');
  const started = Date.now();
  const ranges = await creationRanges(client, entity, spec.filter, o.filter ?? null, parallel);
  const query = `query($after: String, $filter: ${spec.filter}) {
    page: ${entity}(first: 1000, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor } nodes { ${spec.fields.join(' ')} } } }`;
  const escapeFormulas = o.escapeFormulas ?? true;
  // Money amounts come as Decimal text: a negative one stays a number for the spreadsheet.
  const numeric = new Set(spec.fields.filter((f) => f.endsWith(MONEY)).map((f) => `${f.split(' ')[0]}.amount`));
  let done = 0;
  const bar = o.quiet ? null : new Progress(`exporting ${entity}`, ranges.total);
  let header: string[] | null = null;
  let writing = Promise.resolve();
  // One page is written at a time, in the order the pages arrive; each range holds at most two.
  const write = (page: ReadPage, count: number) =>
    (writing = writing.then(async () => {
      let chunk = '';
      if ('json' in page) chunk = page.json.slice(0, count).join('\n') + (count ? '\n' : '');
      else if (format === 'ndjson') for (const node of page.nodes.slice(0, count)) chunk += JSON.stringify(node) + '\n';
      else {
        const nodes = page.nodes.slice(0, count);
        const rows = nodes.map((n) => flatten(n));
        if (!header && rows.length) {
          header = Object.keys(rows[0]);
          chunk += stringify([header]);
        }
        if (header) chunk += stringify(rows.map((row) => header!.map((h) => csvCell(row[h], numeric.has(h), escapeFormulas))));
      }
      if (chunk && !out.write(chunk)) await once(out, 'drain');
      bar?.update(done);
    }));
  const stopped = () => o.limit != null && done >= o.limit;
  const chain = async (filter: unknown) => {
    const fetchPage = (after: string | null): Promise<ReadPage> => {
      const p = gqlText(client, query, { after, filter }).then((text) => readPage(text, format === 'ndjson'));
      // Awaited later; marked handled now so that a failure while the previous page is written is not an unhandled rejection.
      p.catch(() => undefined);
      return p;
    };
    let pending: Promise<ReadPage> | null = fetchPage(null);
    while (pending) {
      const page: ReadPage = await pending;
      const size = 'json' in page ? page.json.length : page.nodes.length;
      const count = o.limit != null ? Math.min(size, Math.max(0, o.limit - done)) : size;
      done += count;
      // The next page is asked for before this one is written: the server works on it meanwhile.
      pending = !page.pageInfo.hasNextPage || stopped() ? null : fetchPage(page.pageInfo.endCursor);
      await write(page, count);
    }
  };
  try {
    await Promise.all(ranges.filters.map(chain));
    await writing;
  } finally {
    bar?.stop();
  }
  return { rows: done, seconds: (Date.now() - started) / 1000 };
}

/**
 * The filter split into `parallel` ranges of creation time, contiguous and disjoint: the first has
 * no lower bound and the last no upper one, so every row is in exactly one whatever its precision
 * (and rows created meanwhile too). Split evenly between the first and last creation times found.
 */
async function creationRanges(
  client: ClientOptions,
  entity: string,
  filterType: string,
  filter: unknown,
  parallel: number,
): Promise<{ total: number; filters: unknown[] }> {
  const ends = await gql<{ first: Page['page']; last: Page['page'] }>(
    client,
    `query($filter: ${filterType}) {
      first: ${entity}(first: 1, filter: $filter, orderBy: [{ field: CREATED_AT }]) { totalCount pageInfo { hasNextPage endCursor } nodes { createdAt } }
      last: ${entity}(first: 1, filter: $filter, orderBy: [{ field: CREATED_AT, direction: DESC }]) { pageInfo { hasNextPage endCursor } nodes { createdAt } } }`,
    { filter },
  );
  const total = ends.first.totalCount ?? 0;
  const from = Date.parse(String(ends.first.nodes[0]?.createdAt ?? ''));
  const to = Date.parse(String(ends.last.nodes[0]?.createdAt ?? ''));
  // Fewer than two pages a range, or one instant: one range.
  if (parallel === 1 || total < parallel * 1000 || !(to > from)) return { total, filters: [filter] };
  const cuts = Array.from({ length: parallel - 1 }, (_, i) => new Date(from + Math.round(((i + 1) * (to - from)) / parallel)).toISOString());
  const within = (range: Record<string, string>) => ({ createdAt: range });
  const filters = [within({ lt: cuts[0] }), ...cuts.slice(1).map((cut, i) => within({ gte: cuts[i], lt: cut })), within({ gte: cuts[cuts.length - 1] })];
  return { total, filters: filters.map((f) => (filter ? { and: [filter, f] } : f)) };
}

/** `trellis export ...`: the arguments after the command name. */
export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const client = clientFromEnv(args);
  const format = String(args.format ?? 'csv');
  if (format !== 'csv' && format !== 'ndjson') throw new Error('--format must be csv or ndjson');
  let filter: unknown;
  try {
    filter = args.filter ? JSON.parse(String(args.filter)) : null;
  } catch (err) {
    throw new Error(`--filter is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parallel = args.parallel != null ? Number(args.parallel) : undefined;
  const out = args.out ? await openOut(String(args.out)) : process.stdout;
  const { rows, seconds } = await exportRows(client, {
    entity: String(args.entity ?? ''),
    format,
    filter,
    out,
    parallel,
    escapeFormulas: !args['no-escape-formulas'],
  });
  if (out !== process.stdout) await new Promise<void>((r) => (out as NodeJS.WritableStream).end(r));
  process.stderr.write(`exported ${rows} in ${seconds.toFixed(1)} s (${Math.round(rows / Math.max(seconds, 0.001))} rows/s)\n`);
}

/** The output file, opened before any request: a folder that does not exist fails at once, in one line. */
async function openOut(path: string): Promise<NodeJS.WritableStream> {
  const out = createWriteStream(path);
  await Promise.race([once(out, 'open'), once(out, 'error').then(([err]) => Promise.reject(new Error(`cannot write ${path}: ${(err as Error).message}`)))]);
  return out;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`trellis export: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
