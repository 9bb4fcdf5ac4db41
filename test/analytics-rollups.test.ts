import { signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';

/**
 * The analytics rollups (migration AnalyticsRollups) answer the queries without a record filter. They
 * must equal, at every moment, what the same query computes from the opportunities themselves: a
 * filter that selects every deal makes the service read the table, so each answer is compared with
 * its twin after every kind of write, after a change of time zone, after compaction, and after
 * concurrent writes to the same keys.
 */
describe('analytics rollups equal the live figures', () => {
  let t: TestApp;
  let admin: SignedUp;
  let stages: Record<string, string>;
  const owners: string[] = [];
  const deals: string[] = [];
  const EVERY_DEAL = { name: { isNull: false } };

  const QUERIES: [string, string][] = [
    [
      'pipelineSummary',
      `pipelineSummary(filter: $f) { stages { stage { name } count amounts { amount currency } weightedAmounts { amount currency } } totals { currency count amount weightedAmount } }`,
    ],
    ['revenue by day', `revenue(period: DAY, from: "2025-12-25", to: "2026-01-05", filter: $f) { periodStart count amounts { amount currency } }`],
    ['revenue by week and owner', `revenue(period: WEEK, groupBy: OWNER, filter: $f) { periodStart group { id } count amounts { amount currency } }`],
    ['revenue by quarter and team', `revenue(period: QUARTER, groupBy: TEAM, filter: $f) { periodStart group { id } count amounts { amount currency } }`],
    [
      'revenue by month and pipeline',
      `revenue(period: MONTH, from: "2025-06-01", groupBy: PIPELINE, filter: $f) { periodStart group { id } count amounts { amount currency } }`,
    ],
    [
      'forecast',
      `forecast(period: MONTH, filter: $f) { periodStart count amounts { amount currency } weightedAmounts { amount currency } byCategory wonAmounts { amount currency } }`,
    ],
    [
      'forecast by day in a range',
      `forecast(period: DAY, from: "2026-03-01", to: "2026-03-31", filter: $f) { periodStart count amounts { amount currency } weightedAmounts { amount currency } wonAmounts { amount currency } }`,
    ],
    ['winRate', `winRate(filter: $f) { group { id } won lost rate wonAmounts { amount currency } lostAmounts { amount currency } }`],
    [
      'winRate by owner in a range',
      `winRate(from: "2026-01-01", to: "2026-02-28", groupBy: OWNER, filter: $f) { group { id } won lost rate wonAmounts { amount currency } lostAmounts { amount currency } }`,
    ],
  ];

  /** Each query without a filter (the rollups) and with one that selects every deal (the table). */
  async function expectRollupsEqualLive(token = admin.accessToken, onlyOwner: string | null = null): Promise<void> {
    for (const [name, field] of QUERIES) {
      const doc = `query($f: OpportunityFilter) { ${field} }`;
      const [rolled, live] = await Promise.all([t.gql(doc, { f: null }, token), t.gql(doc, { f: EVERY_DEAL }, token)]);
      expect(rolled.errors).toBeUndefined();
      expect(live.errors).toBeUndefined();
      expect({ name, answer: rolled.data }).toEqual({ name, answer: live.data });
    }
    await expectActivityStatsEqualTable(token, onlyOwner);
    await expectFunnelEqualHistory(token, onlyOwner);
  }

  /** stageFunnel against the same figures computed in SQL from the stage history, for a few creation ranges. */
  async function expectFunnelEqualHistory(token: string, onlyOwner: string | null): Promise<void> {
    const [{ tz, pipeline }] = await t.sql<{ tz: string; pipeline: string }>(
      `SELECT w.timezone AS tz, (SELECT id FROM pipeline WHERE workspace_id = w.id AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1) AS pipeline FROM workspace w WHERE w.id = $1`,
      [admin.workspaceId],
    );
    for (const [from, to] of [
      [null, null],
      ['2025-11-05', '2025-11-20'],
      ['2025-11-10', null],
    ]) {
      const r = await t.gql(
        `query($f: Date, $t: Date) { stageFunnel(from: $f, to: $t) { stage { id kind position } reached convertedToNext averageDaysInStage } }`,
        { f: from, t: to },
        token,
      );
      expect(r.errors).toBeUndefined();
      const cohort = `h.workspace_id = $1 AND h.pipeline_id = $2 AND o.pipeline_id = $2 AND o.deleted_at IS NULL AND ($3::uuid IS NULL OR o.owner_id = $3)
        AND ($4::date IS NULL OR (o.created_at AT TIME ZONE $6)::date >= $4) AND ($5::date IS NULL OR (o.created_at AT TIME ZONE $6)::date <= $5)`;
      const args = [admin.workspaceId, pipeline, onlyOwner, from, to, tz];
      const entered = await t.sql<{ stage_id: string; n: number; avg_days: number | null }>(
        `SELECT h.stage_id, count(DISTINCT h.opportunity_id)::int AS n, avg(extract(epoch FROM h.left_at - h.entered_at) / 86400)::float8 AS avg_days
         FROM opportunity_stage_history h JOIN opportunity o ON o.workspace_id = h.workspace_id AND o.id = h.opportunity_id WHERE ${cohort} GROUP BY 1`,
        args,
      );
      const furthest = await t.sql<{ pos: number }>(
        `SELECT max(s.position) AS pos FROM opportunity_stage_history h JOIN opportunity o ON o.workspace_id = h.workspace_id AND o.id = h.opportunity_id
         JOIN stage s ON s.workspace_id = h.workspace_id AND s.id = h.stage_id AND s.kind <> 'LOST' WHERE ${cohort} GROUP BY h.opportunity_id`,
        args,
      );
      const steps = r.data.stageFunnel as {
        stage: { id: string; kind: string; position: number };
        reached: number;
        convertedToNext: number;
        averageDaysInStage: number | null;
      }[];
      const open = steps.filter((st) => st.stage.kind !== 'LOST');
      for (const step of steps) {
        const e = entered.find((x) => x.stage_id === step.stage.id);
        const reachedAt = (pos: number) => furthest.filter((f) => f.pos >= pos).length;
        const next = open[open.indexOf(step) + 1];
        const expected =
          step.stage.kind === 'LOST'
            ? { reached: e?.n ?? 0, convertedToNext: 0 }
            : { reached: reachedAt(step.stage.position), convertedToNext: next ? reachedAt(next.stage.position) : 0 };
        expect({ from, to, stage: step.stage.id, reached: step.reached, convertedToNext: step.convertedToNext }).toEqual({
          from,
          to,
          stage: step.stage.id,
          ...expected,
        });
        if (e?.avg_days == null) expect(step.averageDaysInStage).toBeNull();
        else expect(step.averageDaysInStage).toBeCloseTo(e.avg_days, 9);
      }
    }
  }

  /** activityStats against the same figures computed in SQL from the activity table. */
  async function expectActivityStatsEqualTable(token: string, onlyOwner: string | null): Promise<void> {
    const [{ tz }] = await t.sql<{ tz: string }>(`SELECT timezone AS tz FROM workspace WHERE id = $1`, [admin.workspaceId]);
    for (const [groupBy, gid] of [
      ['TYPE', `NULL`],
      ['OWNER', 'owner_id::text'],
      ['DAY', `(created_at AT TIME ZONE $2)::date::text`],
    ]) {
      const r = await t.gql(`{ activityStats(groupBy: ${groupBy}) { group { id name } type count completed overdue callSeconds } }`, {}, token);
      expect(r.errors).toBeUndefined();
      const expected = await t.sql<{ gid: string | null; type: string; n: number; completed: number; overdue: number; call_seconds: number }>(
        `SELECT ${gid} AS gid, type, count(*)::int AS n, count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed,
                count(*) FILTER (WHERE type = 'TASK' AND status = 'OPEN' AND due_at < now())::int AS overdue,
                coalesce(sum(duration_seconds) FILTER (WHERE type = 'CALL'), 0)::int AS call_seconds
         FROM activity WHERE workspace_id = $1 AND deleted_at IS NULL AND ($2::text IS NOT NULL) AND ($3::uuid IS NULL OR owner_id = $3) GROUP BY 1, 2 ORDER BY 1, 2`,
        [admin.workspaceId, tz, onlyOwner],
      );
      const got = r.data.activityStats.map((s: any) => ({
        gid: groupBy === 'OWNER' ? s.group.id : groupBy === 'DAY' ? s.group.name : null,
        type: s.type,
        n: s.count,
        completed: s.completed,
        overdue: s.overdue,
        call_seconds: s.callSeconds,
      }));
      expect({ groupBy, got }).toEqual({ groupBy, got: expected });
    }
  }

  async function gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
    const r = await t.gql(query, variables, admin.accessToken);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data;
  }

  beforeAll(async () => {
    t = await startTestApp();
    // This file compacts when it means to: the periodic round would otherwise fold the appended rows
    // away before the test that looks for them (on a loaded machine the file outlasts its interval).
    await t.services.rollupCompactor.stop();
    admin = await signUp(t, 'Rollup Co');
    await gql(`mutation { updateWorkspace(input: { timezone: "America/New_York" }) { timezone } }`);
    const p = await gql(`{ pipelines { nodes { stages { id name } } } }`);
    stages = Object.fromEntries(p.pipelines.nodes[0].stages.map((s: { id: string; name: string }) => [s.name, s.id]));
    const manager = await userWithRole(t, admin, 'MANAGER');
    const rep = await userWithRole(t, admin, 'REP');
    owners.push(rep.id, manager.id, admin.userId);
    const team = await gql(`mutation($i: CreateTeamInput!) { createTeam(input: $i) { id } }`, { i: { name: 'West', managerId: manager.id } });
    await gql(`mutation($id: ID!, $t: ID!) { updateUser(id: $id, input: { teamId: $t }) { id } }`, { id: rep.id, t: team.createTeam.id });

    // 24 deals over every stage, three currencies, owners (and none), amounts (and none), own
    // probabilities, close times either side of local midnight and of the year's end.
    const names = Object.keys(stages);
    for (let i = 0; i < 24; i++) {
      const stage = names[i % names.length];
      const closed = stage.startsWith('Closed');
      const day = 1 + ((i * 7) % 28);
      const input: Record<string, unknown> = {
        name: `Deal ${i}`,
        stageId: stages[stage],
        ownerId: i % 4 === 3 ? null : owners[i % 3],
        probability: i % 5 === 0 && !closed ? 33 : null,
        amount: i % 6 === 5 ? null : { amount: `${(i * 137.31).toFixed(2)}`, currency: ['EUR', 'USD', 'JPY'][i % 3] },
        expectedCloseDate: i % 7 === 6 ? null : `2026-03-${String(day).padStart(2, '0')}`,
        createdAt: `2025-11-${String(day).padStart(2, '0')}T12:00:00Z`,
      };
      // 04:30 UTC is the evening before in New York: the local day differs from the UTC one.
      const k = Math.floor(i / names.length);
      if (closed) input.closedAt = k % 2 ? `2026-01-0${1 + k}T04:30:00Z` : `2025-12-${28 + k}T15:00:00Z`;
      const r = await gql(`mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id } }`, { i: input });
      deals.push(r.createOpportunity.id);
    }
    for (let i = 0; i < 12; i++) {
      const type = ['CALL', 'EMAIL', 'MEETING', 'NOTE', 'TASK'][i % 5];
      const dueAt = type === 'TASK' ? new Date(Date.now() + (i % 2 ? -1 : 1) * 86_400_000).toISOString() : null;
      await gql(`mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }`, {
        i: {
          type,
          subject: `Activity ${i}`,
          ownerId: i % 4 === 3 ? null : owners[i % 3],
          durationSeconds: type === 'CALL' ? 60 * (i + 1) : null,
          dueAt,
          status: type === 'TASK' ? 'OPEN' : 'COMPLETED',
        },
      });
    }
  });
  afterAll(() => t.close());

  it('after creates', async () => {
    await expectRollupsEqualLive();
  });

  it('after updates of every rolled-up field, deletes and restores', async () => {
    const update = (id: string, input: Record<string, unknown>) =>
      gql(`mutation($id: ID!, $i: UpdateOpportunityInput!) { updateOpportunity(id: $id, input: $i) { id } }`, { id, i: input });
    await update(deals[0], { stageId: stages['Closed Won'], closedAt: '2026-02-01T03:00:00Z' });
    await update(deals[1], { amount: { amount: '999.99', currency: 'EUR' } });
    await update(deals[2], { ownerId: owners[0], probability: 80 });
    await update(deals[3], { expectedCloseDate: '2026-03-31' });
    await update(deals[4], { stageId: stages.Prospecting });
    // A walk through the pipeline and back: history entries that left their stage, a stage entered twice.
    for (const stage of ['Qualification', 'Proposal', 'Negotiation', 'Proposal', 'Closed Lost']) await update(deals[9], { stageId: stages[stage] });
    for (const stage of ['Negotiation', 'Closed Won']) await update(deals[13], { stageId: stages[stage] });
    for (const stage of ['Qualification', 'Proposal']) await update(deals[6], { stageId: stages[stage] });
    await update(deals[5], { amount: null });
    await update(deals[6], { name: 'Renamed only' });
    await gql(`mutation($id: ID!) { deleteOpportunity(id: $id) { id } }`, { id: deals[7] });
    await gql(`mutation($id: ID!) { deleteOpportunity(id: $id) { id } }`, { id: deals[8] });
    await gql(`mutation($id: ID!) { restoreOpportunity(id: $id) { id } }`, { id: deals[8] });
    const acts = await gql(`{ activities(first: 20) { nodes { id type } } }`);
    const task = acts.activities.nodes.find((a: any) => a.type === 'TASK');
    const call = acts.activities.nodes.find((a: any) => a.type === 'CALL');
    await gql(`mutation($id: ID!) { updateActivity(id: $id, input: { status: COMPLETED }) { id } }`, { id: task.id });
    await gql(`mutation($id: ID!) { updateActivity(id: $id, input: { durationSeconds: 4321 }) { id } }`, { id: call.id });
    await gql(`mutation($id: ID!) { deleteActivity(id: $id) { id } }`, { id: acts.activities.nodes[0].id });
    await expectRollupsEqualLive();
  });

  it('after a change of the workspace time zone (the local days move)', async () => {
    const before = await gql(`{ revenue(period: DAY, from: "2025-12-31", to: "2026-01-06") { periodStart count } }`);
    await gql(`mutation { updateWorkspace(input: { timezone: "Asia/Tokyo" }) { timezone } }`);
    const after = await gql(`{ revenue(period: DAY, from: "2025-12-31", to: "2026-01-06") { periodStart count } }`);
    expect(after).not.toEqual(before);
    await expectRollupsEqualLive();
  });

  it("after the stages are reordered (each deal's furthest stage changes; the pipeline is rebuilt once, at commit)", async () => {
    const p = await gql(`{ pipelines { nodes { id stages { id name } } } }`);
    const pipeline = p.pipelines.nodes[0];
    const order = pipeline.stages.map((s: any) => s.id);
    [order[1], order[2]] = [order[2], order[1]];
    const funnel = `{ stageFunnel { stage { name } reached } }`;
    const before = await gql(funnel);
    await gql(`mutation($p: ID!, $s: [ID!]!) { reorderStages(pipelineId: $p, stageIds: $s) { id } }`, { p: pipeline.id, s: order });
    const [{ queued }] = await t.sql<{ queued: number }>(`SELECT count(*)::int AS queued FROM funnel_rebuild`);
    expect(queued).toBe(0);
    // Deal 6 went Prospecting, Qualification, Proposal: its furthest stage is now Qualification, which Proposal precedes.
    expect(await gql(funnel)).not.toEqual(before);
    await expectFunnelEqualHistory(admin.accessToken, null);
  });

  it('for what a REP may see (its own numbers)', async () => {
    const rep = await userWithRole(t, admin, 'REP');
    await gql(`mutation($id: ID!, $o: ID!) { updateOpportunity(id: $id, input: { ownerId: $o }) { id } }`, { id: deals[10], o: rep.id });
    await gql(`mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }`, {
      i: { type: 'CALL', subject: 'Rep call', ownerId: rep.id, durationSeconds: 30 },
    });
    await expectRollupsEqualLive(rep.token, rep.id);
  });

  it('after compaction, which leaves one row per key and the same answers', async () => {
    const appended = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM deal_close_rollup WHERE workspace_id = $1 AND NOT compacted`, [
      admin.workspaceId,
    ]);
    expect(appended[0].n).toBeGreaterThan(0);
    expect(await t.services.rollupCompactor.compact()).toBeGreaterThan(0);
    for (const table of ['deal_stage_rollup', 'deal_open_rollup', 'deal_close_rollup', 'activity_rollup', 'funnel_rollup']) {
      const [row] = await t.sql<{ dirty: number }>(`SELECT count(*) FILTER (WHERE NOT compacted)::int AS dirty FROM ${table} WHERE workspace_id = $1`, [
        admin.workspaceId,
      ]);
      expect({ table, dirty: row.dirty }).toEqual({ table, dirty: 0 });
    }
    const [{ keys, rows }] = await t.sql<{ keys: number; rows: number }>(
      `SELECT count(DISTINCT (pipeline_id, owner_id, currency, status, close_day))::int AS keys, count(*)::int AS rows FROM deal_close_rollup WHERE workspace_id = $1`,
      [admin.workspaceId],
    );
    expect(rows).toBe(keys);
    await expectRollupsEqualLive();
  });

  it('under concurrent writes to the same keys: every write succeeds (appending never deadlocks) and the sums stay exact', async () => {
    const results = await Promise.all(
      deals.slice(12, 24).map((id, i) =>
        t.gql(
          `mutation($id: ID!, $i: UpdateOpportunityInput!) { updateOpportunity(id: $id, input: $i) { id } }`,
          {
            id,
            i: { stageId: stages['Closed Won'], ownerId: owners[0], closedAt: '2026-01-15T12:00:00Z', amount: { amount: `${i + 1}.25`, currency: 'EUR' } },
          },
          admin.accessToken,
        ),
      ),
    );
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    await Promise.all([t.services.rollupCompactor.compact(), expectRollupsEqualLive()]);
    await expectRollupsEqualLive();
  });
});
