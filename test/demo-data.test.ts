import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { MAVEN_DIR } from '../src/modules/workspaces/maven-dataset';
import { createDemoWorkspace } from '../src/modules/workspaces/demo';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SAMPLE_QUERY } from '../src/server/explorer/page';
import { startTestApp, type TestApp } from './helpers/app';

describe('the demo workspace (Maven CRM sample)', () => {
  let t: TestApp;
  let creds: Awaited<ReturnType<typeof createDemoWorkspace>>;
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-demo-'));
  const pipeline = parse(readFileSync(join(MAVEN_DIR, 'sales_pipeline.csv')), { columns: true }) as Record<string, string>[];
  beforeAll(async () => {
    t = await startTestApp();
    creds = await createDemoWorkspace(t.ds, t.services, dataDir);
  }, 120_000);
  afterAll(async () => {
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('holds the dataset: 85 accounts, 7 products, 35 agents in teams under their managers, 8,800 opportunities', async () => {
    const r = await t.gql(
      `{ accounts { totalCount } products { totalCount } opportunities { totalCount } users { totalCount }
         reps: users(filter: { role: { eq: REP } }) { totalCount } managers: users(filter: { role: { eq: MANAGER } }) { totalCount }
         teams { nodes { name manager { name } members { role } } } }`,
      {},
      creds.apiKey,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.accounts.totalCount).toBe(85);
    expect(r.data.products.totalCount).toBe(7);
    expect(r.data.opportunities.totalCount).toBe(pipeline.length);
    expect(r.data.reps.totalCount).toBe(35);
    // What the start banner prints: every user, the admin too (6 managers + 35 agents + 1 admin).
    expect(creds.summary!.users).toBe(r.data.users.totalCount);
    expect(creds.summary!.users).toBe(42);
    expect(r.data.teams.nodes.length).toBe(r.data.managers.totalCount);
    for (const team of r.data.teams.nodes) expect(team.name).toContain(team.manager.name);
  });

  it("the explorer's sample query runs on the demo data and finds open deals", async () => {
    const r = await t.gql(SAMPLE_QUERY, {}, creds.apiKey);
    expect(r.errors).toBeUndefined();
    expect(r.data.opportunities.totalCount).toBeGreaterThan(0);
    expect(r.data.opportunities.nodes).toHaveLength(5);
    const amounts = r.data.opportunities.nodes.map((n: { amount: { amount: string } }) => Number(n.amount.amount));
    expect(amounts).toEqual([...amounts].sort((a, b) => b - a));
    for (const n of r.data.opportunities.nodes) expect(n).toMatchObject({ stage: { name: expect.any(String) }, owner: { name: expect.any(String) } });
  });

  it('keeps the won deals exact: count and total equal the CSV', async () => {
    const won = pipeline.filter((p) => p.deal_stage === 'Won');
    const total = won.reduce((s, p) => s + Number(p.close_value), 0);
    const [row] = await t.sql<{ n: number; total: string }>(
      `SELECT count(*)::int AS n, sum(amount_value)::text AS total FROM opportunity WHERE workspace_id = $1 AND status = 'WON'`,
      [creds.workspaceId],
    );
    expect(row.n).toBe(won.length);
    expect(Number(row.total)).toBe(total);
    const one = pipeline.find((p) => p.deal_stage === 'Won')!;
    const o = await t.gql(
      `query($e: String) { opportunity(externalId: $e) { status closedAt amount { amount } stage { name } lineItems { product { name } } stageHistory { stage { name } } } }`,
      { e: one.opportunity_id },
      creds.apiKey,
    );
    expect(o.data.opportunity).toMatchObject({
      status: 'WON',
      closedAt: `${one.close_date}T00:00:00.000Z`,
      amount: { amount: `${one.close_value}.00` },
      stage: { name: 'Closed Won' },
    });
    expect(o.data.opportunity.stageHistory.map((h: { stage: { name: string } }) => h.stage.name)).toEqual(['Qualification', 'Closed Won']);
  });

  it('records a created event for every row it wrote', async () => {
    for (const table of ['account', 'contact', 'opportunity', 'activity', 'product', 'line_item']) {
      const [c] = await t.sql<{ rows: number; events: number }>(
        `SELECT (SELECT count(*) FROM ${table} WHERE workspace_id = $1)::int AS rows,
                (SELECT count(*) FROM event WHERE workspace_id = $1 AND type = '${table}.created')::int AS events`,
        [creds.workspaceId],
      );
      expect({ table, events: c.events }).toEqual({ table, events: c.rows });
      expect(c.rows).toBeGreaterThan(0);
    }
  });
});
