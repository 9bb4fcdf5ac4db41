/**
 * Trellis' search (the trellis_search function of migration SearchWords), for the raw floor and for
 * PostGraphile: both call bench_peer.search, made here with the same statement, thresholds and
 * ranking. Keep it the same as Trellis': the harness compares the answers, so a drift shows as
 * "answers differ" on the search line.
 */
const SOURCES = [
  { kind: 'ACCOUNT', table: 'account', title: 't.name', subtitle: 't.domain' },
  { kind: 'CONTACT', table: 'contact', title: "concat_ws(' ', t.first_name, t.last_name)", subtitle: 't.email' },
  { kind: 'LEAD', table: 'lead', title: "concat_ws(' ', t.first_name, t.last_name)", subtitle: 't.company' },
  { kind: 'OPPORTUNITY', table: 'opportunity', title: 't.name', subtitle: 'NULL::text' },
];

/** The thresholds Trellis sets on its search function. */
export const SEARCH_SETTINGS = { 'pg_trgm.word_similarity_threshold': '0.4', 'pg_trgm.similarity_threshold': '0.3' };

/**
 * CREATE FUNCTION bench_peer.search(query, max_hits): rows (kind, id, title, subtitle, score), best
 * first, in the caller's workspace (app.workspace_id). Like Trellis' it is owned by the search role
 * (see createPeerFunctions), which reads past row-level security so that the trigram index is used. Every word of 3 letters or more must match
 * (word similarity), or the text hold them all (full text); the statement is built with the words.
 */
export function searchFunctionSql(): string {
  const parts = SOURCES.map(
    (s) => `(SELECT '${s.kind}'::text AS kind, t.id, ${s.title} AS title, ${s.subtitle} AS subtitle,
        word_similarity(q.text, public.trellis_search_text(${s.title})) + similarity(public.trellis_search_text(${s.title}), q.text)
        + 0.5 * word_similarity(q.text, t.search_text) + ts_rank(to_tsvector('simple', t.search_text), q.ts) AS score
      FROM public.${s.table} t, q
      WHERE t.workspace_id = q.ws AND t.deleted_at IS NULL AND ((%1$s) OR to_tsvector('simple', t.search_text) @@ q.ts)
      ORDER BY score DESC, t.id LIMIT $2)`,
  );
  const statement = `WITH q AS (SELECT public.trellis_search_text($1) AS text, plainto_tsquery('simple', public.trellis_search_text($1)) AS ts,
        NULLIF(current_setting('app.workspace_id', true), '')::uuid AS ws)
    SELECT * FROM (${parts.join(' UNION ALL ')}) hits ORDER BY score DESC, title LIMIT $2`;
  return `CREATE FUNCTION bench_peer.search(query text, max_hits int) RETURNS SETOF bench_peer.search_hit
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp ${Object.entries(SEARCH_SETTINGS)
      .map(([k, v]) => `SET ${k} = ${v}`)
      .join(' ')}
    AS $fn$
    DECLARE words text[]; matched text;
    BEGIN
      SELECT array_agg(w) INTO words FROM (
        SELECT DISTINCT w FROM regexp_split_to_table(public.trellis_search_text(query), '[^[:alnum:]]+') AS w WHERE length(w) >= 3 LIMIT 8) x;
      IF words IS NULL THEN words := ARRAY[public.trellis_search_text(query)]; END IF;
      SELECT string_agg(format('%L <%% t.search_text', w), ' AND ') INTO matched FROM unnest(words) AS w;
      RETURN QUERY EXECUTE format($q$${statement}$q$, matched) USING query, max_hits;
    END $fn$`;
}
