import { codes, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

const UPSERT_ACCOUNTS = `mutation($i: [UpsertAccountInput!]!, $m: MatchOn, $all: Boolean) {
  upsertAccounts(inputs: $i, matchOn: $m, allOrNone: $all) { created updated unchanged failed results { index status id errors { field message } } } }`;

describe('upserts', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Sync Inc');
  });
  afterAll(() => t.close());
  const upsertAccounts = (i: unknown[], m?: string, all?: boolean) => t.gql(UPSERT_ACCOUNTS, { i, m, all }, admin.accessToken);

  it('creates, then updates only what changed, then reports UNCHANGED with no event and no new version', async () => {
    const first = await upsertAccounts([
      { externalId: 'A-1', name: 'Alpha', industry: 'Retail', annualRevenue: { amount: '100.50' } },
      { externalId: 'A-2', name: 'Beta' },
    ]);
    expect(first.errors).toBeUndefined();
    expect(first.data.upsertAccounts).toMatchObject({ created: 2, updated: 0, unchanged: 0, failed: 0 });
    const [a1, a2] = first.data.upsertAccounts.results;
    expect([a1.index, a1.status, a2.index, a2.status]).toEqual([0, 'CREATED', 1, 'CREATED']);
    const second = await upsertAccounts([
      { externalId: 'A-1', industry: 'Energy', annualRevenue: { amount: '100.5' } },
      { externalId: 'A-2', name: 'Beta' },
    ]);
    expect(second.data.upsertAccounts).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    expect(second.data.upsertAccounts.results.map((r: { id: string }) => r.id)).toEqual([a1.id, a2.id]);
    const [row] = await t.sql<{ name: string; industry: string; version: number }>('SELECT name, industry, version FROM account WHERE id = $1', [a1.id]);
    expect(row).toEqual({ name: 'Alpha', industry: 'Energy', version: 2 });
    const events = await t.sql<{ type: string; changes: unknown }>('SELECT type, changes FROM event WHERE entity_id = $1 ORDER BY id', [a1.id]);
    expect(events.map((e) => e.type)).toEqual(['account.created', 'account.updated']);
    expect(events[1].changes).toEqual([{ field: 'industry', old: 'Retail', new: 'Energy' }]);
    expect((await t.sql('SELECT version FROM account WHERE id = $1', [a2.id]))[0]).toEqual({ version: 1 });
  });

  it('fails bad inputs alone, one result each, in order; references by natural key', async () => {
    const r = await upsertAccounts([
      { externalId: 'B-1', name: 'Good', ownerEmail: admin.email },
      { externalId: 'B-2' },
      { externalId: 'B-3', name: 'Bad domain', domain: 'nope nope' },
      { externalId: 'B-1', name: 'Twice' },
      { name: 'No key' },
      { externalId: 'B-4', name: 'Ghost owner', ownerEmail: 'ghost@example.com' },
      { externalId: 'B-5', name: 'Bad custom', customFields: { nope: 1 } },
    ]);
    expect(r.errors).toBeUndefined();
    const res = r.data.upsertAccounts.results;
    expect(res.map((x: { status: string }) => x.status)).toEqual(['CREATED', 'FAILED', 'FAILED', 'FAILED', 'FAILED', 'FAILED', 'FAILED']);
    expect(res[1].errors).toEqual([{ field: 'name', message: 'is required to create' }]);
    expect(res[2].errors[0].field).toBe('domain');
    expect(res[3].errors[0].message).toMatch(/appears twice in this batch \(first at index 0\)/);
    expect(res[4].errors).toEqual([{ field: 'externalId', message: 'is required to match on EXTERNAL_ID' }]);
    expect(res[5].errors).toEqual([{ field: 'ownerEmail', message: 'no active user with email ghost@example.com' }]);
    expect(res[6].errors[0].field).toBe('customFields.nope');
    expect((await t.sql<{ owner_id: string }>(`SELECT owner_id FROM account WHERE external_id = 'B-1'`))[0].owner_id).toBe(admin.userId);
    expect(await t.sql(`SELECT external_id FROM account WHERE external_id IN ('B-2', 'B-3', 'B-4', 'B-5')`)).toEqual([]);
  });

  it('allOrNone writes nothing when one input fails', async () => {
    const before = await t.sql<{ n: number }>('SELECT (SELECT count(*) FROM account)::int + (SELECT count(*) FROM event)::int AS n');
    const r = await upsertAccounts([{ externalId: 'C-1', name: 'Would be' }, { externalId: 'C-2' }], undefined, true);
    expect(r.data.upsertAccounts).toMatchObject({ created: 0, failed: 2 });
    expect(r.data.upsertAccounts.results[1].errors[0].field).toBe('name');
    expect(await t.sql('SELECT (SELECT count(*) FROM account)::int + (SELECT count(*) FROM event)::int AS n')).toEqual(before);
  });

  it('matches on DOMAIN, ignoring case', async () => {
    const c = await upsertAccounts([{ domain: 'Delta.example', name: 'Delta' }], 'DOMAIN');
    const u = await upsertAccounts([{ domain: 'delta.EXAMPLE', employees: 12 }], 'DOMAIN');
    expect(u.data.upsertAccounts.results[0]).toMatchObject({ status: 'UPDATED', id: c.data.upsertAccounts.results[0].id });
    expect(codes(await upsertAccounts([{ externalId: 'x', name: 'x' }], 'EMAIL'))).toEqual(['BAD_USER_INPUT']);
  });

  it('matchOn NONE creates every input and matches nothing, even a record with the same domain', async () => {
    const inputs = [{ name: 'None Two', domain: 'none.test' }];
    const first = await upsertAccounts(inputs, 'NONE');
    expect(first.errors).toBeUndefined();
    expect(first.data.upsertAccounts).toMatchObject({ created: 1, updated: 0, failed: 0 });
    const again = await upsertAccounts(inputs, 'NONE');
    expect(again.data.upsertAccounts).toMatchObject({ created: 1, updated: 0, failed: 0 });
    expect(again.data.upsertAccounts.results[0].id).not.toBe(first.data.upsertAccounts.results[0].id);
    // Matching on DOMAIN still refuses an input without one.
    const refused = await upsertAccounts([{ name: 'None Two' }], 'DOMAIN');
    expect(refused.data.upsertAccounts.results[0].errors).toEqual([{ field: 'domain', message: 'is required to match on DOMAIN' }]);
    const count = await t.gql('{ accounts(filter: { name: { eq: "None Two" } }) { totalCount } }', {}, admin.accessToken);
    expect(count.data.accounts.totalCount).toBe(2);
  });

  it('refuses more than 1000 inputs as a whole', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ externalId: `M-${i}`, name: `M ${i}` }));
    const r = await upsertAccounts(many);
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(await t.sql(`SELECT 1 FROM account WHERE external_id = 'M-0'`)).toEqual([]);
  });

  it('50 concurrent upserts of one external id give one row and no error', async () => {
    const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => upsertAccounts([{ externalId: 'RACE-1', name: 'Race', employees: i }])));
    expect(runs.every((r) => !r.errors && r.data.upsertAccounts.failed === 0)).toBe(true);
    expect(runs.filter((r) => r.data.upsertAccounts.created === 1)).toHaveLength(1);
    expect(await t.sql(`SELECT count(*)::int AS n FROM account WHERE external_id = 'RACE-1'`)).toEqual([{ n: 1 }]);
  });
});

