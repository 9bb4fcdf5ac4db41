import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { EmbeddedDatabase } from '../../src/db/embedded';
import { type BenchConfig, loadBenchConfig, type ServerName, writeResult } from './config';
import { buildCases, type Case, CURSOR_OF_ROW, type Fixture, withPageSize } from './documents';
import { generate } from './generate';
import { load, type Sample, settle } from './load';
import { startCountingProxy } from './roundtrips';
import { post, type Server, startServer, type StartOptions } from './servers';
import { createPeerFunctions, createWorkspace, DATABASE, type Manifest, readManifest, recreateDatabase, startDatabase, writeManifest } from './setup';

/**
 * `npm run bench`: Trellis, PostGraphile v5 and a raw `pg` floor side by side, on one generated
 * database and the same requests. Steps: database (generated once per scale, then reused) ->
 * servers -> equivalence of the answers -> SQL round trips per request -> load (autocannon, fixed
 * concurrency, warm-up, interleaved rounds, median) -> table on stdout + bench/results/queries.json.
 * Settings: see config.ts (BENCH_SCALE=0.01 for a quick run).
 */
const log = (s: string) => process.stderr.write(s + '\n');

async function main(): Promise<number> {
  const cfg = loadBenchConfig();
  const logDir = join(cfg.dataDir, 'logs');
  const db = await startDatabase(cfg);
  const running: Server[] = [];
  const stopAll = async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  };
  process.once('SIGINT', () => void stopAll().finally(() => db.stop().finally(() => process.exit(130))));
  try {
    const manifest = (!cfg.regenerate && readManifest(cfg)) || (await generateDatabase(cfg, db, logDir));
    await createPeerFunctions(db.ownerUrl);
    const opts: StartOptions = { db, logDir, workspaceId: manifest.workspaceId, apiKey: manifest.apiKey, trellisRoot: cfg.trellisRoot };

    const roundTrips = cfg.skipRoundTrips ? null : await countRoundTrips(cfg, db, opts, manifest);

    log(`starting ${cfg.servers.join(', ')}`);
    for (const name of cfg.servers) running.push(await startServer(name, opts));
    const servers = running.slice();
    const fixture = await makeFixture(cfg, db, manifest, servers);
    const cases = buildCases(fixture).filter((c) => selected(cfg, c));
    const answers = await compareAnswers(cases, servers);
    const measured = [];
    for (const c of cases) measured.push({ case: c, ...(await measure(cfg, db, c, servers)) });
    await stopAll();

    const report = buildReport(cfg, manifest, measured, answers, roundTrips, fixture);
    process.stdout.write(report.text);
    const file = writeResult('queries', report.json);
    log(`\nresults written to ${file}`);
    return report.failed ? 1 : 0;
  } finally {
    await stopAll();
    await db.stop();
  }
}

async function generateDatabase(cfg: BenchConfig, db: EmbeddedDatabase, logDir: string): Promise<Manifest> {
  const c = cfg.counts;
  log(
    `generating: ${c.opportunities.toLocaleString('en')} opportunities, ${c.accounts.toLocaleString('en')} accounts, ${c.contacts.toLocaleString('en')} contacts, ${c.activities.toLocaleString('en')} activities, ${c.users} users (in ${cfg.dataDir})`,
  );
  const started = Date.now();
  await recreateDatabase(db);
  const trellis = await startServer('trellis', { db, logDir, workspaceId: '', trellisRoot: cfg.trellisRoot });
  let ws;
  try {
    ws = await createWorkspace(trellis, c.users);
  } finally {
    await trellis.stop();
  }
  log(`  workspace ${ws.workspaceId} created through the API`);
  await generate(db.ownerUrl, ws, c, log);
  const generationSeconds = Math.round((Date.now() - started) / 100) / 10;
  log(`generated in ${generationSeconds} s`);
  const manifest: Manifest = { ...ws, scale: cfg.scale, counts: c, generatedAt: new Date().toISOString(), generationSeconds };
  writeManifest(cfg, manifest);
  return manifest;
}

