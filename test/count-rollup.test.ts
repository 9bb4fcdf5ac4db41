import { signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';

// `totalCount` of opportunities whose filter names only the deal rollup's keys (pipeline, stage,
// owner, currency, and relations through them) is summed from deal_stage_rollup (issue 20): exact
// whatever the shape, and counted from the table for anything else.

describe('opportunity counts from the rollup', () => {
  let t: TestApp;
  let admin: SignedUp;
  let stages: Record<string, string>;
  let pipelineId: string;
  let repId: string;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Counting Co');
    const p = (await t.gql('{ pipelines { nodes { id stages { id name } } } }', {}, admin.accessToken)).data.pipelines.nodes[0];
    pipelineId = p.id;
    stages = Object.fromEntries(p.stages.map((s: { name: string; id: string }) => [s.name, s.id]));
    repId = (await userWithRole(t, admin, 'REP')).id;
    const names = Object.keys(stages);
    // 40 deals over every stage, three owners (one none), two currencies; 5 of them deleted.
    for (let i = 0; i < 40; i++) {
      const owner = i % 3 === 0 ? repId : i % 3 === 1 ? null : undefined;
      const r = await t.gql(
        'mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id } }',
        { i: { name: `Deal ${i}`, stageId: stages[names[i % names.length]], ownerId: owner, amount: { amount: '10', currency: i % 4 === 0 ? 'EUR' : 'USD' } } },
        admin.accessToken,
      );
      expect(r.errors).toBeUndefined();
      if (i % 8 === 0) await t.gql('mutation($id: ID!) { deleteOpportunity(id: $id) { id } }', { id: r.data.createOpportunity.id }, admin.accessToken);
    }
  });
  afterAll(() => t.close());

  const count = async (filter: unknown, includeDeleted = false) => {
    const r = await t.gql(
      'query($f: OpportunityFilter, $d: Boolean) { opportunities(filter: $f, includeDeleted: $d) { totalCount } }',
      { f: filter, d: includeDeleted },
      admin.accessToken,
    );
    expect(r.errors).toBeUndefined();
    return r.data.opportunities.totalCount as number;
  };
  const direct = async (where: string, params: unknown[] = []) =>
    (
      await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM opportunity o WHERE o.workspace_id = $1 AND o.deleted_at IS NULL AND (${where})`, [
        admin.workspaceId,
        ...params,
      ])
    )[0].n;

  it('is exact for every shape of filter on the keys, and for the others', async () => {
    const won = stages['Closed Won'];
    const first = Object.values(stages)[0];
    const shapes: [string, unknown, string, unknown[]][] = [
      ['none', undefined, 'TRUE', []],
      ['stage eq', { stageId: { eq: won } }, 'o.stage_id = $2', [won]],
      ['stage in', { stageId: { in: [won, first] } }, 'o.stage_id IN ($2, $3)', [won, first]],
      ['stage ne', { stageId: { ne: won } }, 'o.stage_id <> $2', [won]],
      ['no owner', { ownerId: { isNull: true } }, 'o.owner_id IS NULL', []],
      ['owner eq', { ownerId: { eq: repId } }, 'o.owner_id = $2', [repId]],
      ['currency', { currency: { eq: 'EUR' } }, "o.currency = 'EUR'", []],
      ['pipeline and stage', { pipelineId: { eq: pipelineId }, stageId: { ne: first } }, 'o.pipeline_id = $2 AND o.stage_id <> $3', [pipelineId, first]],
      ['or', { or: [{ stageId: { eq: won } }, { ownerId: { eq: repId } }] }, 'o.stage_id = $2 OR o.owner_id = $3', [won, repId]],
      ['not', { not: { currency: { eq: 'USD' } } }, "o.currency <> 'USD'", []],
      ['through the stage', { stage: { kind: { eq: 'WON' } } }, "o.stage_id IN (SELECT id FROM stage WHERE kind = 'WON')", []],
      ['through the owner', { owner: { role: { eq: 'REP' } } }, "o.owner_id IN (SELECT id FROM app_user WHERE role = 'REP')", []],
      ['not a key', { name: { startsWith: 'Deal 1' } }, "o.name LIKE 'Deal 1%'", []],
      ['a key and not a key', { stageId: { eq: won }, amount: { gte: '5' } }, 'o.stage_id = $2 AND o.amount_value >= 5', [won]],
    ];
    for (const [name, filter, where, params] of shapes) expect({ name, n: await count(filter) }).toEqual({ name, n: await direct(where, params) });
    expect(await count(undefined)).toBe(35);
  });

  it('reads the rollup for key filters only (a delta planted in it shows), and the table otherwise', async () => {
    const won = stages['Closed Won'];
    const before = {
      keyed: await count({ stageId: { eq: won } }),
      other: await count({ name: { startsWith: 'Deal' } }),
      deleted: await count(undefined, true),
    };
    await t.sql(
      `INSERT INTO deal_stage_rollup (workspace_id, pipeline_id, stage_id, owner_id, currency, n, n_amount, amount, amount_unweighted, weighted_own)
       VALUES ($1, $2, $3, NULL, 'USD', 1000, 0, 0, 0, 0)`,
      [admin.workspaceId, pipelineId, won],
    );
    try {
      expect(await count({ stageId: { eq: won } })).toBe(before.keyed + 1000);
      expect(await count({ name: { startsWith: 'Deal' } })).toBe(before.other);
      // Deleted rows are not in the rollup: with includeDeleted the table is counted.
      expect(await count(undefined, true)).toBe(before.deleted);
    } finally {
      await t.sql('DELETE FROM deal_stage_rollup WHERE workspace_id = $1 AND n = 1000', [admin.workspaceId]);
    }
    expect(await count({ stageId: { eq: won } })).toBe(before.keyed);
  });
});
