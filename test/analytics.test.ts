import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createDemoWorkspace } from '../src/modules/workspaces/demo';
import { MAVEN_DIR } from '../src/modules/workspaces/maven-dataset';
import { signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';

const money = (list: { amount: string; currency: string }[]) => Object.fromEntries(list.map((m) => [m.currency, m.amount]));

describe('analytics on a hand-computed fixture', () => {
  let t: TestApp;
  let admin: SignedUp;
  let stages: Record<string, string>;
  let rep: { token: string; id: string };
  let manager: { token: string; id: string };
  let otherRep: { token: string; id: string };

  /** Creates an opportunity through the API (historical dates are allowed to an ADMIN). */
  async function deal(input: Record<string, unknown>, token = admin.accessToken): Promise<string> {
    const r = await t.gql(`mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id } }`, { i: input }, token);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data.createOpportunity.id;
  }

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Numbers Inc');
    // Periods in Paris time: 2026-01-31 23:30 UTC is February 1st in Paris.
    await t.gql(`mutation { updateWorkspace(input: { timezone: "Europe/Paris" }) { timezone } }`, {}, admin.accessToken);
    const p = await t.gql(`{ pipelines { nodes { stages { id name } } } }`, {}, admin.accessToken);
    stages = Object.fromEntries(p.data.pipelines.nodes[0].stages.map((s: { id: string; name: string }) => [s.name, s.id]));
    manager = await userWithRole(t, admin, 'MANAGER');
    rep = await userWithRole(t, admin, 'REP');
    otherRep = await userWithRole(t, admin, 'REP');
    const team = await t.gql(
      `mutation($i: CreateTeamInput!) { createTeam(input: $i) { id } }`,
      { i: { name: 'East', managerId: manager.id } },
      admin.accessToken,
    );
    await t.gql(
      `mutation($id: ID!, $t: ID!) { updateUser(id: $id, input: { teamId: $t }) { id } }`,
      { id: rep.id, t: team.data.createTeam.id },
      admin.accessToken,
    );

    const won = stages['Closed Won'];
    const lost = stages['Closed Lost'];
    // Won: EUR 1000.10 (Jan, rep), EUR 200.20 (Feb in Paris, rep), USD 300 (Feb, other rep), EUR 50 (Mar, no owner).
    await deal({
      name: 'W1',
      amount: { amount: '1000.10', currency: 'EUR' },
      stageId: won,
      ownerId: rep.id,
      createdAt: '2026-01-01T10:00:00Z',
      closedAt: '2026-01-11T10:00:00Z',
    });
    await deal({
      name: 'W2',
      amount: { amount: '200.20', currency: 'EUR' },
      stageId: won,
      ownerId: rep.id,
      createdAt: '2026-01-21T23:30:00Z',
      closedAt: '2026-01-31T23:30:00Z',
    });
    await deal({
      name: 'W3',
      amount: { amount: '300', currency: 'USD' },
      stageId: won,
      ownerId: otherRep.id,
      createdAt: '2026-01-15T12:00:00Z',
      closedAt: '2026-02-14T12:00:00Z',
    });
    await deal({ name: 'W4', amount: { amount: '50', currency: 'EUR' }, stageId: won, createdAt: '2026-03-01T12:00:00Z', closedAt: '2026-03-05T12:00:00Z' });
    // Lost: EUR 400 (Feb, rep), USD 100 (Feb, other rep).
    await deal({
      name: 'L1',
      amount: { amount: '400', currency: 'EUR' },
      stageId: lost,
      ownerId: rep.id,
      createdAt: '2026-02-01T12:00:00Z',
      closedAt: '2026-02-10T12:00:00Z',
    });
    await deal({
      name: 'L2',
      amount: { amount: '100', currency: 'USD' },
      stageId: lost,
      ownerId: otherRep.id,
      createdAt: '2026-02-01T12:00:00Z',
      closedAt: '2026-02-20T12:00:00Z',
    });
    // Open: Proposal (50%) EUR 1000 closing 2026-04-10; Negotiation (75%) EUR 100.01 with its own probability 10, closing 2026-04-20;
    // Prospecting (10%) USD 999.99 closing 2026-05-02, owned by the rep.
    await deal({ name: 'O1', amount: { amount: '1000', currency: 'EUR' }, stageId: stages.Proposal, expectedCloseDate: '2026-04-10', ownerId: otherRep.id });
    await deal({
      name: 'O2',
      amount: { amount: '100.01', currency: 'EUR' },
      stageId: stages.Negotiation,
      probability: 10,
      expectedCloseDate: '2026-04-20',
      ownerId: otherRep.id,
    });
    await deal({ name: 'O3', amount: { amount: '999.99', currency: 'USD' }, stageId: stages.Prospecting, expectedCloseDate: '2026-05-02', ownerId: rep.id });
  });
  afterAll(() => t.close());

  it('pipelineSummary: per stage in order, per currency, weighted by the deal’s own probability when set', async () => {
    const r = await t.gql(
      `{ pipelineSummary { stages { stage { name } count amounts { amount currency } weightedAmounts { amount currency } } totals { currency count amount weightedAmount } } }`,
      {},
      admin.accessToken,
    );
    expect(r.errors).toBeUndefined();
    const byName = Object.fromEntries(r.data.pipelineSummary.stages.map((s: any) => [s.stage.name, s]));
    expect(r.data.pipelineSummary.stages.map((s: any) => s.stage.name)).toEqual([
      'Prospecting',
      'Qualification',
      'Proposal',
      'Negotiation',
      'Closed Won',
      'Closed Lost',
    ]);
    expect(byName.Qualification).toMatchObject({ count: 0, amounts: [], weightedAmounts: [] });
    expect(byName.Proposal).toMatchObject({
      count: 1,
      amounts: [{ amount: '1000.00', currency: 'EUR' }],
      weightedAmounts: [{ amount: '500.00', currency: 'EUR' }],
    });
    expect(byName.Negotiation.weightedAmounts).toEqual([{ amount: '10.001', currency: 'EUR' }]);
    expect(byName.Prospecting.weightedAmounts).toEqual([{ amount: '99.999', currency: 'USD' }]);
    expect(money(byName['Closed Won'].amounts)).toEqual({ EUR: '1250.30', USD: '300.00' });
    expect(r.data.pipelineSummary.totals).toEqual([
      { currency: 'EUR', count: 6, amount: '2750.31', weightedAmount: '1760.301' },
      { currency: 'USD', count: 3, amount: '1399.99', weightedAmount: '399.999' },
    ]);
  });

  it('revenue: per month in the workspace time zone, empty months included, amounts per currency, and by owner and pipeline', async () => {
    const r = await t.gql(
      `{ revenue(period: MONTH, from: "2025-12-01", to: "2026-04-30") { periodStart count amounts { amount currency } } }`,
      {},
      admin.accessToken,
    );
    expect(r.data.revenue.map((p: any) => [p.periodStart, p.count, money(p.amounts)])).toEqual([
      ['2025-12-01', 0, {}],
      ['2026-01-01', 1, { EUR: '1000.10' }],
      ['2026-02-01', 2, { EUR: '200.20', USD: '300.00' }],
      ['2026-03-01', 1, { EUR: '50.00' }],
      ['2026-04-01', 0, {}],
    ]);
    const q = await t.gql(
      `{ revenue(period: QUARTER, groupBy: OWNER) { periodStart group { id name } count amounts { amount currency } } }`,
      {},
      admin.accessToken,
    );
    const rows = q.data.revenue.map((p: any) => [p.periodStart, p.group.id, p.count, money(p.amounts)]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['2026-01-01', rep.id, 2, { EUR: '1200.30' }],
        ['2026-01-01', otherRep.id, 1, { USD: '300.00' }],
        ['2026-01-01', admin.userId, 1, { EUR: '50.00' }],
      ]),
    );
    expect(rows).toHaveLength(3);
    const week = await t.gql(`{ revenue(period: WEEK, from: "2026-01-26", to: "2026-02-01") { periodStart count } }`, {}, admin.accessToken);
    expect(week.data.revenue).toEqual([{ periodStart: '2026-01-26', count: 1 }]);
  });

  it('forecast: open deals by expected close month, weighted, per forecast category, beside what was won', async () => {
    const r = await t.gql(
      `{ forecast(period: MONTH, from: "2026-01-01", to: "2026-05-31") { periodStart count amounts { amount currency } weightedAmounts { amount currency } byCategory wonAmounts { amount currency } } }`,
      {},
      admin.accessToken,
    );
    const byPeriod = Object.fromEntries(r.data.forecast.map((p: any) => [p.periodStart, p]));
    expect(money(byPeriod['2026-04-01'].amounts)).toEqual({ EUR: '1100.01' });
    expect(money(byPeriod['2026-04-01'].weightedAmounts)).toEqual({ EUR: '510.001' });
    expect(
      byPeriod['2026-04-01'].byCategory.BEST_CASE.count + byPeriod['2026-04-01'].byCategory.COMMIT.count + byPeriod['2026-04-01'].byCategory.PIPELINE.count,
    ).toBe(2);
    expect(money(byPeriod['2026-05-01'].amounts)).toEqual({ USD: '999.99' });
    expect(money(byPeriod['2026-02-01'].wonAmounts)).toEqual({ EUR: '200.20', USD: '300.00' });
    expect(byPeriod['2026-02-01'].count).toBe(0);
  });

  it('winRate and salesCycle: by count and amount, per owner, exact', async () => {
    const w = await t.gql(
      `{ winRate(from: "2026-01-01", to: "2026-03-31") { group { id } won lost rate wonAmounts { amount currency } lostAmounts { amount currency } } }`,
      {},
      admin.accessToken,
    );
    expect(w.data.winRate).toEqual([
      {
        group: null,
        won: 4,
        lost: 2,
        rate: 4 / 6,
        wonAmounts: [
          { amount: '1250.30', currency: 'EUR' },
          { amount: '300.00', currency: 'USD' },
        ],
        lostAmounts: [
          { amount: '400.00', currency: 'EUR' },
          { amount: '100.00', currency: 'USD' },
        ],
      },
    ]);
    const byOwner = await t.gql(`{ winRate(groupBy: OWNER) { group { id } won lost rate } }`, {}, admin.accessToken);
    expect(byOwner.data.winRate).toEqual(
      expect.arrayContaining([
        { group: { id: rep.id }, won: 2, lost: 1, rate: 2 / 3 },
        { group: { id: otherRep.id }, won: 1, lost: 1, rate: 0.5 },
      ]),
    );
    const empty = await t.gql(`{ winRate(from: "2020-01-01", to: "2020-12-31") { won lost rate } }`, {}, admin.accessToken);
    expect(empty.data.winRate).toEqual([{ won: 0, lost: 0, rate: null }]);
    // Won cycles: 10, 10, 30 and 4 days.
    const c = await t.gql(`{ salesCycle { count averageDays medianDays p90Days } }`, {}, admin.accessToken);
    expect(c.data.salesCycle).toEqual([{ count: 4, averageDays: 13.5, medianDays: 10, p90Days: expect.closeTo(24, 9) }]);
  });

  it('stageFunnel: reached, conversion and days in stage from the stage history', async () => {
    const id = await deal({ name: 'Mover', amount: { amount: '1', currency: 'EUR' }, stageId: stages.Prospecting });
    await t.sql(`UPDATE opportunity_stage_history SET entered_at = now() - interval '4 days' WHERE opportunity_id = $1`, [id]);
    await t.gql(`mutation($id: ID!, $s: ID!) { updateOpportunity(id: $id, input: { stageId: $s }) { id } }`, { id, s: stages.Negotiation }, admin.accessToken);
    const r = await t.gql(`{ stageFunnel { stage { name } reached convertedToNext conversionRate averageDaysInStage } }`, {}, admin.accessToken);
    const by = Object.fromEntries(r.data.stageFunnel.map((s: any) => [s.stage.name, s]));
    // Every deal but the two created straight into Closed Lost is in the sequence; "Mover" went on from
    // Prospecting to Negotiation (reaching Qualification and Proposal on the way).
    expect(by.Prospecting.reached).toBe(8);
    expect(by['Closed Won'].reached).toBe(4);
    expect(by['Closed Lost']).toMatchObject({ reached: 2, convertedToNext: 0, conversionRate: null });
    expect(by.Negotiation.reached).toBe(by['Closed Won'].reached + 2);
    expect(by.Prospecting.convertedToNext).toBe(by.Qualification.reached);
    expect(by.Prospecting.averageDaysInStage).toBeCloseTo(4, 1);
  });

  it('activityStats: by type and owner: counts, completed, overdue tasks, call time', async () => {
    await t.gql(
      `mutation($o: ID) { a: createActivity(input: { type: CALL, subject: "c1", ownerId: $o }) { id } b: createActivity(input: { type: TASK, subject: "late", dueAt: "2020-01-01T00:00:00Z", ownerId: $o }) { id } }`,
      { o: rep.id },
      admin.accessToken,
    );
    const call = await t.gql(`{ activities(filter: { subject: { eq: "c1" } }) { nodes { id } } }`, {}, admin.accessToken);
    await t.gql(
      `mutation($id: ID!) { updateActivity(id: $id, input: { durationSeconds: 125 }) { id } }`,
      { id: call.data.activities.nodes[0].id },
      admin.accessToken,
    );
    const r = await t.gql(`{ activityStats(groupBy: OWNER) { group { id } type count completed overdue callSeconds } }`, {}, admin.accessToken);
    const mine = r.data.activityStats.filter((s: any) => s.group.id === rep.id);
    expect(mine).toEqual(
      expect.arrayContaining([
        { group: { id: rep.id }, type: 'CALL', count: 1, completed: 1, overdue: 0, callSeconds: 125 },
        { group: { id: rep.id }, type: 'TASK', count: 1, completed: 0, overdue: 1, callSeconds: 0 },
      ]),
    );
  });

  it('what each role sees: a REP its own numbers (or all, if the workspace allows), a MANAGER its team’s', async () => {
    const q = `{ winRate { won lost } }`;
    expect((await t.gql(q, {}, rep.token)).data.winRate).toEqual([{ won: 2, lost: 1 }]);
    expect((await t.gql(q, {}, otherRep.token)).data.winRate).toEqual([{ won: 1, lost: 1 }]);
    expect((await t.gql(q, {}, manager.token)).data.winRate).toEqual([{ won: 2, lost: 1 }]);
    expect((await t.gql(q, {}, admin.accessToken)).data.winRate).toEqual([{ won: 4, lost: 2 }]);
    await t.gql(`mutation { updateWorkspace(input: { repsSeeWorkspaceAnalytics: true }) { repsSeeWorkspaceAnalytics } }`, {}, admin.accessToken);
    expect((await t.gql(q, {}, rep.token)).data.winRate).toEqual([{ won: 4, lost: 2 }]);
    await t.gql(`mutation { updateWorkspace(input: { repsSeeWorkspaceAnalytics: false }) { repsSeeWorkspaceAnalytics } }`, {}, admin.accessToken);
  });

  it('bad input: a clear error; another workspace’s pipeline is NOT_FOUND', async () => {
    const r = await t.gql(`{ revenue(period: MONTH, from: "2026-03-01", to: "2026-01-01") { count } }`, {}, admin.accessToken);
    expect(r.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    const other = await signUp(t, 'Other numbers');
    const op = await t.gql(`{ pipelines { nodes { id } } }`, {}, other.accessToken);
    const x = await t.gql(`query($p: ID) { pipelineSummary(pipelineId: $p) { totals { count } } }`, { p: op.data.pipelines.nodes[0].id }, admin.accessToken);
    expect(x.errors?.[0].extensions.code).toBe('NOT_FOUND');
  });
});

