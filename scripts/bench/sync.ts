// `npm run bench:sync`: what integrations see (issue 4).
//  1. Upsert 100 000 contacts through the API in batches of 1000, beside a raw COPY of the same rows.
//  2. Export opportunities through the API page by page (the export CLI's code), with its memory:
//     from one server process, one chain of pages (the CLI's default) and two (`--parallel 2`); then
//     from two (WEB_CONCURRENCY=2, the machine's two cores), two chains and three.
// Sizes: BENCH_SYNC_CONTACTS (100000), BENCH_EXPORT_ROWS (1000000: stops early if the data has fewer).
// BENCH_SYNC_CONCURRENCY (2): batches in flight at once, as an integration keeps the server busy while
// PostgreSQL writes the previous batch (1: one after the other).
// The export reads the main bench database (bench/data/scale-<BENCH_SCALE>; run `npm run bench` once
// to generate it); the upserts use a database of their own, made fresh for each run.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { loadBenchConfig, ROOT, writeResult } from './config';
import { post, startServer } from './servers';
import { readManifest, recreateDatabase, startDatabase } from './setup';
import { exportRows } from '../export';

const CONTACTS = Number(process.env.BENCH_SYNC_CONTACTS ?? 100_000);
const EXPORT_ROWS = Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000);
const BATCH = 1000;
const IN_FLIGHT = Number(process.env.BENCH_SYNC_CONCURRENCY ?? 2);

const contactRow = (i: number) => ({
  externalId: `ext-${i}`,
  firstName: `First${i % 97}`,
  lastName: `Last${i}`,
  email: `person${i}@example${i % 50}.com`,
  title: ['CEO', 'CTO', 'Buyer'][i % 3],
});

async function upsertBench(): Promise<Record<string, number>> {
  const cfg = loadBenchConfig([], { ...process.env, BENCH_SCALE: '0.0001' });
  const dataDir = join(ROOT, 'bench', 'data', 'sync');
  mkdirSync(dataDir, { recursive: true });
  const db = await startDatabase({ ...cfg, dataDir });
  try {
    await recreateDatabase(db);
    const trellis = await startServer('trellis', { db, logDir: dataDir, workspaceId: randomUUID(), trellisRoot: ROOT });
    try {
      const up = await post<any>(trellis, {
        query: 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken workspace { id } } }',
        variables: { i: { workspaceName: 'Sync bench', name: 'Admin', email: 'admin@sync.test', password: 'benchmark password' } },
      });
      const admin = { ...trellis, headers: { authorization: `Bearer ${up.signUp.accessToken}` } };
      const key = await post<any>(admin, { query: 'mutation { createApiKey(input: { name: "sync", scopes: [READ, WRITE] }) { secret } }' });
      const api = { ...trellis, headers: { authorization: `Bearer ${key.createApiKey.secret}` } };
      const run = async (label: string) => {
        const t = Date.now();
        let created = 0,
          unchanged = 0,
          next = 0;
        // IN_FLIGHT senders take the next batch as each finishes.
        const sender = async () => {
          for (let i = next; i < CONTACTS; i = next) {
            next += BATCH;
            const inputs = Array.from({ length: Math.min(BATCH, CONTACTS - i) }, (_, k) => contactRow(i + k));
            const r = await post<any>(api, {
              query: 'mutation($i: [UpsertContactInput!]!) { upsertContacts(inputs: $i) { created unchanged failed } }',
              variables: { i: inputs },
            });
            if (r.upsertContacts.failed) throw new Error(`${r.upsertContacts.failed} upserts failed`);
            created += r.upsertContacts.created;
            unchanged += r.upsertContacts.unchanged;
          }
        };
        await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
        const seconds = (Date.now() - t) / 1000;
        console.log(
          `  ${label}: ${CONTACTS} contacts in ${seconds.toFixed(1)} s = ${Math.round(CONTACTS / seconds)} rows/s, ${IN_FLIGHT} batch(es) in flight (created ${created}, unchanged ${unchanged})`,
        );
        return CONTACTS / seconds;
      };
      const createRate = await run('upsert, all new');
      const unchangedRate = await run('upsert again, all unchanged');

      // The floor: the same rows COPYed straight into the table, as the owner, into another workspace.
      const owner = new Client({ connectionString: db.ownerUrl });
      await owner.connect();
      const ws = randomUUID();
      await owner.query(`INSERT INTO workspace (id, name) VALUES ($1, 'copy floor')`, [ws]);
      const t = Date.now();
      await new Promise<void>((resolve, reject) => {
        const stream = owner.query(copyFrom('COPY contact (workspace_id, id, first_name, last_name, email, title, external_id) FROM STDIN'));
        stream.on('finish', resolve).on('error', reject);
        for (let i = 0; i < CONTACTS; i++) {
          const c = contactRow(i);
          stream.write(`${ws}\t${randomUUID()}\t${c.firstName}\t${c.lastName}\t${c.email}\t${c.title}\t${c.externalId}\n`);
        }
        stream.end();
      });
      const copyRate = CONTACTS / ((Date.now() - t) / 1000);
      await owner.end();
      console.log(`  raw COPY of the same rows: ${Math.round(copyRate)} rows/s; API upsert / COPY = ${(createRate / copyRate).toFixed(3)}`);
      return {
        contacts: CONTACTS,
        batchesInFlight: IN_FLIGHT,
        upsertCreateRowsPerSecond: Math.round(createRate),
        upsertUnchangedRowsPerSecond: Math.round(unchangedRate),
        copyRowsPerSecond: Math.round(copyRate),
        upsertToCopy: createRate / copyRate,
      };
    } finally {
      await trellis.stop();
    }
  } finally {
    await db.stop();
  }
}

