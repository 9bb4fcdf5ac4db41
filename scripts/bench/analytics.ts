// `npm run bench:analytics` (also a step of `npm run bench`): each analytics query on the benchmark's
// data (bench/data/scale-<BENCH_SCALE>, made by `npm run bench`: 1M opportunities, 2M activities).
// For each query: the API's p50 over BENCH_ANALYTICS_RUNS (9) sequential requests after a warm-up,
// and beside it the time of the same SQL run directly (EXPLAIN ANALYZE of the statements the service
// sends, captured in-process with the same parameters and workspace). Targets: p50 under 200 ms, and
// the API within 1.3x of its SQL.
import 'reflect-metadata';
import { join } from 'node:path';
import { loadConfig } from '../../src/kernel/config';
import { connect } from '../../src/db/data-source';
import { TenantTransaction } from '../../src/db/tenant-transaction';
import { createLogger } from '../../src/kernel/logger';
import { createServices } from '../../src/server/services';
import { systemViewer } from '../../src/kernel/viewer';
import { ActivityGrouping, Period, RevenueGrouping } from '../../src/modules/analytics/analytics.types';
import type { ServiceContext } from '../../src/data/context';
import { loadBenchConfig, ROOT, writeResult } from './config';
import { post, startServer } from './servers';
import { readManifest, startDatabase } from './setup';
import { ApiScope, ActorType } from '../../src/kernel/roles';
import { ENTITIES } from '../../src/modules/registry';
import { median } from './stats';

const RUNS = Number(process.env.BENCH_ANALYTICS_RUNS ?? 9);

interface Case {
  name: string;
  query: string;
  /** The same work through the service, for the SQL it sends. */
  direct: (s: ReturnType<typeof createServices>, ctx: ServiceContext) => Promise<unknown>;
}

const CASES: Case[] = [
  {
    name: 'pipelineSummary',
    query: '{ pipelineSummary { stages { count amounts { amount currency } weightedAmounts { amount } } totals { count amount } } }',
    direct: (s, c) => s.dealAnalytics.pipelineSummary(c, null, null),
  },
  {
    name: 'revenue by month',
    query: '{ revenue(period: MONTH, from: "2025-01-01", to: "2025-12-31") { periodStart count amounts { amount currency } } }',
    direct: (s, c) => s.dealAnalytics.revenue(c, Period.MONTH, '2025-01-01', '2025-12-31', null, null),
  },
  {
    name: 'revenue by owner',
    query: '{ revenue(period: QUARTER, groupBy: OWNER) { periodStart group { name } count amounts { amount } } }',
    direct: (s, c) => s.dealAnalytics.revenue(c, Period.QUARTER, null, null, RevenueGrouping.OWNER, null),
  },
  {
    name: 'forecast',
    query: '{ forecast(period: MONTH) { periodStart count amounts { amount } weightedAmounts { amount } byCategory wonAmounts { amount } } }',
    direct: (s, c) => s.dealAnalytics.forecast(c, Period.MONTH, null, null, null),
  },
  {
    name: 'winRate by owner',
    query: '{ winRate(groupBy: OWNER) { group { name } won lost rate } }',
    direct: (s, c) => s.dealAnalytics.winRate(c, null, null, RevenueGrouping.OWNER, null),
  },
  {
    name: 'salesCycle',
    query: '{ salesCycle { count averageDays medianDays p90Days } }',
    direct: (s, c) => s.dealAnalytics.salesCycle(c, null, null, null, null),
  },
  {
    name: 'stageFunnel',
    query: '{ stageFunnel { reached convertedToNext averageDaysInStage } }',
    direct: (s, c) => s.activityFunnel.stageFunnel(c, null, null, null),
  },
  {
    name: 'activityStats by type',
    query: '{ activityStats(groupBy: TYPE) { type count completed overdue callSeconds } }',
    direct: (s, c) => s.activityFunnel.activityStats(c, null, null, ActivityGrouping.TYPE),
  },
];

