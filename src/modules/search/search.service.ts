import type { ServiceContext } from '../../data/context';
import { badField } from '../../kernel/errors';
import { type SearchHit, SearchableType } from './search.types';

/**
 * Ranked search across accounts, contacts, leads and opportunities: full-text matches of whole words
 * plus trigram similarity on names, emails and domains, both on lower-cased unaccented text, so case,
 * accents and a typo in a name do not hide a record. The name weighs most: a record whose name is
 * the query ranks above one that only mentions it (in a longer name, an email or a domain), and a
 * typo is tolerated through lowered trigram thresholds (0.4 word, 0.3 whole).
 */
export class SearchService {
  async search(ctx: ServiceContext, query: string, types?: SearchableType[] | null, first?: number | null): Promise<SearchHit[]> {
    const q = query.trim();
    if (q.length < 2 || q.length > 200) throw badField('query', 'must be 2 to 200 characters');
    const limit = first ?? 20;
    if (limit < 1 || limit > 100) throw badField('first', 'must be between 1 and 100');
    const kinds = types?.length ? [...new Set(types)] : Object.values(SearchableType);
    // The SQL lives in the trellis_search function (see its migration: why, and how it stays in the workspace).
    const rows = await ctx.tx.query<{ kind: SearchableType; id: string; title: string; subtitle: string | null; score: number }>(
      'SELECT * FROM trellis_search($1, $2::text[], $3)',
      [q, kinds, limit],
    );
    return rows.map((r) => ({ type: r.kind, id: r.id, title: r.title, subtitle: r.subtitle, score: Number(r.score) }));
  }
}
