import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { TenantTransaction } from '../src/db/tenant-transaction';
import { type OrderInput, paginate, SortDirection } from '../src/data/connection';
import { OPPORTUNITY_SPEC } from '../src/modules/opportunities/opportunity.descriptor';
import { createTestDatabase, type TestDatabase } from './helpers/db';

/**
 * Under row-level security a condition can bound an index scan only if its functions are
 * LEAKPROOF; otherwise it is a filter over every row of the workspace (page 10 000 of a list by
 * amount read half a million rows). These plans are asked for as the application role, inside a
 * workspace, the way requests run.
 */
describe('query plans under row-level security', () => {
  let db: TestDatabase;
  let c: Client;
  const ws = randomUUID();
  beforeAll(async () => {
    db = await createTestDatabase();
    c = new Client({ connectionString: db.appUrl });
    await c.connect();
  });
  afterAll(async () => {
    await c.end();
    await db.drop();
  });

  /** The conditions of the index scans of a plan, as the planner prints them. */
  async function indexConds(sql: string, params: unknown[]): Promise<string[]> {
    await c.query(`BEGIN; SELECT set_config('app.workspace_id', '${ws}', true); SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off`);
    try {
      const [{ 'QUERY PLAN': plan }] = (await c.query(`EXPLAIN (FORMAT JSON) ${sql}`, params)).rows;
      const conds: string[] = [];
      const walk = (n: Record<string, unknown>) => {
        if (n['Index Cond']) conds.push(n['Index Cond'] as string);
        for (const child of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk(plan[0].Plan);
      return conds;
    } finally {
      await c.query('ROLLBACK');
    }
  }

  /** The SQL and parameters paginate() sends for the page after a cursor at (amount, id). */
  async function pageAfter(orderBy: OrderInput[]): Promise<{ sql: string; params: unknown[] }> {
    let sent = { sql: '', params: [] as unknown[] };
    const row = { id: randomUUID(), __k0: '1000.5000', __k1: randomUUID(), __k2: randomUUID() };
    const tx = {
      workspaceId: ws,
      query: async (sql: string, params: unknown[]) => ((sent = { sql, params }), sent.params.length > 1 ? [] : [row]),
    } as unknown as TenantTransaction;
    const base = { tx, spec: OPPORTUNITY_SPEC, orderBy, defaultOrder: [], map: (r: Record<string, unknown>) => r, first: 1 };
    const first = await paginate(base);
    await paginate({ ...base, first: 50, after: first.edges[0].cursor });
    return sent;
  }

  it('the keyset of a list by amount (nullable, descending) bounds the index scan', async () => {
    const { sql, params } = await pageAfter([{ field: 'AMOUNT', direction: SortDirection.DESC }]);
    const conds = await indexConds(sql, params);
    expect(conds.join(' ')).toMatch(/amount_value <= /);
  });

  it('so does a keyset of mixed directions (amount descending, then name ascending)', async () => {
    const { sql, params } = await pageAfter([
      { field: 'AMOUNT', direction: SortDirection.DESC },
      { field: 'NAME', direction: SortDirection.ASC },
    ]);
    const conds = await indexConds(sql, params);
    expect(conds.join(' ')).toMatch(/amount_value <= /);
  });

  it('an amount range bounds the index scan too', async () => {
    const conds = await indexConds(
      `SELECT t.id FROM opportunity t WHERE t.workspace_id = $1 AND t.amount_value BETWEEN $2::numeric AND $3::numeric ORDER BY t.amount_value LIMIT 50`,
      [ws, '10', '20'],
    );
    expect(conds.join(' ')).toMatch(/amount_value >= .*amount_value <= /);
  });
});
