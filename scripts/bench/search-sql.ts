/**
 * Trellis' search SQL (src/modules/search/search.service.ts), for the raw floor and for PostGraphile's
 * bench_peer.search function. Keep it the same as Trellis': the harness compares the answers, so a
 * drift shows as "answers differ" on the search line.
 */
const SOURCES = [
  { kind: 'ACCOUNT', table: 'account', title: 't.name', subtitle: 't.domain' },
  { kind: 'CONTACT', table: 'contact', title: "concat_ws(' ', t.first_name, t.last_name)", subtitle: 't.email' },
  { kind: 'LEAD', table: 'lead', title: "concat_ws(' ', t.first_name, t.last_name)", subtitle: 't.company' },
  { kind: 'OPPORTUNITY', table: 'opportunity', title: 't.name', subtitle: 'NULL::text' },
];

/** The thresholds Trellis sets (set_config, local to the transaction) before searching. */
export const SEARCH_SETTINGS = { 'pg_trgm.word_similarity_threshold': '0.4', 'pg_trgm.similarity_threshold': '0.3' };

/** Rows (kind, id, title, subtitle, score), best first; the arguments are SQL expressions. */
export function searchSql(a: { workspace: string; query: string; limit: string }): string {
  const parts = SOURCES.map(
    (s) => `(SELECT '${s.kind}'::text AS kind, t.id, ${s.title} AS title, ${s.subtitle} AS subtitle,
        word_similarity(q.text, public.trellis_search_text(${s.title})) + similarity(public.trellis_search_text(${s.title}), q.text)
        + 0.5 * word_similarity(q.text, t.search_text) + ts_rank(to_tsvector('simple', t.search_text), q.ts) AS score
      FROM public.${s.table} t, q
      WHERE t.workspace_id = ${a.workspace} AND t.deleted_at IS NULL
        AND (t.search_text % q.text OR q.text <% t.search_text OR to_tsvector('simple', t.search_text) @@ q.ts)
      ORDER BY score DESC, t.id LIMIT ${a.limit})`,
  );
  return `WITH q AS (SELECT public.trellis_search_text(${a.query}) AS text, plainto_tsquery('simple', public.trellis_search_text(${a.query})) AS ts)
    SELECT * FROM (${parts.join(' UNION ALL ')}) hits ORDER BY score DESC, title LIMIT ${a.limit}`;
}