describe('analytics cross-checked against the Maven CRM dataset', () => {
  let t: TestApp;
  let key: string;
  const pipeline = parse(readFileSync(join(MAVEN_DIR, 'sales_pipeline.csv')), { columns: true }) as Record<string, string>[];
  const won = pipeline.filter((p) => p.deal_stage === 'Won');
  const lost = pipeline.filter((p) => p.deal_stage === 'Lost');
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-analytics-'));
  beforeAll(async () => {
    t = await startTestApp();
    key = (await createDemoWorkspace(t.ds, t.services, dataDir)).apiKey;
  }, 120_000);
  afterAll(async () => {
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('revenue per year and per owner equals sums computed from the CSV (4,238 won deals, 10,005,534 in total)', async () => {
    expect(won).toHaveLength(4238);
    expect(won.reduce((s, p) => s + Number(p.close_value), 0)).toBe(10_005_534);
    const r = await t.gql(`{ revenue(period: YEAR) { periodStart count amounts { amount currency } } }`, {}, key);
    const years = new Map<string, { n: number; sum: number }>();
    for (const p of won) {
      const y = `${p.close_date.slice(0, 4)}-01-01`;
      const cur = years.get(y) ?? { n: 0, sum: 0 };
      years.set(y, { n: cur.n + 1, sum: cur.sum + Number(p.close_value) });
    }
    expect(r.data.revenue.map((p: any) => [p.periodStart, p.count, Number(p.amounts[0]?.amount ?? 0)])).toEqual(
      [...years].sort().map(([y, v]) => [y, v.n, v.sum]),
    );
    const byOwner = await t.gql(`{ revenue(period: YEAR, groupBy: OWNER) { group { name } count amounts { amount } } }`, {}, key);
    const expected = new Map<string, number>();
    for (const p of won) expected.set(p.sales_agent, (expected.get(p.sales_agent) ?? 0) + Number(p.close_value));
    const got = new Map<string, number>();
    for (const p of byOwner.data.revenue) got.set(p.group.name, (got.get(p.group.name) ?? 0) + Number(p.amounts[0].amount));
    expect(got).toEqual(expected);
  });

  it('win rate, sales cycle and pipeline counts equal the CSV', async () => {
    const w = await t.gql(`{ winRate { won lost rate } }`, {}, key);
    expect(w.data.winRate).toEqual([{ won: won.length, lost: lost.length, rate: won.length / (won.length + lost.length) }]);
    const days = won.map((p) => (Date.parse(p.close_date) - Date.parse(p.engage_date)) / 86_400_000);
    const c = await t.gql(`{ salesCycle { count averageDays } }`, {}, key);
    expect(c.data.salesCycle[0].count).toBe(won.length);
    expect(c.data.salesCycle[0].averageDays).toBeCloseTo(days.reduce((a, b) => a + b, 0) / days.length, 6);
    const s = await t.gql(`{ pipelineSummary { totals { count } } }`, {}, key);
    expect(s.data.pipelineSummary.totals.reduce((a: number, x: { count: number }) => a + x.count, 0)).toBe(pipeline.length);
  });
});
