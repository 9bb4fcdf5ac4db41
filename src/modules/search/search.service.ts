import type { ServiceContext } from '../../graphql/context';
import { badField } from '../../graphql/errors';
import { type SearchHit, SearchableType } from './search.types';

const SOURCES: Record<SearchableType, { title: string; subtitle: string }> = {
  [SearchableType.ACCOUNT]: { title: 't.name', subtitle: 't.domain' },
  [SearchableType.CONTACT]: { title: "concat_ws(' ', t.first_name, t.last_name)", subtitle: 't.email' },
  [SearchableType.LEAD]: { title: "concat_ws(' ', t.first_name, t.last_name)", subtitle: 't.company' },
  [SearchableType.OPPORTUNITY]: { title: 't.name', subtitle: 'NULL::text' },
};

/**
 * Ranked search across accounts, contacts, leads and opportunities: full-text matches of whole words
 * plus trigram similarity on names, emails and domains, both on lower-cased unaccented text, so case,
 * accents and a typo in a name do not hide a record. The name weighs most: a record whose name is
 * the query ranks above one that only mentions it (in a longer name, an email or a domain).
 */
export class SearchService {
  async search(ctx: ServiceContext, query: string, types?: SearchableType[] | null, first?: number | null): Promise<SearchHit[]> {
    const q = query.trim();
    if (q.length < 2 || q.length > 200) throw badField('query', 'must be 2 to 200 characters');
    const limit = first ?? 20;
    if (limit < 1 || limit > 100) throw badField('first', 'must be between 1 and 100');
    const kinds = types?.length ? [...new Set(types)] : Object.values(SearchableType);
    // A lower word-similarity threshold than the default 0.6 lets one typo in a short name match.
    await ctx.tx.query(`SELECT set_config('pg_trgm.word_similarity_threshold', '0.4', true), set_config('pg_trgm.similarity_threshold', '0.3', true)`);
    const parts = kinds.map(
      (k) => `(SELECT '${k}' AS kind, t.id, ${SOURCES[k].title} AS title, ${SOURCES[k].subtitle} AS subtitle,
          word_similarity(q.text, trellis_search_text(${SOURCES[k].title})) + similarity(trellis_search_text(${SOURCES[k].title}), q.text)
          + 0.5 * word_similarity(q.text, t.search_text) + ts_rank(to_tsvector('simple', t.search_text), q.ts) AS score
        FROM ${k} t, q
        WHERE t.workspace_id = $1 AND t.deleted_at IS NULL
          AND (t.search_text % q.text OR q.text <% t.search_text OR to_tsvector('simple', t.search_text) @@ q.ts)
        ORDER BY score DESC, t.id LIMIT $3)`,
    );
    const rows = await ctx.tx.query<{ kind: SearchableType; id: string; title: string; subtitle: string | null; score: number }>(
      `WITH q AS (SELECT trellis_search_text($2) AS text, plainto_tsquery('simple', trellis_search_text($2)) AS ts)
       SELECT * FROM (${parts.join(' UNION ALL ')}) hits ORDER BY score DESC, title LIMIT $3`,
      [ctx.tx.workspaceId, q, limit],
    );
    return rows.map((r) => ({ type: r.kind, id: r.id, title: r.title, subtitle: r.subtitle, score: Number(r.score) }));
  }
}
