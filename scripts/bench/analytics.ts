// `npm run bench:analytics` (also a step of `npm run bench`): the analytics queries on the benchmark's
// data (bench/data/scale-<BENCH_SCALE>, made by `npm run bench`: 1M opportunities, 2M activities), as
// a sales manager's dashboard uses them (issue 22):
//   - each query unfiltered and with two typical filters (deals: one owner's, and the accounts of one
//     industry; the activity and funnel queries, which take no deal filter: the last 90 days, and one
//     year), the API's p50 over BENCH_ANALYTICS_REQUESTS (9) sequential requests after a warm-up,
//     and beside it the time of the same SQL run directly (EXPLAIN ANALYZE of the statements the
//     service sends, captured in-process with the same parameters and workspace);
//   - the whole dashboard: the eight unfiltered queries sent at once, the time until the last answers
//     (p50 over the same number of loads);
//   - BENCH_ANALYTICS_RUNS (3) runs of all that: each figure is the median of the runs, with the spread.
// Targets (issue 22): every query p50 <= 100 ms unfiltered and <= 200 ms filtered, the dashboard
// <= 300 ms, the API within 1.3x of its SQL where the SQL takes more than 20 ms.
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
import { acrossRuns, median } from './stats';

const REQUESTS = Number(process.env.BENCH_ANALYTICS_REQUESTS ?? 9);
const RUNS = Number(process.env.BENCH_ANALYTICS_RUNS ?? 3);

/** Unfiltered, or one of the two typical dashboard filters. */
type Variant = 'none' | 'owner' | 'industry';
const VARIANTS: Variant[] = ['none', 'owner', 'industry'];

/** What a variant filters: the deals (an OpportunityFilter), or for the queries without one, the days. */
interface Scope {
  filter: Record<string, unknown> | null;
  from: string | null;
  to: string | null;
}

interface Case {
  name: string;
  /** Whether the query takes a deal filter (else the variant is a range of days). */
  dealFilter: boolean;
  query: string;
  /** The same work through the service, for the SQL it sends. */
  direct: (s: ReturnType<typeof createServices>, ctx: ServiceContext, v: Scope) => Promise<unknown>;
}

const CASES: Case[] = [
  {
    name: 'pipelineSummary',
    dealFilter: true,
    query:
      'query($f: OpportunityFilter) { pipelineSummary(filter: $f) { stages { count amounts { amount currency } weightedAmounts { amount } } totals { count amount } } }',
    direct: (s, c, v) => s.dealAnalytics.pipelineSummary(c, null, v.filter),
  },
  {
    name: 'revenue by month',
    dealFilter: true,
    query:
      'query($f: OpportunityFilter) { revenue(period: MONTH, from: "2025-01-01", to: "2025-12-31", filter: $f) { periodStart count amounts { amount currency } } }',
    direct: (s, c, v) => s.dealAnalytics.revenue(c, Period.MONTH, '2025-01-01', '2025-12-31', null, v.filter),
  },
  {
    name: 'revenue by owner',
    dealFilter: true,
    query: 'query($f: OpportunityFilter) { revenue(period: QUARTER, groupBy: OWNER, filter: $f) { periodStart group { name } count amounts { amount } } }',
    direct: (s, c, v) => s.dealAnalytics.revenue(c, Period.QUARTER, null, null, RevenueGrouping.OWNER, v.filter),
  },
  {
    name: 'forecast',
    dealFilter: true,
    query:
      'query($f: OpportunityFilter) { forecast(period: MONTH, filter: $f) { periodStart count amounts { amount } weightedAmounts { amount } byCategory wonAmounts { amount } } }',
    direct: (s, c, v) => s.dealAnalytics.forecast(c, Period.MONTH, null, null, v.filter),
  },
  {
    name: 'winRate by owner',
    dealFilter: true,
    query: 'query($f: OpportunityFilter) { winRate(groupBy: OWNER, filter: $f) { group { name } won lost rate } }',
    direct: (s, c, v) => s.dealAnalytics.winRate(c, null, null, RevenueGrouping.OWNER, v.filter),
  },
  {
    name: 'salesCycle',
    dealFilter: true,
    query: 'query($f: OpportunityFilter) { salesCycle(filter: $f) { count averageDays medianDays p90Days } }',
    direct: (s, c, v) => s.dealAnalytics.salesCycle(c, null, null, null, v.filter),
  },
  {
    name: 'stageFunnel',
    dealFilter: false,
    query: 'query($from: Date, $to: Date) { stageFunnel(from: $from, to: $to) { reached convertedToNext averageDaysInStage } }',
    direct: (s, c, v) => s.activityFunnel.stageFunnel(c, null, v.from, v.to),
  },
  {
    name: 'activityStats by type',
    dealFilter: false,
    query: 'query($from: Date, $to: Date) { activityStats(groupBy: TYPE, from: $from, to: $to) { type count completed overdue callSeconds } }',
    direct: (s, c, v) => s.activityFunnel.activityStats(c, v.from, v.to, ActivityGrouping.TYPE),
  },
];

