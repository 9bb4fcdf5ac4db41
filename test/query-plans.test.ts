import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
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

  it('the keyset of a list by amount bounds the index scan (numeric comparisons are LEAKPROOF)', async () => {
    const conds = await indexConds(
      `SELECT t.id FROM opportunity t WHERE t.workspace_id = $1 AND t.deleted_at IS NULL AND (t.amount_value, t.id) < ($2::numeric, $3::uuid)
       ORDER BY t.amount_value DESC, t.id DESC LIMIT 51`,
      [ws, '1000.50', randomUUID()],
    );
    expect(conds.join(' ')).toMatch(/ROW\(amount_value, id\) < ROW\(/);
  });

  it('an amount range bounds the index scan too', async () => {
    const conds = await indexConds(`SELECT t.id FROM opportunity t WHERE t.workspace_id = $1 AND t.amount_value BETWEEN $2::numeric AND $3::numeric ORDER BY t.amount_value LIMIT 50`, [ws, '10', '20']);
    expect(conds.join(' ')).toMatch(/amount_value >= .*amount_value <= /);
  });
});
