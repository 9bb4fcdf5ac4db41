/**
 * Trellis' search for the raw floor and for PostGraphile: both call bench_peer.search, which runs
 * the same SQL, Trellis' trellis_search function (migration SearchAsYouType: its index is tables kept
 * by triggers, so there is no other statement to give the peers), over the four kinds. The floor is
 * then the SQL alone; what Trellis adds is the request around it.
 */
export function searchFunctionSql(): string {
  return `CREATE FUNCTION bench_peer.search(query text, max_hits int) RETURNS SETOF bench_peer.search_hit
    LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
      SELECT upper(s.kind), s.id, s.title, s.subtitle, s.score
      FROM public.trellis_search(query, ARRAY['account', 'contact', 'lead', 'opportunity'], max_hits) s
    $$`;
}