/** The values the requests use, and each server's cursor for the deep page (computed once). */
async function makeFixture(cfg: BenchConfig, db: EmbeddedDatabase, m: Manifest, servers: Server[]): Promise<Fixture> {
  const deepPage = Math.min(cfg.deepPage, Math.floor((m.counts.opportunities - 1) / cfg.pageSize));
  const c = new Client({ connectionString: db.ownerUrl });
  await c.connect();
  let before: { id: string; amount: string };
  let filter: Fixture['filter'];
  try {
    const r = await c.query(
      `SELECT id, amount_value::text AS amount FROM opportunity WHERE workspace_id = $1 AND deleted_at IS NULL
       ORDER BY amount_value DESC NULLS FIRST, id DESC OFFSET $2 LIMIT 1`,
      [m.workspaceId, (deepPage - 1) * cfg.pageSize - 1],
    );
    before = r.rows[0];
    // The open stage, owner and industry with the most deals of 10 000 to 500 000: a filter that
    // finds a page at every scale.
    const f = await c.query(
      `SELECT o.stage_id, o.owner_id, a.industry FROM opportunity o JOIN account a ON a.workspace_id = o.workspace_id AND a.id = o.account_id
       WHERE o.workspace_id = $1 AND o.status = 'OPEN' AND o.amount_value BETWEEN 10000 AND 500000
       GROUP BY 1, 2, 3 ORDER BY count(*) DESC, 1, 2, 3 LIMIT 1`,
      [m.workspaceId],
    );
    filter = { stage: f.rows[0].stage_id, owner: f.rows[0].owner_id, min: '10000', max: '500000', industry: f.rows[0].industry };
  } finally {
    await c.end();
  }
  const deepCursor = { raw: Buffer.from(JSON.stringify([before.amount, before.id])).toString('base64url') } as Record<ServerName, string>;
  for (const s of servers) {
    if (s.name === 'raw') continue;
    const doc = CURSOR_OF_ROW[s.name];
    deepCursor[s.name] = doc.pick(await post(s, { query: doc.query, variables: { id: before.id } }));
  }
  return {
    stages: m.stages.map((s) => ({ id: s.id, name: s.name })),
    filter,
    search: cfg.searchQuery,
    deepPage,
    deepCursor,
  };
}

interface Answer {
  case: string;
  rows: Partial<Record<ServerName, number>>;
  same: boolean;
  difference?: string;
}

/** Every server answers every case once, before any load: same shape and rows, after normalising. */
async function compareAnswers(cases: Case[], servers: Server[]): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const c of cases) {
    const norm: Partial<Record<ServerName, unknown>> = {};
    for (const s of servers) norm[s.name] = c.normalize[s.name](await post(s, c.body[s.name]));
    const ref = JSON.stringify(norm.trellis);
    const rows = Object.fromEntries(Object.entries(norm).map(([k, v]) => [k, rowCount(v)]));
    const other = servers.find((s) => JSON.stringify(norm[s.name]) !== ref);
    out.push({ case: c.name, rows, same: !other, difference: other && `${other.name}: ${firstDifference(norm.trellis, norm[other.name], '')}` });
  }
  return out;
}

const rowCount = (v: unknown): number =>
  Array.isArray(v) ? (v.every((x) => typeof x === 'number') ? v.reduce((a, b) => a + b, 0) : v.length) : rowCount((v as { rows: unknown[] }).rows);

