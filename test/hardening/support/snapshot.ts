import type { Client } from 'pg';

/** The tables of tenant data: every table with a workspace_id column, and the workspace table itself. */
export async function tenantTables(c: Client): Promise<string[]> {
  const { rows } = await c.query<{ table_name: string }>(
    `SELECT DISTINCT table_name FROM information_schema.columns
     WHERE table_schema = 'public' AND (column_name = 'workspace_id' OR table_name = 'workspace') ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}

const scope = (table: string) => (table === 'workspace' ? 'id' : 'workspace_id');

/**
 * The analytics rollups (tables with a `compacted` column) hold deltas that the rollup compactor
 * merges in the background, whatever a test does: what they say is the sum of their values per key,
 * so that is what is compared. Every other table is compared row by row.
 */
export async function rowSources(c: Client, tables: string[]): Promise<Map<string, string>> {
  const key = tables.join(',');
  let known = sourcesOf.get(c);
  if (!known) sourcesOf.set(c, (known = new Map()));
  let sources = known.get(key);
  if (!sources) known.set(key, (sources = await readRowSources(c, tables)));
  return sources;
}

/** Per connection and table list: the tables do not change while a test file runs, and snapshots are taken around every call. */
const sourcesOf = new WeakMap<Client, Map<string, Map<string, string>>>();

async function readRowSources(c: Client, tables: string[]): Promise<Map<string, string>> {
  const { rows } = await c.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = ANY($1)
       AND table_name IN (SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'compacted')
     ORDER BY table_name, ordinal_position`,
    [tables],
  );
  const sources = new Map(tables.map((t) => [t, t]));
  for (const t of new Set(rows.map((r) => r.table_name))) {
    const cols = rows.filter((r) => r.table_name === t && r.column_name !== 'compacted');
    const keys = cols.filter((r) => !['bigint', 'integer', 'numeric'].includes(r.data_type)).map((r) => r.column_name);
    const values = cols.filter((r) => ['bigint', 'integer', 'numeric'].includes(r.data_type)).map((r) => r.column_name);
    sources.set(
      t,
      `(SELECT ${keys.join(', ')}, ${values.map((v) => `sum(${v}) AS ${v}`).join(', ')} FROM ${t} GROUP BY ${keys.join(', ')} HAVING ${values.map((v) => `sum(${v}) <> 0`).join(' OR ')})`,
    );
  }
  return sources;
}

/**
 * Every row of a workspace, per table: its count and a hash of the rows' full text. Any insert,
 * update or delete in the workspace changes it (stronger than a count and max(updated_at)).
 */
export async function workspaceSnapshot(c: Client, workspaceId: string, tables: string[]): Promise<Record<string, string>> {
  const from = await rowSources(c, tables);
  const parts = tables.map(
    (t, i) =>
      `SELECT ${i} AS i, count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${from.get(t)} x WHERE ${scope(t)} = $1`,
  );
  const { rows } = await c.query<{ i: number; n: number; h: string }>(parts.join(' UNION ALL '), [workspaceId]);
  return Object.fromEntries(rows.map((r) => [tables[r.i], `${r.n} rows ${r.h}`]));
}

/** Rows counted per table across all workspaces, and a hash of all of them: the whole database's state. */
export async function databaseSnapshot(c: Client, tables: string[]): Promise<Record<string, string>> {
  const from = await rowSources(c, tables);
  const parts = tables.map(
    (t, i) => `SELECT ${i} AS i, count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${from.get(t)} x`,
  );
  const { rows } = await c.query<{ i: number; n: number; h: string }>(parts.join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [tables[r.i], `${r.n} rows ${r.h}`]));
}

/** Every id of every row of a workspace (and the workspace's own). */
export async function workspaceIds(c: Client, workspaceId: string, tables: string[]): Promise<string[]> {
  const withId = await c.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'id' AND data_type = 'uuid' AND table_name = ANY($1)`,
    [tables],
  );
  const parts = withId.rows.map((r) => `SELECT id::text FROM ${r.table_name} WHERE ${scope(r.table_name)} = $1`);
  const { rows } = await c.query<{ id: string }>(parts.join(' UNION '), [workspaceId]);
  return rows.map((r) => r.id);
}

/**
 * Rows of workspace `from` whose columns (other than their own id and workspace) hold an id of a row
 * of another workspace: a reference across the tenant boundary. Text and JSON columns are searched too.
 */
export async function crossReferences(c: Client, from: string, foreignIds: string[], tables: string[], ignore: string[] = []): Promise<string[]> {
  const { rows: cols } = await c.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = ANY($1) AND column_name NOT IN ('id', 'workspace_id')
       AND data_type IN ('uuid', 'text', 'jsonb', 'ARRAY', 'character varying')`,
    [tables],
  );
  const found: string[] = [];
  const patterns = foreignIds.map((id) => `%${id}%`);
  for (const col of cols) {
    const name = `${col.table_name}.${col.column_name}`;
    if (ignore.includes(name)) continue;
    // Quoted: a column may have a reserved word's name (idempotency_key.grant).
    const where = col.data_type === 'uuid' ? `"${col.column_name}" = ANY($2::uuid[])` : `"${col.column_name}"::text LIKE ANY($2::text[])`;
    const { rows } = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${col.table_name} WHERE ${scope(col.table_name)} = $1 AND ${where}`, [
      from,
      col.data_type === 'uuid' ? foreignIds : patterns,
    ]);
    if (rows[0].n > 0) found.push(`${name} (${rows[0].n} rows)`);
  }
  return found;
}

/**
 * A mark per table that any write changes: rows and the newest row version (xmin), cheap enough to
 * take around every call. For the rollups, which the compactor rewrites on its own, a hash of their
 * sums per key instead (see rowSources).
 */
export async function tableMarks(c: Client, tables: string[]): Promise<Record<string, string>> {
  const from = await rowSources(c, tables);
  const parts = tables.map((t, i) =>
    from.get(t) === t
      ? `SELECT ${i} AS i, count(*)::int AS n, coalesce(max(xmin::text::bigint), 0)::text AS v FROM ${t}`
      : `SELECT ${i} AS i, count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS v FROM ${from.get(t)} x`,
  );
  const { rows } = await c.query<{ i: number; n: number; v: string }>(parts.join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [tables[r.i], `${r.n}@${r.v}`]));
}
