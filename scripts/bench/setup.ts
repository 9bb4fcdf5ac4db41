import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded';
import type { BenchConfig } from './config';
import type { Workspace } from './generate';
import { searchFunctionSql } from './search-sql';
import { post, type Server } from './servers';

export const DATABASE = 'trellis_bench';

/** What a generated database holds, kept beside it so that later runs reuse it. */
export interface Manifest extends Workspace {
  scale: number;
  counts: BenchConfig['counts'];
  apiKey: string;
  generatedAt: string;
  generationSeconds: number;
}

/**
 * The bench's own embedded PostgreSQL, in bench/data/scale-<scale>. Tuned for a disposable
 * benchmark database on this 24 GiB machine: the working set fits in shared buffers, and no fsync
 * (a crash of the machine may lose the data: BENCH_REGENERATE=1 makes it again).
 */
export function startDatabase(cfg: BenchConfig): Promise<EmbeddedDatabase> {
  return startEmbeddedPostgres({
    dataDir: cfg.dataDir,
    database: DATABASE,
    settings: {
      shared_buffers: '4GB',
      effective_cache_size: '16GB',
      work_mem: '32MB',
      maintenance_work_mem: '1GB',
      max_wal_size: '16GB',
      checkpoint_timeout: '30min',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '200',
    },
  });
}

export function readManifest(cfg: BenchConfig): Manifest | null {
  const file = join(cfg.dataDir, 'manifest.json');
  if (!existsSync(file)) return null;
  const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  return JSON.stringify(m.counts) === JSON.stringify(cfg.counts) ? m : null;
}

export function writeManifest(cfg: BenchConfig, m: Manifest): void {
  writeFileSync(join(cfg.dataDir, 'manifest.json'), JSON.stringify(m, null, 2) + '\n', { mode: 0o600 });
}

/** A fresh, empty database (a half-loaded one from an interrupted run is thrown away); Trellis migrates it. */
export async function recreateDatabase(db: EmbeddedDatabase): Promise<void> {
  const admin = new Client({ connectionString: db.ownerUrl.replace(/\/[^/]+$/, '/postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
}

/**
 * The workspace, through Trellis' API as a user would make it: signUp (the workspace, its ADMIN
 * and the default pipeline), a few dozen users to own the records, and a READ API key.
 */
export async function createWorkspace(trellis: Server, users: number): Promise<Workspace & { apiKey: string }> {
  const up = await post<any>(trellis, {
    query: `mutation($i: SignUpInput!) { signUp(input: $i) { accessToken user { id } workspace { id } } }`,
    variables: { i: { workspaceName: 'Bench Corp', name: 'Bench Admin', email: 'admin@bench.trellis.test', password: 'benchmark password' } },
  });
  const admin = { ...trellis, headers: { authorization: `Bearer ${up.signUp.accessToken}` } };
  const userIds: string[] = [up.signUp.user.id];
  for (let i = 1; i < users; i++) {
    const u = await post<any>(admin, {
      query: `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`,
      variables: { i: { name: `Rep ${i}`, email: `rep${i}@bench.trellis.test`, role: i % 6 === 0 ? 'MANAGER' : 'REP' } },
    });
    userIds.push(u.createUser.id);
  }
  const key = await post<any>(admin, { query: `mutation { createApiKey(input: { name: "bench", scopes: [READ] }) { secret } }` });
  const p = await post<any>(admin, { query: `{ pipelines { nodes { id isDefault stages { id name kind probability } } } }` });
  const pipeline = p.pipelines.nodes.find((x: { isDefault: boolean }) => x.isDefault);
  return { workspaceId: up.signUp.workspace.id, pipelineId: pipeline.id, stages: pipeline.stages, userIds, apiKey: key.createApiKey.secret };
}

/**
 * PostGraphile serves custom queries through SQL functions: bench_peer.search runs the same SQL as
 * Trellis' trellis_search (same thresholds, same ranking); the raw floor calls it too. It lives in a schema of its own that only
 * the peer exposes, and is (re)created on every run.
 */
export async function createPeerFunctions(ownerUrl: string): Promise<void> {
  const c = new Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS bench_peer`);
    await c.query(`GRANT USAGE ON SCHEMA bench_peer TO trellis_app`);
    await c.query(`DROP FUNCTION IF EXISTS bench_peer.search(text, int)`);
    await c.query(`DROP TYPE IF EXISTS bench_peer.search_hit`);
    await c.query(`CREATE TYPE bench_peer.search_hit AS (kind text, id uuid, title text, subtitle text, score double precision)`);
    await c.query(searchFunctionSql());
    await c.query(`REVOKE ALL ON FUNCTION bench_peer.search(text, int) FROM PUBLIC`);
    await c.query(`GRANT EXECUTE ON FUNCTION bench_peer.search(text, int) TO trellis_app`);
  } finally {
    await c.end();
  }
}