describe('upserts of every kind, with references by natural key', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Sync All');
  });
  afterAll(() => t.close());
  const gql = (q: string, v: Record<string, unknown> = {}) => t.gql(q, v, admin.accessToken);
  const batch = (kind: string, input: string, inputs: unknown[], matchOn = 'EXTERNAL_ID') =>
    gql(
      `mutation($i: [${input}!]!, $m: MatchOn) { ${kind}(inputs: $i, matchOn: $m) { created updated unchanged failed results { status id errors { field message } } } }`,
      { i: inputs, m: matchOn },
    );

  it('syncs a small ERP: products by SKU, accounts, contacts by email, deals by stage name, activities', async () => {
    const p = await batch('upsertProducts', 'UpsertProductInput', [{ sku: 'W-1', name: 'Widget', unitPrice: { amount: '10.00' } }], 'SKU');
    expect(p.data.upsertProducts.created).toBe(1);
    // Matched ignoring case; the new spelling of the SKU is a change, the same input again is not.
    const recased = await batch('upsertProducts', 'UpsertProductInput', [{ sku: 'w-1', name: 'Widget' }], 'SKU');
    expect(recased.data.upsertProducts.results[0]).toMatchObject({ status: 'UPDATED', id: p.data.upsertProducts.results[0].id });
    expect((await batch('upsertProducts', 'UpsertProductInput', [{ sku: 'w-1', name: 'Widget' }], 'SKU')).data.upsertProducts.unchanged).toBe(1);
    await batch('upsertAccounts', 'UpsertAccountInput', [{ externalId: 'ACC-1', name: 'Acme' }]);
    const c = await batch(
      'upsertContacts',
      'UpsertContactInput',
      [
        { email: 'Ann@Acme.test', lastName: 'Ann', accountExternalId: 'ACC-1', ownerEmail: admin.email },
        { email: 'x@acme.test', lastName: 'X', accountExternalId: 'NOPE' },
      ],
      'EMAIL',
    );
    expect(c.data.upsertContacts.results.map((r: { status: string }) => r.status)).toEqual(['CREATED', 'FAILED']);
    expect(c.data.upsertContacts.results[1].errors).toEqual([{ field: 'accountExternalId', message: 'no account with external_id NOPE' }]);
    const again = await batch('upsertContacts', 'UpsertContactInput', [{ email: 'ann@acme.TEST', title: 'CEO' }], 'EMAIL');
    expect(again.data.upsertContacts.results[0]).toMatchObject({ status: 'UPDATED', id: c.data.upsertContacts.results[0].id });

    const o = await batch('upsertOpportunities', 'UpsertOpportunityInput', [
      { externalId: 'OPP-1', name: 'Acme widgets', accountExternalId: 'ACC-1', amount: { amount: '1200' }, ownerEmail: admin.email },
      {
        externalId: 'OPP-2',
        name: 'Old win',
        stageName: 'closed won',
        closedAt: '2017-05-01T00:00:00Z',
        createdAt: '2017-01-01T00:00:00Z',
        amount: { amount: '99.90' },
      },
      { externalId: 'OPP-3', name: 'Bad stage', stageName: 'Nowhere' },
    ]);
    expect(o.data.upsertOpportunities.results.map((r: { status: string }) => r.status)).toEqual(['CREATED', 'CREATED', 'FAILED']);
    const read = await gql(
      '{ a: opportunity(externalId: "OPP-1") { status stage { name } account { name } } b: opportunity(externalId: "OPP-2") { status closedAt stageHistory { stage { name } } } }',
    );
    expect(read.data.a).toEqual({ status: 'OPEN', stage: { name: 'Prospecting' }, account: { name: 'Acme' } });
    expect(read.data.b).toEqual({ status: 'WON', closedAt: '2017-05-01T00:00:00.000Z', stageHistory: [{ stage: { name: 'Closed Won' } }] });
    const won = await batch('upsertOpportunities', 'UpsertOpportunityInput', [{ externalId: 'OPP-1', stageName: 'Closed Won' }]);
    expect(won.data.upsertOpportunities.updated).toBe(1);
    const oppId = won.data.upsertOpportunities.results[0].id;
    const types = (await t.sql<{ type: string }>('SELECT type FROM event WHERE entity_id = $1 ORDER BY id', [oppId])).map((e) => e.type);
    expect(types).toEqual(['opportunity.created', 'opportunity.updated', 'opportunity.stage_changed', 'opportunity.won']);
    const history = await t.sql<{ left_at: Date | null }>('SELECT left_at FROM opportunity_stage_history WHERE opportunity_id = $1 ORDER BY entered_at', [
      oppId,
    ]);
    expect(history.map((h) => h.left_at !== null)).toEqual([true, false]);

    const a = await batch('upsertActivities', 'UpsertActivityInput', [
      { externalId: 'ACT-1', type: 'CALL', subject: 'Kick-off', opportunityExternalId: 'OPP-1', accountExternalId: 'ACC-1', durationSeconds: 600 },
      { externalId: 'ACT-2', type: 'TASK', subject: 'Invoice' },
    ]);
    expect(a.data.upsertActivities.created).toBe(2);
    const acts = await gql('{ activities(orderBy: [{ field: SUBJECT }]) { nodes { subject status opportunity { name } } } }');
    expect(acts.data.activities.nodes).toEqual([
      { subject: 'Invoice', status: 'OPEN', opportunity: null },
      { subject: 'Kick-off', status: 'COMPLETED', opportunity: { name: 'Acme widgets' } },
    ]);
    const byId = await batch('upsertActivities', 'UpsertActivityInput', [
      { externalId: 'ACT-3', type: 'NOTE', subject: 'By id', opportunityId: oppId },
      { externalId: 'ACT-4', type: 'NOTE', subject: 'Bad id', opportunityId: '00000000-0000-4000-8000-000000000000' },
    ]);
    expect(byId.data.upsertActivities.results.map((r: { status: string }) => r.status)).toEqual(['CREATED', 'FAILED']);
    expect(byId.data.upsertActivities.results[1].errors).toEqual([{ field: 'opportunityId', message: 'no such opportunity' }]);
    const l = await batch(
      'upsertLeads',
      'UpsertLeadInput',
      [
        { email: 'lead@new.test', lastName: 'Lead' },
        { email: 'bad@new.test', lastName: 'B', status: 'CONVERTED' },
      ],
      'EMAIL',
    );
    expect(l.data.upsertLeads.results.map((r: { status: string }) => r.status)).toEqual(['CREATED', 'FAILED']);
  });

  it('concurrent upserts matched on a non-unique key (DOMAIN) still give one row', async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => batch('upsertAccounts', 'UpsertAccountInput', [{ domain: 'race.example', name: 'Race', employees: i }], 'DOMAIN')),
    );
    expect(runs.every((r) => !r.errors && r.data.upsertAccounts.failed === 0)).toBe(true);
    expect(await t.sql(`SELECT count(*)::int AS n FROM account WHERE domain = 'race.example'`)).toEqual([{ n: 1 }]);
  });
});
