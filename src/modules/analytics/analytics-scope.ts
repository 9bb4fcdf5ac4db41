import type { ServiceContext } from '../../data/context';
import { badField } from '../../kernel/errors';
import { money, type Money, normaliseDecimal } from '../../graphql/money';
import type { SqlParams } from '../../data/sql';
import { type GroupKey, Period, RevenueGrouping } from './analytics.types';
import { Role } from '../../kernel/roles';

/** What a viewer's analytics cover, and the workspace's time zone for periods. */
interface Scope {
  tz: string;
  /** A condition restricting `ownerColumn` to the records the viewer's numbers cover ('TRUE': all). */
  owners(p: SqlParams, ownerColumn: string): string;
}

/**
 * Managers see their teams' numbers (and their own); REPs see the whole workspace's only if the
 * workspace allows it (settings.repsSeeWorkspaceAnalytics), else their own; ADMIN, READ_ONLY users
 * and API keys see the whole workspace's.
 */
export async function scopeOf(ctx: ServiceContext): Promise<Scope> {
  const [ws] = await ctx.tx.query<{ timezone: string; reps_see_all: boolean }>(
    `SELECT timezone, coalesce((settings->>'repsSeeWorkspaceAnalytics')::boolean, false) AS reps_see_all FROM workspace WHERE id = $1`,
    [ctx.tx.workspaceId],
  );
  const v = ctx.viewer;
  const all: Scope['owners'] = () => 'TRUE';
  if (v.kind !== 'USER' || v.role === Role.ADMIN || v.role === Role.READ_ONLY) return { tz: ws.timezone, owners: all };
  if (v.role === Role.MANAGER) {
    return {
      tz: ws.timezone,
      owners: (p, col) => {
        const me = p.add(v.userId);
        return `${col} IN (SELECT u.id FROM app_user u WHERE u.workspace_id = $1 AND (u.id = ${me}::uuid OR u.team_id IN (SELECT t.id FROM team t WHERE t.workspace_id = $1 AND t.manager_id = ${me}::uuid)))`;
      },
    };
  }
  if (ws.reps_see_all) return { tz: ws.timezone, owners: all };
  return { tz: ws.timezone, owners: (p, col) => `${col} = ${p.add(v.userId)}::uuid` };
}

/** `expr` (a timestamptz) as a local timestamp of the workspace. */
export const local = (p: SqlParams, expr: string, tz: string) => `(${expr} AT TIME ZONE ${p.add(tz)}::text)`;

/** A local date or timestamp within [from, to], both whole days included; 'TRUE' without bounds. */
export function within(p: SqlParams, expr: string | (() => string), from?: string | null, to?: string | null): string {
  if (from && to && from > to) throw badField('to', 'must not be before from');
  if (!from && !to) return 'TRUE';
  // Built only when needed: it may add a parameter (the time zone) that an unused condition would leave dangling.
  const localExpr = typeof expr === 'string' ? expr : expr();
  const out: string[] = [];
  if (from) out.push(`${localExpr} >= ${p.add(from)}::date`);
  if (to) out.push(`${localExpr} < ${p.add(to)}::date + 1`);
  return out.join(' AND ') || 'TRUE';
}

export const PG_PERIOD: Record<Period, string> = { DAY: 'day', WEEK: 'week', MONTH: 'month', QUARTER: 'quarter', YEAR: 'year' };
/** One period as an interval: PostgreSQL truncates to a quarter but has no "1 quarter" interval. */
export const PG_PERIOD_STEP: Record<Period, string> = { DAY: '1 day', WEEK: '1 week', MONTH: '1 month', QUARTER: '3 months', YEAR: '1 year' };

/** How deal figures are grouped: the SQL of the group's id (with the joins it needs), and where its names are. */
interface DealGrouping {
  join: string;
  id: string;
  namesFrom: string | null;
}

export function dealGrouping(g: RevenueGrouping | null | undefined): DealGrouping | null {
  switch (g ?? RevenueGrouping.NONE) {
    case RevenueGrouping.NONE:
      return null;
    case RevenueGrouping.OWNER:
      return { join: '', id: 't.owner_id', namesFrom: 'app_user' };
    case RevenueGrouping.TEAM:
      return { join: 'LEFT JOIN app_user gu ON gu.workspace_id = t.workspace_id AND gu.id = t.owner_id', id: 'gu.team_id', namesFrom: 'team' };
    case RevenueGrouping.ACCOUNT:
      return { join: '', id: 't.account_id', namesFrom: 'account' };
    case RevenueGrouping.PIPELINE:
      return { join: '', id: 't.pipeline_id', namesFrom: 'pipeline' };
    case RevenueGrouping.PRODUCT:
      return { join: 'JOIN line_item li ON li.workspace_id = t.workspace_id AND li.opportunity_id = t.id', id: 'li.product_id', namesFrom: 'product' };
  }
}

/** The names of the groups found, in one query: GroupKeys by id ('' for no group). */
export async function groupKeys(
  ctx: ServiceContext,
  grouping: DealGrouping | { namesFrom: string | null },
  ids: (string | null)[],
): Promise<Map<string, GroupKey>> {
  const out = new Map<string, GroupKey>();
  const known = [...new Set(ids.filter((i): i is string => !!i))];
  if (grouping.namesFrom && known.length) {
    const rows = await ctx.tx.query<{ id: string; name: string }>(
      `SELECT id, name FROM ${grouping.namesFrom} WHERE workspace_id = $1 AND id = ANY($2::uuid[])`,
      [ctx.tx.workspaceId, known],
    );
    for (const r of rows) out.set(r.id, { id: r.id, name: r.name });
  }
  out.set('', { id: null, name: '(none)' });
  return out;
}

/** Per-currency sums into Money, sorted by currency; empty sums dropped. */
export function amounts(rows: { currency: string | null; amount: string | null }[]): Money[] {
  return rows
    .filter((r) => r.currency && r.amount != null)
    .map((r) => money(r.amount, r.currency)!)
    .sort((a, b) => a.currency.localeCompare(b.currency));
}

/** A numeric sum as money people read (4 places stored, at least 2 shown), rounded to 4 places. */
export const decimal = (v: string | null) => normaliseDecimal(v ?? '0');

export const ratio = (n: number, d: number) => (d > 0 ? n / d : null);