async function main(): Promise<void> {
  const cfg = loadBenchConfig();
  const manifest = readManifest(cfg);
  if (!manifest) throw new Error(`no benchmark data in ${cfg.dataDir}: run \`npm run bench\` once to generate it`);
  const db = await startDatabase(cfg);
  const logDir = join(cfg.dataDir, 'logs');
  try {
    const trellis = await startServer('trellis', { db, logDir, workspaceId: manifest.workspaceId, apiKey: manifest.apiKey, trellisRoot: ROOT });
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.appUrl,
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
      LOG_LEVEL: 'silent',
      WEBHOOK_WORKERS: 'false',
      AUTOMATION_WORKERS: 'false',
    });
    const ds = await connect({ entities: ENTITIES, url: db.appUrl, poolSize: 2 });
    const services = createServices(ds, config, createLogger('silent'));
    const results = [];
    try {
      for (const c of CASES) {
        await post(trellis, { query: c.query }); // warm-up
        const api: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const t0 = performance.now();
          await post(trellis, { query: c.query });
          api.push(performance.now() - t0);
        }
        const sql = await sqlTime(ds, services, manifest.workspaceId, c);
        const row = { name: c.name, apiP50Ms: Math.round(median(api)), sqlP50Ms: Math.round(sql.ms), statements: sql.statements };
        results.push({ ...row, ratio: Math.round((row.apiP50Ms / Math.max(1, row.sqlP50Ms)) * 100) / 100 });
        process.stderr.write(`  ${c.name}: API ${row.apiP50Ms} ms, SQL ${row.sqlP50Ms} ms\n`);
      }
    } finally {
      await ds.destroy();
      await trellis.stop();
    }
    console.log(`\nanalytics on ${manifest.counts?.opportunities?.toLocaleString('en') ?? '?'} opportunities (p50 of ${RUNS} sequential requests):`);
    console.log('query                    API p50   SQL (EXPLAIN ANALYZE)   API/SQL   statements');
    for (const r of results)
      console.log(
        `${r.name.padEnd(24)} ${String(r.apiP50Ms).padStart(5)} ms ${String(r.sqlP50Ms).padStart(8)} ms ${String(r.ratio).padStart(15)}x ${String(r.statements).padStart(8)}`,
      );
    const met = results.every((r) => r.apiP50Ms < 200);
    const close = results.every((r) => r.ratio <= 1.3);
    console.log(`targets: every p50 under 200 ms: ${met ? 'met' : 'NOT met'}; API within 1.3x of its SQL: ${close ? 'met' : 'NOT met'}`);
    const file = writeResult('analytics', { date: new Date().toISOString(), scale: cfg.scale, runs: RUNS, results });
    console.log(`results written to ${file}`);
  } finally {
    await db.stop();
  }
}

/** Runs the service with its statements captured, then EXPLAIN ANALYZEs each (3 times; the median of the sums). */
async function sqlTime(
  ds: Awaited<ReturnType<typeof connect>>,
  services: ReturnType<typeof createServices>,
  workspaceId: string,
  c: Case,
): Promise<{ ms: number; statements: number }> {
  const captured: [string, unknown[]][] = [];
  const original = TenantTransaction.prototype.query;
  TenantTransaction.prototype.query = function (this: TenantTransaction, sql: string, params: unknown[] = []) {
    captured.push([sql, params]);
    return original.call(this, sql, params) as never;
  } as typeof original;
  const tx = new TenantTransaction(ds, workspaceId);
  try {
    await c.direct(services, { tx, viewer: systemViewer(workspaceId, [ApiScope.READ]), actor: { type: ActorType.SYSTEM, id: null } });
  } finally {
    TenantTransaction.prototype.query = original;
    await tx.rollback();
  }
  const sums: number[] = [];
  for (let run = 0; run < 3; run++) {
    const t = new TenantTransaction(ds, workspaceId);
    let total = 0;
    try {
      for (const [sql, params] of captured) {
        const [plan] = await t.query<{ 'QUERY PLAN': { 'Planning Time': number; 'Execution Time': number }[] }>(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
          params,
        );
        total += plan['QUERY PLAN'][0]['Planning Time'] + plan['QUERY PLAN'][0]['Execution Time'];
      }
    } finally {
      await t.rollback();
    }
    sums.push(total);
  }
  return { ms: median(sums), statements: captured.length };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
