import type { ServiceContext } from '../../graphql/context';
import { badField, notFound } from '../../graphql/errors';
import { isUuid } from '../../db/tenant-transaction';
import { EntityType } from '../common/enums';

export interface DuplicateCandidate {
  type: EntityType;
  id: string;
  score: number;
  reasons: string[];
}

/** What makes two records of a kind likely the same: exact keys, and names that look alike. */
const RULES: Partial<Record<EntityType, { exact: [column: string, reason: string][]; name: string }>> = {
  [EntityType.ACCOUNT]: { exact: [['lower(domain)', 'same domain'], ["regexp_replace(phone, '\\D', '', 'g')", 'same phone']], name: 'name' },
  [EntityType.CONTACT]: { exact: [['lower(email)', 'same email'], ["regexp_replace(phone, '\\D', '', 'g')", 'same phone']], name: "concat_ws(' ', first_name, last_name)" },
  [EntityType.LEAD]: { exact: [['lower(email)', 'same email'], ["regexp_replace(phone, '\\D', '', 'g')", 'same phone']], name: "concat_ws(' ', first_name, last_name, company)" },
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
    const cols = rule.exact.map(([col], i) => ({ t: qualify(col, 't'), s: qualify(col, 's'), reason: rule.exact[i][1] }));
    const nameT = `trellis_search_text(${qualify(rule.name, 't')})`;
    const nameS = `trellis_search_text(${qualify(rule.name, 's')})`;
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

/** Puts a table alias before the column names of a small SQL expression over one row. */
function qualify(expr: string, alias: string): string {
  return expr.replace(/\b(first_name|last_name|company|name|email|domain|phone)\b/g, `${alias}.$1`);
}