/** A case's variables and service arguments under a variant. */
function scopeOf(c: Case, v: Variant, ownerId: string): Scope {
  const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
  if (v === 'none') return { filter: null, from: null, to: null };
  if (c.dealFilter) return { filter: v === 'owner' ? { ownerId: { eq: ownerId } } : { account: { industry: { eq: 'Software' } } }, from: null, to: null };
  return v === 'owner' ? { filter: null, from: day(90), to: day(0) } : { filter: null, from: '2025-01-01', to: '2025-12-31' };
}
const variablesOf = (c: Case, s: Scope) => (c.dealFilter ? { f: s.filter } : { from: s.from, to: s.to });

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
    // As the server runs its statements: one core each (DB_PARALLEL_WORKERS_PER_QUERY, 0 by default),
    // or the SQL column would time plans with parallel workers that the API never gets.
    const ds = await connect({ entities: ENTITIES, url: db.appUrl, poolSize: 2, parallelWorkersPerQuery: config.tenancy.parallelWorkersPerQuery });
    const services = createServices(ds, config, createLogger('silent'));
    const owner = await post<{ users: { nodes: { id: string }[] } }>(trellis, { query: '{ users(first: 2) { nodes { id } } }' });
    const ownerId = owner.users.nodes[0].id;
    /** Per run: each case's and variant's API p50 and SQL time, and the dashboard's p50. */
    const runs: { api: Record<string, number>; sql: Record<string, number>; dashboard: number }[] = [];
    try {
      for (let run = 1; run <= RUNS; run++) {
        const api: Record<string, number> = {};
        const sql: Record<string, number> = {};
        for (const c of CASES)
          for (const v of VARIANTS) {
            const scope = scopeOf(c, v, ownerId);
            const body = { query: c.query, variables: variablesOf(c, scope) };
            await post(trellis, body); // warm-up; throws on any error
            const times: number[] = [];
            for (let i = 0; i < REQUESTS; i++) {
              const t0 = performance.now();
              await post(trellis, body);
              times.push(performance.now() - t0);
            }
            api[`${c.name}|${v}`] = median(times);
            sql[`${c.name}|${v}`] = (await sqlTime(ds, services, manifest.workspaceId, c, scope)).ms;
          }
        // The dashboard: the eight unfiltered queries at once.
        const loads: number[] = [];
        for (let i = 0; i <= REQUESTS; i++) {
          const t0 = performance.now();
          await Promise.all(CASES.map((c) => post(trellis, { query: c.query, variables: variablesOf(c, scopeOf(c, 'none', ownerId)) })));
          if (i > 0) loads.push(performance.now() - t0); // the first is a warm-up
        }
        runs.push({ api, sql, dashboard: median(loads) });
        process.stderr.write(`  run ${run}: dashboard ${Math.round(median(loads))} ms\n`);
      }
    } finally {
      await ds.destroy();
      await trellis.stop();
    }
    const round = (x: number) => Math.round(x);
    const results = CASES.flatMap((c) =>
      VARIANTS.map((v) => {
        const key = `${c.name}|${v}`;
        const api = acrossRuns(runs.map((r) => r.api[key]));
        const sql = acrossRuns(runs.map((r) => r.sql[key]));
        const limit = v === 'none' ? 100 : 200;
        return {
          name: c.name,
          filter: v,
          apiP50Ms: round(api.median),
          apiSpreadMs: api.spread.map(round),
          sqlMs: round(sql.median),
          ratio: Math.round((api.median / Math.max(1, sql.median)) * 100) / 100,
          targetMs: limit,
          met: api.median <= limit,
        };
      }),
    );
    const dashboard = acrossRuns(runs.map((r) => r.dashboard));
    console.log(
      `\nanalytics on ${manifest.counts?.opportunities?.toLocaleString('en') ?? '?'} opportunities: p50 of ${REQUESTS} sequential requests, median of ${RUNS} runs (spread)`,
    );
    console.log('query                    filter      API p50 (spread)        SQL   API/SQL  target');
    for (const r of results)
      console.log(
        `${r.name.padEnd(24)} ${r.filter.padEnd(9)} ${String(r.apiP50Ms).padStart(6)} ms (${r.apiSpreadMs.join('-')})`.padEnd(58) +
          `${String(r.sqlMs).padStart(5)} ms ${String(r.ratio).padStart(7)}x  <= ${r.targetMs} ms: ${r.met ? 'met' : 'NOT met'}`,
      );
    console.log(
      `dashboard (the eight unfiltered at once): ${round(dashboard.median)} ms (${dashboard.spread.map(round).join('-')}); target <= 300 ms: ${dashboard.median <= 300 ? 'met' : 'NOT met'}`,
    );
    const slowSql = results.filter((r) => r.sqlMs > 20);
    console.log(
      `targets: p50 <= 100 ms unfiltered, <= 200 ms filtered: ${results.every((r) => r.met) ? 'met' : 'NOT met'}; API within 1.3x of its SQL (SQL over 20 ms): ${slowSql.every((r) => r.ratio <= 1.3) ? 'met' : 'NOT met'}`,
    );
    const file = writeResult('analytics', {
      date: new Date().toISOString(),
      scale: cfg.scale,
      requests: REQUESTS,
      runs: RUNS,
      dashboardMs: { median: round(dashboard.median), spread: dashboard.spread.map(round) },
      results,
    });
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
  scope: Scope,
): Promise<{ ms: number; statements: number }> {
  const captured: [string, unknown[]][] = [];
  const original = TenantTransaction.prototype.query;
  TenantTransaction.prototype.query = function (this: TenantTransaction, sql: string, params: unknown[] = []) {
    captured.push([sql, params]);
    return original.call(this, sql, params) as never;
  } as typeof original;
  const tx = new TenantTransaction(ds, workspaceId);
  try {
    await c.direct(services, { tx, viewer: systemViewer(workspaceId, [ApiScope.READ]), actor: { type: ActorType.SYSTEM, id: null } }, scope);
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