function firstDifference(a: unknown, b: unknown, path: string): string {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return `${path || '.'}: trellis ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (JSON.stringify(x) !== JSON.stringify(y)) return firstDifference(x, y, `${path}.${k}`);
  }
  return `${path}: equal`;
}

/**
 * SQL round trips per request, through a counting proxy, with a second instance of each server
 * (so the measured ones never pay for the proxy). Each request is sent once first (pool filled,
 * statements prepared), then once more, alone, and counted.
 */
async function countRoundTrips(cfg: BenchConfig, db: EmbeddedDatabase, opts: StartOptions, m: Manifest) {
  log('counting SQL round trips per request');
  const proxy = await startCountingProxy(db.port);
  const appUrlOverride = db.appUrl.replace(`:${db.port}/`, `:${proxy.port}/`);
  const result: Record<string, Partial<Record<ServerName, { roundTrips: number; statements: string[] }>>> = {};
  const servers: Server[] = [];
  try {
    for (const name of cfg.servers) servers.push(await startServer(name, { ...opts, appUrlOverride, logDir: join(opts.logDir, 'roundtrips') }));
    const base = buildCases(await makeFixture(cfg, db, m, servers));
    const nested = base.find((c) => c.name === 'nested')!;
    const cases = [withPageSize(nested, 10), ...base.filter((c) => selected(cfg, c)), withPageSize(nested, 200)];
    for (const c of cases) {
      result[c.name] = {};
      for (const s of servers) {
        await post(s, c.body[s.name]);
        proxy.reset();
        await post(s, c.body[s.name]);
        result[c.name][s.name] = proxy.take();
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await proxy.close();
  }
  return result;
}

/** Warm-up, then rounds in which each server takes its turn, in a rotating order. */
async function measure(cfg: BenchConfig, db: EmbeddedDatabase, c: Case, servers: Server[]) {
  log(`measuring ${c.name}`);
  const idle = () => settle(db.ownerUrl, DATABASE);
  if (cfg.warmupSeconds > 0) {
    for (const s of servers) {
      await load(s, c.body[s.name], cfg.warmupSeconds, cfg.connections);
      await idle();
    }
  }
  const rounds: Partial<Record<ServerName, Sample>>[] = [];
  for (let r = 0; r < cfg.rounds; r++) {
    const round: Partial<Record<ServerName, Sample>> = {};
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(i + r) % servers.length];
      round[s.name] = await load(s, c.body[s.name], cfg.durationSeconds, cfg.connections);
      await idle();
    }
    rounds.push(round);
  }
  const median = Object.fromEntries(
    servers.map((s) => {
      const of = (k: keyof Sample) => med(rounds.map((r) => r[s.name]![k]));
      return [s.name, { rps: of('rps'), p50: of('p50'), p99: of('p99'), failures: rounds.reduce((a, r) => a + r[s.name]!.failures, 0) }];
    }),
  ) as Partial<Record<ServerName, Omit<Sample, 'requests'>>>;
  const ratios = rounds.map((r) => ({
    postgraphile: r.postgraphile ? r.trellis!.rps / r.postgraphile.rps : null,
    raw: r.raw ? r.trellis!.rps / r.raw.rps : null,
  }));
  return { rounds, median, ratios };
}

const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type Measured = { case: Case } & Awaited<ReturnType<typeof measure>>;

function buildReport(
  cfg: BenchConfig,
  m: Manifest,
  measured: Measured[],
  answers: Answer[],
  roundTrips: Awaited<ReturnType<typeof countRoundTrips>> | null,
  fixture: Fixture,
) {
  const lines: string[] = [];
  const c = m.counts;
  const f1 = (x: number | null | undefined) => (x == null ? '-' : x.toFixed(x < 10 ? 2 : 0));
  const ratio = (x: number | null) => (x == null ? '-' : x.toFixed(2));
  lines.push(
    '',
    `Trellis bench, ${new Date().toISOString()}: scale ${cfg.scale} (${c.opportunities.toLocaleString('en')} opportunities, ${c.accounts.toLocaleString('en')} accounts, ${c.contacts.toLocaleString('en')} contacts, ${c.activities.toLocaleString('en')} activities, ${c.users} users)`,
    `data generated ${m.generatedAt} in ${m.generationSeconds} s; ${cfg.connections} connections, ${cfg.durationSeconds} s per measurement, ${cfg.warmupSeconds} s warm-up, ${cfg.rounds} interleaved rounds (median); Node ${process.version}, ${cpus().length} cores`,
    '',
    `${'request'.padEnd(34)}${'server'.padEnd(14)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'fails'.padStart(7)}${'SQL trips'.padStart(11)}  answer`,
  );
  let failed = false;
  for (const x of measured) {
    const ans = answers.find((a) => a.case === x.case.name)!;
    failed ||= !ans.same;
    let first = true;
    for (const [name, s] of Object.entries(x.median) as [ServerName, Sample][]) {
      failed ||= s.failures > 0;
      const trips = roundTrips?.[x.case.name]?.[name]?.roundTrips;
      const answer = name === 'trellis' ? `${ans.rows.trellis} rows` : ans.rows[name] === ans.rows.trellis && ans.same ? 'same' : 'DIFFERS';
      lines.push(
        `${(first ? x.case.name : '').padEnd(34)}${name.padEnd(14)}${f1(s.rps).padStart(9)}${f1(s.p50).padStart(9)}${f1(s.p99).padStart(9)}${String(s.failures).padStart(7)}${String(trips ?? '-').padStart(11)}  ${answer}`,
      );
      first = false;
    }
    lines.push(
      `${''.padEnd(34)}Trellis/PostGraphile per round: ${x.ratios.map((r) => ratio(r.postgraphile)).join(' ')}   Trellis/raw per round: ${x.ratios.map((r) => ratio(r.raw)).join(' ')}`,
    );
    if (!ans.same) lines.push(`${''.padEnd(34)}answers differ: ${ans.difference}`);
  }

  const byName = (n: string) => measured.find((x) => x.case.name === n);
  const medRatio = (n: string, peer: 'postgraphile' | 'raw') => {
    const xs = byName(n)
      ?.ratios.map((r) => r[peer])
      .filter((v): v is number => v != null);
    return xs?.length ? med(xs) : null;
  };
  const verdict = (ok: boolean | null) => (ok == null ? 'not measured' : ok ? 'MET' : 'NOT MET');
  const nestedVsPgl = medRatio('nested', 'postgraphile');
  const countVsRaw = medRatio('countByStage', 'raw');
  const p1 = byName('page1')?.median.trellis;
  const deep = byName('deepPage')?.median.trellis;
  const deepSlowdown = p1 && deep ? p1.rps / deep.rps : null;
  const trellisTrips = roundTrips ? Object.entries(roundTrips).map(([k, v]) => [k, v.trellis?.roundTrips ?? 0] as const) : null;
  const maxTrips = trellisTrips ? Math.max(...trellisTrips.map(([, n]) => n)) : null;
  // Issue 20's search targets, over every search line but the two-word one: the worst of them.
  const searches = measured.filter((x) => x.case.name.startsWith('search ')).map((x) => x.median.trellis!);
  const worstSearchP50 = searches.length ? Math.max(...searches.map((x) => x.p50)) : null;
  const worstSearchRps = searches.length ? Math.min(...searches.map((x) => x.rps)) : null;
  const targets = [
    { target: 'search, 2-12 letters and a typo: p50 <= 50 ms (worst)', value: worstSearchP50, met: worstSearchP50 == null ? null : worstSearchP50 <= 50 },
    { target: 'search, 2-12 letters and a typo: >= 150 req/s (worst)', value: worstSearchRps, met: worstSearchRps == null ? null : worstSearchRps >= 150 },
    { target: 'nested page >= 0.65x PostGraphile (req/s)', value: nestedVsPgl, met: nestedVsPgl == null ? null : nestedVsPgl >= 0.65 },
    { target: 'count by stage >= 0.9x raw floor (req/s)', value: countVsRaw, met: countVsRaw == null ? null : countVsRaw >= 0.9 },
    { target: `page ${fixture.deepPage} within 1.5x of page 1 (req/s)`, value: deepSlowdown, met: deepSlowdown == null ? null : deepSlowdown <= 1.5 },
    { target: '<= 3 SQL round trips per request, any page size', value: maxTrips, met: maxTrips == null ? null : maxTrips <= 3 },
  ];
  lines.push('', 'Targets (Trellis, medians of the per-round ratios):');
  for (const t of targets) lines.push(`  ${t.target.padEnd(52)} ${t.value == null ? '-' : t.value.toFixed(2).padStart(6)}  ${verdict(t.met)}`);
  if (trellisTrips) lines.push(`  Trellis round trips per request: ${trellisTrips.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  lines.push('');

  const json = {
    date: new Date().toISOString(),
    commit: gitCommit(cfg.trellisRoot),
    node: process.version,
    cpus: cpus().length,
    config: { ...cfg, dataDir: undefined, peersDir: undefined },
    data: { counts: c, generatedAt: m.generatedAt, generationSeconds: m.generationSeconds },
    fixture: { ...fixture, deepCursor: undefined },
    targets,
    answers,
    cases: measured.map((x) => ({ name: x.case.name, title: x.case.title, median: x.median, ratios: x.ratios, rounds: x.rounds })),
    roundTrips,
  };
  return { text: lines.join('\n') + '\n', json, failed };
}

function gitCommit(dir: string): string | null {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=40'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);

/** Whether BENCH_QUERIES selects a case: by its name, or by its name's first word (`search` selects `search 2`). */
function selected(cfg: BenchConfig, c: Case): boolean {
  return !cfg.queries || cfg.queries.includes(c.name) || cfg.queries.includes(c.name.split(' ')[0]);
}
