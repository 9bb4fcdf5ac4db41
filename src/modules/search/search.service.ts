import type { ServiceContext } from '../../data/context';
import { badField } from '../../kernel/errors';
import { type SearchHit, SearchableType } from './search.types';

/**
 * Search as you type across accounts, contacts, leads and opportunities: every word of the query
 * starts a word of the record (or is a typo of one), on lower-cased unaccented text; ranked whole
 * word, then prefix, then typo, a word of the name before one of the email, domain or company, then
 * newest. The SQL and its index live in the trellis_search function (migration SearchAsYouType).
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
