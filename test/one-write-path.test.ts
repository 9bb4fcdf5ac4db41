import { codes, signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';

// A single create or update and a batch upsert are one write path (issue 19): for every record kind
// that has both, the same input written either way gives the same row, the same events with the same
// changes, and the same refusals.

/** Per kind: its table, its mutations, two inputs (a create and then a change), what to ignore in rows. */
const KINDS = [
  {
    kind: 'Account',
    table: 'account',
    create: { name: '  Northwind  ', domain: 'NorthWind.COM', industry: 'Retail', employees: 12, annualRevenue: { amount: '1200.50' }, phone: ' +1 555 ' },
    change: { industry: 'Energy', annualRevenue: { amount: '99', currency: 'eur' }, phone: null },
  },
  {
    kind: 'Contact',
    table: 'contact',
    create: { firstName: ' Ada ', lastName: ' Lovelace ', email: 'Ada@Example.COM', title: 'CTO' },
    change: { title: null, email: 'ada@new.example' },
  },
  {
    kind: 'Lead',
    table: 'lead',
    create: { lastName: 'Prospect', company: ' Initech ', email: 'P@Initech.test', status: 'CONTACTED' },
    change: { status: 'QUALIFIED', company: null },
  },
  {
    kind: 'Product',
    table: 'product',
    create: { name: 'Seat', description: ' Per user ', unitPrice: { amount: '10.00' } },
    change: { unitPrice: { amount: '12.5', currency: 'gbp' }, active: false },
  },
  {
    kind: 'Activity',
    table: 'activity',
    create: { type: 'TASK', subject: ' Call back ', dueAt: '2030-01-01T09:00:00Z' },
    change: { status: 'COMPLETED', outcome: ' reached ' },
  },
  {
    kind: 'Opportunity',
    table: 'opportunity',
    create: { name: ' Big deal ', amount: { amount: '5000' }, probability: 40, expectedCloseDate: '2030-06-30' },
    change: { probability: 60, amount: { amount: '6000.00' } },
  },
] as const;

/** The batch mutation's noun. */
const plural = (kind: string) => (kind === 'Activity' ? 'Activities' : kind === 'Opportunity' ? 'Opportunities' : `${kind}s`);

/** The columns that differ between two records written the same way at different times. */
const OWN = new Set(['id', 'external_id', 'created_at', 'updated_at', 'stage_entered_at', 'completed_at', 'search']);

describe('one write path: a single write is a batch of one', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'One Path');
  });
  afterAll(() => t.close());
  const gql = (q: string, v: Record<string, unknown> = {}, token = admin.accessToken) => t.gql(q, v, token);

  const row = async (table: string, id: string) => {
    const [r] = await t.sql<Record<string, unknown>>(`SELECT * FROM ${table} WHERE id = $1`, [id]);
    return Object.fromEntries(Object.entries(r).filter(([k]) => !OWN.has(k)));
  };
  const events = (id: string) =>
    t
      .sql<{ type: string; changes: { field: string }[] }>('SELECT type, changes FROM event WHERE entity_id = $1 ORDER BY id', [id])
      .then((es) =>
        es.map((e) => ({ type: e.type, changes: e.changes.filter((c) => !['externalId', 'createdAt', 'updatedAt', 'completedAt'].includes(c.field)) })),
      );

  it.each(KINDS)('$kind: created and changed alone or in a batch, the same row and the same events', async ({ kind, table, create, change }) => {
    const single = await gql(`mutation($i: Create${kind}Input!) { create${kind}(input: $i) { id } }`, { i: create });
    expect(single.errors).toBeUndefined();
    const id1 = single.data[`create${kind}`].id;
    const batch = await gql(
      `mutation($i: [Upsert${kind}Input!]!) { upsert${kind}s: upsert${plural(kind)}(inputs: $i) { results { id status errors { field message } } } }`,
      {
        i: [{ ...create, externalId: `${table}-1` }],
      },
    );
    expect(batch.errors).toBeUndefined();
    const created = batch.data[`upsert${kind}s`].results[0];
    expect(created).toMatchObject({ status: 'CREATED', errors: [] });
    const id2 = created.id;
    const same = async () => {
      const [a, b] = [await row(table, id1), await row(table, id2)];
      expect(b).toEqual(a);
      expect(await events(id2)).toEqual(await events(id1));
    };
    await same();

    const updated = await gql(`mutation($id: ID!, $i: Update${kind}Input!) { update${kind}(id: $id, input: $i) { id } }`, { id: id1, i: change });
    expect(updated.errors).toBeUndefined();
    const batchUpdate = await gql(
      `mutation($i: [Upsert${kind}Input!]!) { upsert${kind}s: upsert${plural(kind)}(inputs: $i) { results { status errors { field message } } } }`,
      { i: [{ ...change, externalId: `${table}-1` }] },
    );
    expect(batchUpdate.data[`upsert${kind}s`].results[0]).toMatchObject({ status: 'UPDATED', errors: [] });
    await same();
  });

  it('refuses alike: an unknown reference, a stale version, a deleted record, a REP writing what it does not own', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const single = await gql('mutation($i: CreateContactInput!) { createContact(input: $i) { id } }', { i: { lastName: 'X', accountId: missing } });
    expect(codes(single)).toEqual(['BAD_USER_INPUT']);
    expect(single.errors![0].extensions.fields).toEqual([{ field: 'accountId', message: 'no such account' }]);
    const batch = await gql(
      'mutation($i: [UpsertContactInput!]!) { upsertContacts(inputs: $i, matchOn: NONE) { results { status errors { field message } } } }',
      {
        i: [{ lastName: 'X', accountId: missing }],
      },
    );
    expect(batch.data.upsertContacts.results[0]).toEqual({ status: 'FAILED', errors: [{ field: 'accountId', message: 'no such account' }] });

    const acc = (await gql('mutation { createAccount(input: { name: "Versioned" }) { id version } }')).data.createAccount;
    const stale = await gql('mutation($id: ID!) { updateAccount(id: $id, input: { name: "B" }, expectedVersion: 7) { id } }', { id: acc.id });
    expect(codes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors![0].extensions.currentVersion).toBe(acc.version);
    expect(codes(await gql('mutation($id: ID!) { updateAccount(id: $id, input: { name: "B" }) { id } }', { id: missing }))).toEqual(['NOT_FOUND']);
    await gql('mutation($id: ID!) { deleteAccount(id: $id) { id } }', { id: acc.id });
    expect(codes(await gql('mutation($id: ID!) { updateAccount(id: $id, input: { name: "B" }) { id } }', { id: acc.id }))).toEqual(['CONFLICT']);

    const rep = await userWithRole(t, admin, 'REP');
    const owned = (await gql('mutation { createLead(input: { lastName: "Mine" }) { id } }')).data.createLead;
    expect(codes(await gql('mutation($id: ID!) { updateLead(id: $id, input: { company: "x" }) { id } }', { id: owned.id }, rep.token))).toEqual(['FORBIDDEN']);
    // Nothing was written by any refusal.
    expect((await t.sql<{ version: number }>('SELECT version FROM lead WHERE id = $1', [owned.id]))[0].version).toBe(1);
  });

  it('rules once for both ways in: completing in a batch is activity.completed; a pipeline alone does not move a deal within it', async () => {
    const task = (await gql('mutation { createActivity(input: { type: TASK, subject: "Ring", externalId: "T-9" }) { id status completedAt } }')).data
      .createActivity;
    expect(task).toMatchObject({ status: 'OPEN', completedAt: null });
    await gql('mutation { upsertActivities(inputs: [{ externalId: "T-9", status: COMPLETED }]) { failed } }');
    const [done] = await t.sql<{ status: string; completed_at: Date | null }>('SELECT status, completed_at FROM activity WHERE id = $1', [task.id]);
    expect(done.status).toBe('COMPLETED');
    expect(done.completed_at).toBeInstanceOf(Date);
    expect((await events(task.id)).map((e) => e.type)).toEqual(['activity.created', 'activity.completed']);
    // Reopened, it has no completion time any more.
    await gql('mutation { upsertActivities(inputs: [{ externalId: "T-9", status: OPEN }]) { failed } }');
    expect((await t.sql('SELECT completed_at FROM activity WHERE id = $1', [task.id]))[0]).toEqual({ completed_at: null });

    const pipeline = (await gql('{ pipelines { nodes { id stages { id name kind } } } }')).data.pipelines.nodes[0];
    const second = pipeline.stages.filter((s: { kind: string }) => s.kind === 'OPEN')[1];
    const deal = (await gql('mutation($s: ID) { createOpportunity(input: { name: "Stays", externalId: "D-9", stageId: $s }) { id } }', { s: second.id })).data
      .createOpportunity;
    await gql('mutation($id: ID!, $p: ID) { updateOpportunity(id: $id, input: { pipelineId: $p }) { id } }', { id: deal.id, p: pipeline.id });
    await gql('mutation($p: String) { upsertOpportunities(inputs: [{ externalId: "D-9", pipelineId: $p }]) { failed } }', { p: pipeline.id });
    expect((await t.sql('SELECT stage_id FROM opportunity WHERE id = $1', [deal.id]))[0]).toEqual({ stage_id: second.id });
    // A close time on a deal that stays open: refused by the single write, ignored by a sync's batch.
    const close = await gql('mutation($id: ID!) { updateOpportunity(id: $id, input: { closedAt: "2020-01-01T00:00:00Z" }) { id } }', { id: deal.id });
    expect(codes(close)).toEqual(['BAD_USER_INPUT']);
    const synced = await gql('mutation { upsertOpportunities(inputs: [{ externalId: "D-9", closedAt: "2020-01-01T00:00:00Z" }]) { results { status } } }');
    expect(synced.data.upsertOpportunities.results).toEqual([{ status: 'UNCHANGED' }]);
    // A createdAt in the future is refused either way.
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect(codes(await gql('mutation($c: DateTime) { createOpportunity(input: { name: "F", createdAt: $c }) { id } }', { c: future }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const futureBatch = await gql(
      'mutation($c: DateTime) { upsertOpportunities(inputs: [{ externalId: "F-1", name: "F", createdAt: $c }]) { results { status errors { field } } } }',
      {
        c: future,
      },
    );
    expect(futureBatch.data.upsertOpportunities.results).toEqual([{ status: 'FAILED', errors: [{ field: 'createdAt' }] }]);
  });
});
