import { codes, signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';

const OPP =
  'id version status closedAt amount { amount currency } stage { id name kind probability } pipeline { id name } stageHistory { stage { name } enteredAt leftAt }';

describe('pipelines, opportunities, line items, lead conversion', () => {
  let t: TestApp;
  let admin: SignedUp;
  let stages: Record<string, string>;
  let pipelineId: string;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Deals Ltd');
    const p = await t.gql('{ pipelines { nodes { id name isDefault stages { id name probability kind forecastCategory position } } } }', {}, admin.accessToken);
    pipelineId = p.data.pipelines.nodes[0].id;
    stages = Object.fromEntries(p.data.pipelines.nodes[0].stages.map((s: { name: string; id: string }) => [s.name, s.id]));
  });
  afterAll(() => t.close());

  const gql = (q: string, v: Record<string, unknown> = {}) => t.gql(q, v, admin.accessToken);
  const createOpp = (input: Record<string, unknown>) => gql(`mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { ${OPP} } }`, { i: input });
  const updateOpp = (id: string, input: Record<string, unknown>) =>
    gql(`mutation($id: ID!, $i: UpdateOpportunityInput!) { updateOpportunity(id: $id, input: $i) { ${OPP} } }`, { id, i: input });

  it('gives every new workspace the default pipeline', async () => {
    const p = await gql('{ pipelines { nodes { isDefault name stages { name probability kind forecastCategory position } } } }');
    expect(p.data.pipelines.nodes).toHaveLength(1);
    expect(p.data.pipelines.nodes[0].isDefault).toBe(true);
    expect(p.data.pipelines.nodes[0].stages.map((s: Record<string, unknown>) => [s.name, s.probability, s.kind, s.forecastCategory, s.position])).toEqual([
      ['Prospecting', 10, 'OPEN', 'PIPELINE', 0],
      ['Qualification', 25, 'OPEN', 'PIPELINE', 1],
      ['Proposal', 50, 'OPEN', 'BEST_CASE', 2],
      ['Negotiation', 75, 'OPEN', 'COMMIT', 3],
      ['Closed Won', 100, 'WON', 'CLOSED', 4],
      ['Closed Lost', 0, 'LOST', 'OMITTED', 5],
    ]);
  });

  it('puts a new opportunity in the first stage of the default pipeline, and keeps every stage change in the history', async () => {
    const o = (await createOpp({ name: 'Big deal', amount: { amount: '50000.00', currency: 'EUR' } })).data.createOpportunity;
    expect(o).toMatchObject({
      status: 'OPEN',
      closedAt: null,
      amount: { amount: '50000.00', currency: 'EUR' },
      stage: { name: 'Prospecting' },
      pipeline: { id: pipelineId },
    });
    const moved = (await updateOpp(o.id, { stageId: stages.Proposal })).data.updateOpportunity;
    expect(moved.stage.name).toBe('Proposal');
    const won = (await updateOpp(o.id, { stageId: stages['Closed Won'] })).data.updateOpportunity;
    expect(won.status).toBe('WON');
    expect(won.closedAt).toBeTruthy();
    expect(won.stageHistory.map((h: { stage: { name: string } }) => h.stage.name)).toEqual(['Prospecting', 'Proposal', 'Closed Won']);
    expect(won.stageHistory.slice(0, 2).every((h: { leftAt: string | null }) => h.leftAt)).toBe(true);
    expect(won.stageHistory[2].leftAt).toBeNull();
    const events = (await t.sql<{ type: string }>('SELECT type FROM event WHERE entity_id = $1 ORDER BY id', [o.id])).map((e) => e.type);
    expect(events).toEqual([
      'opportunity.created',
      'opportunity.updated',
      'opportunity.stage_changed',
      'opportunity.updated',
      'opportunity.stage_changed',
      'opportunity.won',
    ]);
    const reopened = (await updateOpp(o.id, { stageId: stages.Negotiation })).data.updateOpportunity;
    expect(reopened).toMatchObject({ status: 'OPEN', closedAt: null });
    const lost = (await updateOpp(o.id, { stageId: stages['Closed Lost'] })).data.updateOpportunity;
    expect(lost.status).toBe('LOST');
    expect((await t.sql(`SELECT 1 FROM event WHERE entity_id = $1 AND type = 'opportunity.lost'`, [o.id])).length).toBe(1);
  });

  it('keeps historical dates of an imported deal (ADMIN only) and rejects a stage of another pipeline', async () => {
    const o = (await createOpp({ name: 'Old deal', stageId: stages['Closed Won'], createdAt: '2017-01-03T10:00:00Z', closedAt: '2017-03-01T12:00:00Z' })).data
      .createOpportunity;
    expect(o.closedAt).toBe('2017-03-01T12:00:00.000Z');
    const [row] = await t.sql<{ created_at: Date }>('SELECT created_at FROM opportunity WHERE id = $1', [o.id]);
    expect(row.created_at.toISOString()).toBe('2017-01-03T10:00:00.000Z');
    const rep = await userWithRole(t, admin, 'REP');
    const repTry = await t.gql('mutation { createOpportunity(input: { name: "x", createdAt: "2017-01-01T00:00:00Z" }) { id } }', {}, rep.token);
    expect(codes(repTry)).toEqual(['FORBIDDEN']);
    const other = await gql(
      'mutation { createPipeline(input: { name: "Renewals", stages: [{ name: "Open", probability: 50 }, { name: "Renewed", probability: 100, kind: WON }] }) { id stages { id name forecastCategory } } }',
    );
    expect(other.errors).toBeUndefined();
    const bad = await createOpp({ name: 'Mixed', pipelineId, stageId: other.data.createPipeline.stages[0].id });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
  });

  it('a Date is any calendar day of the years 0001 to 9999: the first century too, and no year 0', async () => {
    for (const day of ['0001-01-01', '0050-06-15', '0096-02-29', '9999-12-31']) {
      const r = await gql(`mutation($d: Date) { createOpportunity(input: { name: "Dated", expectedCloseDate: $d }) { expectedCloseDate } }`, { d: day });
      expect({ day, got: r.data?.createOpportunity.expectedCloseDate }).toEqual({ day, got: day });
    }
    for (const day of ['0000-06-15', '0050-02-29', '2026-02-30']) {
      expect({
        day,
        codes: codes(await gql(`mutation($d: Date) { createOpportunity(input: { name: "Dated", expectedCloseDate: $d }) { id } }`, { d: day })),
      }).toEqual({ day, codes: ['BAD_USER_INPUT'] });
    }
  });

  it('line items: quantity x unit price - discount, and the amount is their sum', async () => {
    const product = (
      await gql('mutation { createProduct(input: { name: "Seat", sku: "SEAT-1", unitPrice: { amount: "120.50" } }) { id unitPrice { amount currency } } }')
    ).data.createProduct;
    expect(product.unitPrice).toEqual({ amount: '120.50', currency: 'USD' });
    const o = (await createOpp({ name: 'Seats', amount: { amount: '1.00' } })).data.createOpportunity;
    const l1 = await gql(
      `mutation($o: ID!, $p: ID) { addLineItem(opportunityId: $o, input: { productId: $p, quantity: "3", discount: "10.50" }) { id name quantity total { amount } product { id } } }`,
      { o: o.id, p: product.id },
    );
    expect(l1.data.addLineItem).toMatchObject({ name: 'Seat', quantity: '3.0000', total: { amount: '351.00' }, product: { id: product.id } });
    await gql(`mutation($o: ID!) { addLineItem(opportunityId: $o, input: { name: "Setup", quantity: "1", unitPrice: "99.99" }) { id } }`, { o: o.id });
    const after = await gql(`query($id: ID) { opportunity(id: $id) { amount { amount } lineItems { name total { amount } } } }`, { id: o.id });
    expect(after.data.opportunity.amount.amount).toBe('450.99');
    const manual = await updateOpp(o.id, { amount: { amount: '5.00' } });
    expect(codes(manual)).toEqual(['BAD_USER_INPUT']);
    const tooMuch = await gql(`mutation($id: ID!) { updateLineItem(id: $id, input: { discount: "100000" }) { id } }`, { id: l1.data.addLineItem.id });
    expect(codes(tooMuch)).toEqual(['BAD_USER_INPUT']);
    const removed = await gql(`mutation($id: ID!) { removeLineItem(id: $id) { amount { amount } } }`, { id: l1.data.addLineItem.id });
    expect(removed.data.removeLineItem.amount.amount).toBe('99.99');
    const types = (await t.sql<{ type: string }>(`SELECT type FROM event WHERE entity_type = 'line_item' ORDER BY id`)).map((e) => e.type);
    expect(types).toEqual(['line_item.created', 'line_item.created', 'line_item.removed']);
  });

  it('deletes a stage only when empty or with a target stage that receives its deals', async () => {
    const p = (
      await gql(
        'mutation { createPipeline(input: { name: "Partners", stages: [{ name: "A", probability: 10 }, { name: "B", probability: 20 }, { name: "Done", probability: 100, kind: WON }] }) { id stages { id name } } }',
      )
    ).data.createPipeline;
    const [a, b] = p.stages;
    const o = (await createOpp({ name: 'Partner deal', stageId: a.id })).data.createOpportunity;
    expect(codes(await gql(`mutation($id: ID!) { deleteStage(id: $id) { id } }`, { id: a.id }))).toEqual(['CONFLICT']);
    const del = await gql(`mutation($id: ID!, $t: ID) { deleteStage(id: $id, targetStageId: $t) { deletedAt } }`, { id: a.id, t: b.id });
    expect(del.data.deleteStage.deletedAt).toBeTruthy();
    const moved = await gql(`query($id: ID) { opportunity(id: $id) { stage { id } } }`, { id: o.id });
    expect(moved.data.opportunity.stage.id).toBe(b.id);
    const left = await gql(`query($id: ID!) { pipeline(id: $id) { stages { name position } } }`, { id: p.id });
    expect(left.data.pipeline.stages).toEqual([
      { name: 'B', position: 0 },
      { name: 'Done', position: 1 },
    ]);
    const reorder = await gql(`mutation($p: ID!, $ids: [ID!]!) { reorderStages(pipelineId: $p, stageIds: $ids) { name position } }`, {
      p: p.id,
      ids: [p.stages[2].id, b.id],
    });
    expect(reorder.data.reorderStages).toEqual([
      { name: 'Done', position: 0 },
      { name: 'B', position: 1 },
    ]);
    expect(codes(await gql(`mutation($id: ID!) { deletePipeline(id: $id) { id } }`, { id: pipelineId }))).toEqual(['CONFLICT']);
  });

  it('converts a lead once: account, contact, opportunity, its activities follow, lead.converted', async () => {
    const lead = (
      await gql(
        'mutation { createLead(input: { firstName: "Grace", lastName: "Hopper", email: "grace@navy.mil", company: "US Navy", source: WEB }) { id status } }',
      )
    ).data.createLead;
    expect(lead.status).toBe('NEW');
    const act = (
      await gql(`mutation($l: ID) { createActivity(input: { type: CALL, subject: "Intro call", leadId: $l, durationSeconds: 300 }) { id status } }`, {
        l: lead.id,
      })
    ).data.createActivity;
    expect(act.status).toBe('COMPLETED');
    const conv = await gql(
      `mutation($id: ID!) { convertLead(id: $id, input: { opportunity: { name: "Navy deal", amount: { amount: "1000" } } }) {
      lead { status convertedAt } account { id name } contact { id name email account { id } } opportunity { id name primaryContact { id } account { id } } } }`,
      { id: lead.id },
    );
    expect(conv.errors).toBeUndefined();
    const c = conv.data.convertLead;
    expect(c.lead.status).toBe('CONVERTED');
    expect(c.account.name).toBe('US Navy');
    expect(c.contact).toMatchObject({ name: 'Grace Hopper', email: 'grace@navy.mil', account: { id: c.account.id } });
    expect(c.opportunity).toMatchObject({ name: 'Navy deal', primaryContact: { id: c.contact.id }, account: { id: c.account.id } });
    const moved = (
      await t.sql<{ contact_id: string; account_id: string; opportunity_id: string }>(
        'SELECT contact_id, account_id, opportunity_id FROM activity WHERE id = $1',
        [act.id],
      )
    )[0];
    expect(moved).toEqual({ contact_id: c.contact.id, account_id: c.account.id, opportunity_id: c.opportunity.id });
    expect((await t.sql(`SELECT 1 FROM event WHERE entity_id = $1 AND type = 'lead.converted'`, [lead.id])).length).toBe(1);
    expect(codes(await gql(`mutation($id: ID!) { convertLead(id: $id) { lead { id } } }`, { id: lead.id }))).toEqual(['CONFLICT']);
  });

  it('a failed conversion writes nothing (one transaction)', async () => {
    const lead = (await gql('mutation { createLead(input: { lastName: "Nobody", company: "Void" }) { id } }')).data.createLead;
    const before = await t.sql<{ a: number; c: number }>('SELECT (SELECT count(*) FROM account)::int AS a, (SELECT count(*) FROM contact)::int AS c');
    const bad = await gql(
      `mutation($id: ID!) { convertLead(id: $id, input: { opportunity: { name: "x", amount: { amount: "1", currency: "EUR" } }, accountId: "00000000-0000-4000-8000-000000000000" }) { lead { id } } }`,
      { id: lead.id },
    );
    expect(codes(bad)).toEqual(['NOT_FOUND']);
    expect(await t.sql('SELECT (SELECT count(*) FROM account)::int AS a, (SELECT count(*) FROM contact)::int AS c')).toEqual(before);
    expect((await t.sql<{ status: string }>('SELECT status FROM lead WHERE id = $1', [lead.id]))[0].status).toBe('NEW');
  });

  it('completes a task once', async () => {
    const task = (
      await gql('mutation { createActivity(input: { type: TASK, subject: "Send quote", dueAt: "2030-01-01T09:00:00Z" }) { id status completedAt } }')
    ).data.createActivity;
    expect(task).toMatchObject({ status: 'OPEN', completedAt: null });
    const done = await gql(`mutation($id: ID!) { completeTask(id: $id) { status completedAt } }`, { id: task.id });
    expect(done.data.completeTask.status).toBe('COMPLETED');
    expect(codes(await gql(`mutation($id: ID!) { completeTask(id: $id) { status } }`, { id: task.id }))).toEqual(['CONFLICT']);
    expect((await t.sql(`SELECT 1 FROM event WHERE entity_id = $1 AND type = 'activity.completed'`, [task.id])).length).toBe(1);
  });
});
