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
  let after: string | null = null;
  let total: number | null = null;
  let done = 0;
  let header: string[] | null = null;
  const started = Date.now();
  for (;;) {
    const data: { page: { totalCount?: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Record<string, unknown>[] } } = await gql(client, query, { after, filter, count: after === null });
    total ??= data.page.totalCount ?? null;
    let chunk = '';
    for (const node of data.page.nodes) {
      if (format === 'ndjson') chunk += JSON.stringify(node) + '\n';
      else {
        const row = flatten(node);
        if (!header) {
          header = Object.keys(row);
          chunk += stringify([header]);
        }
        chunk += stringify([header.map((h) => row[h] ?? '')]);
      }
    }
    done += data.page.nodes.length;
    if (!out.write(chunk)) await once(out, 'drain');
    if (!o.quiet) progress(`exporting ${entity}`, done, total);
    if (!data.page.pageInfo.hasNextPage || (o.limit && done >= o.limit)) break;
    after = data.page.pageInfo.endCursor;
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
