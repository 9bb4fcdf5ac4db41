import type { ServiceContext } from '../../data/context';
import { badField, notFound } from '../../kernel/errors';
import { isUuid } from '../../db/tenant-transaction';
import { EntityType } from '../../graphql/enums';

interface DuplicateCandidate {
  type: EntityType;
  id: string;
  score: number;
  reasons: string[];
}

type Expr = (alias: string) => string;

/** What makes two records of a kind likely the same: exact keys, and names that look alike. */
const samePhone: [Expr, string] = [(a) => `regexp_replace(${a}.phone, '\\D', '', 'g')`, 'same phone'];
const RULES: Partial<Record<EntityType, { exact: [Expr, string][]; name: Expr }>> = {
  [EntityType.ACCOUNT]: { exact: [[(a) => `lower(${a}.domain)`, 'same domain'], samePhone], name: (a) => `${a}.name` },
  [EntityType.CONTACT]: { exact: [[(a) => `lower(${a}.email)`, 'same email'], samePhone], name: (a) => `concat_ws(' ', ${a}.first_name, ${a}.last_name)` },
  [EntityType.LEAD]: {
    exact: [[(a) => `lower(${a}.email)`, 'same email'], samePhone],
    name: (a) => `concat_ws(' ', ${a}.first_name, ${a}.last_name, ${a}.company)`,
  },
};

const NAME_THRESHOLD = 0.45;

/**
 * Likely duplicates of a record: the same domain, email or phone (score 1 each), or a name that
 * looks alike (trigram similarity, accents and case ignored), best first.
 */
export class DuplicateService {
  async find(ctx: ServiceContext, entityType: EntityType, id: string): Promise<DuplicateCandidate[]> {
    const rule = RULES[entityType];
    if (!rule) throw badField('entityType', 'duplicates are found for accounts, contacts and leads');
    if (!isUuid(id)) throw notFound('Record');
    const table = entityType;
    const exists = await ctx.tx.one(`SELECT 1 FROM ${table} WHERE workspace_id = $1 AND id = $2`, [ctx.tx.workspaceId, id]);
    if (!exists) throw notFound('Record');
    const cols = rule.exact.map(([expr, reason]) => ({ t: expr('t'), s: expr('s'), reason }));
    const nameT = `trellis_search_text(${rule.name('t')})`;
    const nameS = `trellis_search_text(${rule.name('s')})`;
    const rows = await ctx.tx.query<{ id: string; name_score: number; [k: string]: unknown }>(
      `SELECT t.id, similarity(${nameT}, ${nameS}) AS name_score${cols.map((c, i) => `, (${c.t} <> '' AND ${c.t} = ${c.s}) AS exact${i}`).join('')}
       FROM ${table} s JOIN ${table} t ON t.workspace_id = s.workspace_id AND t.id <> s.id AND t.deleted_at IS NULL
       WHERE s.workspace_id = $1 AND s.id = $2
         AND (${cols.map((c) => `(${c.t} <> '' AND ${c.t} = ${c.s})`).join(' OR ')} OR similarity(${nameT}, ${nameS}) >= ${NAME_THRESHOLD})
       LIMIT 200`,
      [ctx.tx.workspaceId, id],
    );
    return rows
      .map((r) => {
        const reasons = cols.filter((_, i) => r[`exact${i}`] === true).map((c) => c.reason);
        const score = reasons.length + (r.name_score >= NAME_THRESHOLD ? Number(r.name_score) : 0);
        if (r.name_score >= NAME_THRESHOLD) reasons.push(r.name_score >= 0.99 ? 'same name' : 'similar name');
        return { type: entityType, id: r.id, score: Math.round(score * 1000) / 1000, reasons };
      })
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
      .slice(0, 20);
  }
}