/** How the export is measured: the server's processes, and the CLI's chains of pages. */
const EXPORT_RUNS = [
  { processes: 1, parallel: 1, key: 'exportRowsPerSecond' },
  { processes: 1, parallel: 2, key: 'exportParallel2RowsPerSecond' },
  { processes: 2, parallel: 2, key: 'export2ProcessesParallel2RowsPerSecond' },
  { processes: 2, parallel: 3, key: 'export2ProcessesParallel3RowsPerSecond' },
] as const;

async function exportBench(): Promise<Record<string, number> | null> {
  const cfg = loadBenchConfig();
  const manifest = readManifest(cfg);
  if (!manifest) {
    console.log(`  no bench data at ${cfg.dataDir}: run \`npm run bench\` first (BENCH_SCALE=${cfg.scale})`);
    return null;
  }
  const db = await startDatabase(cfg);
  try {
    const out: Record<string, number> = {};
    let peakHeapMB = 0;
    for (const processes of [1, 2]) {
      const trellis = await startServer('trellis', {
        db,
        logDir: cfg.dataDir,
        workspaceId: manifest.workspaceId,
        apiKey: manifest.apiKey,
        trellisRoot: ROOT,
        trellisEnv: { WEB_CONCURRENCY: String(processes) },
      });
      try {
        for (const run of EXPORT_RUNS.filter((r) => r.processes === processes)) {
          let bytes = 0;
          let peakHeap = 0;
          const sink = new Writable({
            write(chunk: Buffer, _enc, cb) {
              bytes += chunk.length;
              cb();
            },
          });
          const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 200);
          const startHeap = process.memoryUsage().heapUsed;
          const { rows, seconds } = await exportRows(
            { url: trellis.url, token: manifest.apiKey },
            { entity: 'opportunities', format: 'ndjson', out: sink, limit: EXPORT_ROWS, quiet: true, parallel: run.parallel },
          );
          clearInterval(sampler);
          const rate = rows / seconds;
          console.log(
            `  export, ${processes} server process(es), --parallel ${run.parallel}: ${rows} opportunities (${(bytes / 1e6).toFixed(0)} MB NDJSON) in ${seconds.toFixed(1)} s = ${Math.round(rate)} rows/s; client heap ${(startHeap / 1e6).toFixed(0)} -> peak ${(peakHeap / 1e6).toFixed(0)} MB`,
          );
          out.exportRows = rows;
          out[run.key] = Math.round(rate);
          peakHeapMB = Math.max(peakHeapMB, Math.round(peakHeap / 1e6));
        }
      } finally {
        await trellis.stop();
      }
    }
    out.exportPeakHeapMB = peakHeapMB;
    return out;
  } finally {
    await db.stop();
  }
}

async function main(): Promise<void> {
  console.log('Upserts (issue 4 target: at least 5 000 rows/s)');
  const up = await upsertBench();
  console.log('Export (issue 4 target: at least 30 000 rows/s, memory flat)');
  const ex = await exportBench();
  const file = writeResult('sync', { date: new Date().toISOString(), upserts: up, export: ex });
  console.log(`wrote ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
