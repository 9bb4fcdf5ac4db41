// Streams a whole list out of Trellis through the API, page by page (keyset cursors, so every page
// costs the same), in constant memory:
//
//   TRELLIS_API_KEY=trl_... npm run export -- --entity opportunities --format csv|ndjson [--filter '<json>'] [--out file]
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import { type ClientOptions, clientFromEnv, gql, parseArgs, progress } from './lib/api-client';

const MONEY = '{ amount currency }';
/** The scalar fields exported per list, with the GraphQL type of its filter. */
const ENTITIES: Record<string, { filter: string; fields: string[] }> = {
  accounts: { filter: 'AccountFilter', fields: ['id', 'externalId', 'name', 'domain', 'industry', 'type', 'employees', `annualRevenue ${MONEY}`, 'phone', 'website', 'address', 'country', 'owner { email }', 'customFields', 'createdAt', 'updatedAt'] },
  contacts: { filter: 'ContactFilter', fields: ['id', 'externalId', 'firstName', 'lastName', 'email', 'phone', 'title', 'account { externalId name }', 'owner { email }', 'customFields', 'createdAt', 'updatedAt'] },
  leads: { filter: 'LeadFilter', fields: ['id', 'externalId', 'firstName', 'lastName', 'email', 'phone', 'company', 'title', 'status', 'source', 'owner { email }', 'customFields', 'createdAt', 'updatedAt'] },
  opportunities: { filter: 'OpportunityFilter', fields: ['id', 'externalId', 'name', `amount ${MONEY}`, 'status', 'probability', 'expectedCloseDate', 'closedAt', 'stage { name }', 'pipeline { name }', 'account { externalId name }', 'owner { email }', 'customFields', 'createdAt', 'updatedAt'] },
  products: { filter: 'ProductFilter', fields: ['id', 'externalId', 'name', 'sku', 'description', `unitPrice ${MONEY}`, 'active', 'createdAt', 'updatedAt'] },
  activities: { filter: 'ActivityFilter', fields: ['id', 'externalId', 'type', 'subject', 'body', 'status', 'dueAt', 'completedAt', 'durationSeconds', 'outcome', 'account { externalId }', 'contact { externalId }', 'opportunity { externalId }', 'owner { email }', 'customFields', 'createdAt', 'updatedAt'] },
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
}

/** Streams every matching row to `out`, a page at a time; returns the rows written and the seconds. */
export async function exportRows(client: ClientOptions, o: ExportOptions): Promise<{ rows: number; seconds: number }> {
  const { entity, format, out } = o;
  const spec = ENTITIES[entity];
  if (!spec) throw new Error(`--entity must be one of ${Object.keys(ENTITIES).join(', ')}`);
  const filter = o.filter ?? null;
  const query = `query($after: String, $filter: ${spec.filter}, $count: Boolean!) {
    page: ${entity}(first: 500, after: $after, filter: $filter) { totalCount @include(if: $count) pageInfo { hasNextPage endCursor } nodes { ${spec.fields.join(' ')} } } }`;
  type Page = { page: { totalCount?: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Record<string, unknown>[] } };
  const fetchPage = (after: string | null): Promise<Page> => {
    const p = gql<Page>(client, query, { after, filter, count: after === null });
    // Awaited later; marked handled now so that a failure while the previous page is written is not an unhandled rejection.
    p.catch(() => undefined);
    return p;
  };
  let total: number | null = null;
  let done = 0;
  let header: string[] | null = null;
  const started = Date.now();
  let pending: Promise<Page> | null = fetchPage(null);
  while (pending) {
    const data: Page = await pending;
    total ??= data.page.totalCount ?? null;
    const nodes = data.page.nodes;
    const last = !data.page.pageInfo.hasNextPage || (o.limit != null && done + nodes.length >= o.limit);
    // The next page is asked for before this one is written: the server works on it meanwhile.
    // At most two pages are held at a time, so memory stays flat.
    pending = last ? null : fetchPage(data.page.pageInfo.endCursor);
    let chunk = '';
    if (format === 'ndjson') for (const node of nodes) chunk += JSON.stringify(node) + '\n';
    else {
      const rows = nodes.map((n) => flatten(n));
      if (!header && rows.length) {
        header = Object.keys(rows[0]);
        chunk += stringify([header]);
      }
      if (header) chunk += stringify(rows.map((row) => header!.map((h) => row[h] ?? '')));
    }
    done += nodes.length;
    if (!out.write(chunk)) await once(out, 'drain');
    if (!o.quiet) progress(`exporting ${entity}`, done, total);
  }
  return { rows: done, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const client = clientFromEnv(args);
  const format = String(args.format ?? 'csv');
  if (format !== 'csv' && format !== 'ndjson') throw new Error('--format must be csv or ndjson');
  const out = args.out ? createWriteStream(String(args.out)) : process.stdout;
  const { rows, seconds } = await exportRows(client, { entity: String(args.entity ?? ''), format, filter: args.filter ? JSON.parse(String(args.filter)) : null, out });
  if (out !== process.stdout) await new Promise<void>((r) => (out as NodeJS.WritableStream).end(r));
  process.stderr.write(`exported ${rows} in ${seconds.toFixed(1)} s (${Math.round(rows / Math.max(seconds, 0.001))} rows/s)\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
