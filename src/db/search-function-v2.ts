import type { QueryRunner } from 'typeorm';
import { APP_ROLE, SEARCH_ROLE } from './roles';

// The second trellis_search (migration SearchWords: every word must match), kept callable for
// SearchAsYouType's down migration, which restores it. (Not in a migration file: TypeORM takes every
// export of one for a migration.)
const PART = (kind: string, title: string, subtitle: string) => `
  (SELECT '${kind}'::text AS kind, t.id, ${title} AS title, ${subtitle} AS subtitle,
     word_similarity(q.text, trellis_search_text(${title})) + similarity(trellis_search_text(${title}), q.text)
     + 0.5 * word_similarity(q.text, t.search_text) + ts_rank(to_tsvector('simple', t.search_text), q.ts) AS score
   FROM ${kind} t, q
   WHERE '${kind}' = ANY($2) AND t.workspace_id = q.ws AND t.deleted_at IS NULL
     AND ((%1$s) OR to_tsvector('simple', t.search_text) @@ q.ts)
   ORDER BY score DESC, t.id LIMIT $3)`;

/** Creates the word-by-word trellis_search (see migration SearchWords for why it is built this way). */
export async function createWordSearchFunction(qr: QueryRunner): Promise<void> {
  const statement = `
    WITH q AS (
      SELECT trellis_search_text($1) AS text, plainto_tsquery('simple', trellis_search_text($1)) AS ts,
             NULLIF(current_setting('app.workspace_id', true), '')::uuid AS ws
    )
    SELECT * FROM (${PART('account', 't.name', 't.domain')}
      UNION ALL ${PART('contact', "concat_ws(' ', t.first_name, t.last_name)", 't.email')}
      UNION ALL ${PART('lead', "concat_ws(' ', t.first_name, t.last_name)", 't.company')}
      UNION ALL ${PART('opportunity', 't.name', 'NULL::text')}) hits
    ORDER BY score DESC, title LIMIT $3`;
  await qr.query(`
    CREATE FUNCTION trellis_search(p_query text, p_kinds text[], p_limit int)
    RETURNS TABLE (kind text, id uuid, title text, subtitle text, score double precision)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET pg_trgm.word_similarity_threshold = 0.4
    SET pg_trgm.similarity_threshold = 0.3
    AS $fn$
    DECLARE
      words text[];
      matched text;
    BEGIN
      -- Up to 8 distinct words of 3 letters or more (shorter ones have too few trigrams to find anything by); else the whole query.
      SELECT array_agg(w) INTO words FROM (
        SELECT DISTINCT w FROM regexp_split_to_table(trellis_search_text(p_query), '[^[:alnum:]]+') AS w WHERE length(w) >= 3 LIMIT 8
      ) x;
      IF words IS NULL THEN words := ARRAY[trellis_search_text(p_query)]; END IF;
      SELECT string_agg(format('%L <%% t.search_text', w), ' AND ') INTO matched FROM unnest(words) AS w;
      RETURN QUERY EXECUTE format($q$${statement}$q$, matched) USING p_query, p_kinds, p_limit;
    END $fn$`);
  await qr.query(`ALTER FUNCTION trellis_search(text, text[], int) OWNER TO ${SEARCH_ROLE}`);
  await qr.query(`REVOKE ALL ON FUNCTION trellis_search(text, text[], int) FROM PUBLIC`);
  await qr.query(`GRANT EXECUTE ON FUNCTION trellis_search(text, text[], int) TO ${APP_ROLE}`);
}
