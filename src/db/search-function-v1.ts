import type { QueryRunner } from 'typeorm';
import { APP_ROLE, SEARCH_ROLE } from './roles';

/**
 * The first trellis_search: a record matches when the whole query is similar to its text. Kept
 * callable for SearchWords' down migration, which restores it. (Not in a migration file: TypeORM
 * takes every export of one for a migration.)
 */
export async function createLooseSearchFunction(qr: QueryRunner): Promise<void> {
  const part = (kind: string, title: string, subtitle: string) => `
    (SELECT '${kind}'::text AS kind, t.id, ${title} AS title, ${subtitle} AS subtitle,
       word_similarity(q.text, trellis_search_text(${title})) + similarity(trellis_search_text(${title}), q.text)
       + 0.5 * word_similarity(q.text, t.search_text) + ts_rank(to_tsvector('simple', t.search_text), q.ts) AS score
     FROM ${kind} t, q
     WHERE '${kind}' = ANY(p_kinds) AND t.workspace_id = q.ws AND t.deleted_at IS NULL
       AND (t.search_text % q.text OR q.text <% t.search_text OR to_tsvector('simple', t.search_text) @@ q.ts)
     ORDER BY score DESC, t.id LIMIT p_limit)`;
  await qr.query(`
    CREATE FUNCTION trellis_search(p_query text, p_kinds text[], p_limit int)
    RETURNS TABLE (kind text, id uuid, title text, subtitle text, score double precision)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET pg_trgm.word_similarity_threshold = 0.4
    SET pg_trgm.similarity_threshold = 0.3
    AS $$
      WITH q AS (
        SELECT trellis_search_text(p_query) AS text, plainto_tsquery('simple', trellis_search_text(p_query)) AS ts,
               NULLIF(current_setting('app.workspace_id', true), '')::uuid AS ws
      )
      SELECT * FROM (${part('account', 't.name', 't.domain')}
        UNION ALL ${part('contact', "concat_ws(' ', t.first_name, t.last_name)", 't.email')}
        UNION ALL ${part('lead', "concat_ws(' ', t.first_name, t.last_name)", 't.company')}
        UNION ALL ${part('opportunity', 't.name', 'NULL::text')}) hits
      ORDER BY score DESC, title LIMIT p_limit
    $$`);
  await qr.query(`ALTER FUNCTION trellis_search(text, text[], int) OWNER TO ${SEARCH_ROLE}`);
  await qr.query(`REVOKE ALL ON FUNCTION trellis_search(text, text[], int) FROM PUBLIC`);
  await qr.query(`GRANT EXECUTE ON FUNCTION trellis_search(text, text[], int) TO ${APP_ROLE}`);
}
