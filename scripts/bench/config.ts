import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The project root (the harness runs compiled, from dist/scripts/bench). */
export const ROOT = resolve(__dirname, '../../..');

export const SERVERS = ['trellis', 'postgraphile', 'raw'] as const;
export type ServerName = (typeof SERVERS)[number];

export interface BenchConfig {
  /** 1 = 1M opportunities, 200k accounts, 500k contacts, 2M activities. */
  scale: number;
  counts: { users: number; accounts: number; contacts: number; opportunities: number; activities: number };
  dataDir: string;
  peersDir: string;
  regenerate: boolean;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  /** The deep page for the keyset test (clamped to the last full page at small scales). */
  deepPage: number;
  pageSize: number;
  searchQuery: string;
  /** Subsets, for quicker runs while working on one thing. */
  queries: string[] | null;
  servers: ServerName[];
  /** Skip the SQL round-trip count (it starts a second instance of each server). */
  skipRoundTrips: boolean;
  /** The built Trellis to measure (its dist/src/main.js): this checkout, or another one to compare. */
  trellisRoot: string;
}

/**
 * Settings come from the environment or from `--name=value` flags (`npm run bench -- --scale=0.01`);
 * a flag wins. Every default is the full benchmark.
 */
export function loadBenchConfig(argv = process.argv.slice(2), env = process.env): BenchConfig {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`bench: unknown argument ${a} (flags are --name=value)`);
    flags.set(m[1], m[2] ?? 'true');
  }
  const get = (name: string): string | undefined => flags.get(name) ?? env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const num = (name: string, def: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined || raw === '') return def;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`bench: ${name} must be a number from ${min} to ${max}, got ${raw}`);
    return v;
  };
  const bool = (name: string) => ['1', 'true', 'yes'].includes((get(name) ?? '').toLowerCase());
  const list = (name: string) =>
    get(name)
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? null;

  const scale = num('scale', 1, 0.0001, 10);
  const n = (full: number) => Math.max(10, Math.round(full * scale));
  const servers = (list('servers') ?? [...SERVERS]) as ServerName[];
  for (const s of servers) if (!SERVERS.includes(s)) throw new Error(`bench: unknown server ${s} (${SERVERS.join(', ')})`);
  if (!servers.includes('trellis')) throw new Error('bench: trellis is always measured (the ratios are of Trellis)');
  const benchDir = join(ROOT, 'bench');
  return {
    scale,
    counts: { users: num('users', 36, 2, 1000), accounts: n(200_000), contacts: n(500_000), opportunities: n(1_000_000), activities: n(2_000_000) },
    dataDir: resolve(get('data-dir') ?? join(benchDir, 'data', `scale-${scale}`)),
    peersDir: join(benchDir, 'peers'),
    regenerate: bool('regenerate'),
    connections: num('connections', 20, 1, 1000),
    durationSeconds: num('duration', 10, 1, 600),
    warmupSeconds: num('warmup', 3, 0, 600),
    rounds: num('rounds', 3, 1, 20),
    deepPage: num('deep-page', 10_000, 2, 1_000_000),
    pageSize: 50,
    searchQuery: get('search') ?? 'northwind robotcs',
    queries: list('queries'),
    servers,
    skipRoundTrips: bool('skip-roundtrips'),
    trellisRoot: resolve(get('trellis-root') ?? ROOT),
  };
}

/**
 * Writes a benchmark's result to bench/results/<name>.json, replacing the previous one: the tree keeps
 * the latest result of each benchmark (its date is inside; git keeps the history). Returns the path.
 */
export function writeResult(name: string, result: unknown): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  return file;
}
