import { apiKey, codes, signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';

const ACCOUNT = 'id version name domain industry employees annualRevenue { amount currency } externalId customFields deletedAt owner { id }';

describe('CRM records: accounts and contacts', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Records Co');
  });
  afterAll(() => t.close());

  const create = async (input: Record<string, unknown>, token = admin.accessToken) =>
    t.gql(`mutation($i: CreateAccountInput!) { createAccount(input: $i) { ${ACCOUNT} } }`, { i: input }, token);

  it('creates an account owned by its creator, exact money in the workspace currency, with its event', async () => {
    const r = await create({ name: 'Acme', domain: 'ACME.com', employees: 120, annualRevenue: { amount: '1234567.89' }, externalId: 'erp-1' });
    expect(r.errors).toBeUndefined();
    const a = r.data.createAccount;
    expect(a).toMatchObject({
      version: 1,
      name: 'Acme',
      domain: 'acme.com',
      employees: 120,
      annualRevenue: { amount: '1234567.89', currency: 'USD' },
      externalId: 'erp-1',
      owner: { id: admin.userId },
      deletedAt: null,
    });
    const [event] = await t.sql<{ type: string; changes: { field: string; new: unknown }[] }>(`SELECT type, changes FROM event WHERE entity_id = $1`, [a.id]);
    expect(event.type).toBe('account.created');
    expect(event.changes).toContainEqual({ field: 'annualRevenue', old: null, new: { amount: '1234567.89', currency: 'USD' } });
  });

  it('gets by id and by externalId; another workspace gets NOT_FOUND', async () => {
    const a = (await create({ name: 'Globex', externalId: 'erp-2' })).data.createAccount;
    const byId = await t.gql(`query($id: ID) { account(id: $id) { name } }`, { id: a.id }, admin.accessToken);
    const byExt = await t.gql(`{ account(externalId: "erp-2") { id } }`, {}, admin.accessToken);
    expect(byId.data.account.name).toBe('Globex');
    expect(byExt.data.account.id).toBe(a.id);
    const other = await signUp(t, 'Elsewhere');
    expect(codes(await t.gql(`query($id: ID) { account(id: $id) { name } }`, { id: a.id }, other.accessToken))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(`{ account(externalId: "erp-2") { id } }`, {}, other.accessToken))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(`{ account { id } }`, {}, admin.accessToken))).toEqual(['BAD_USER_INPUT']);
  });

  it('an externalId is unique among live records: CONFLICT, nothing written', async () => {
    await create({ name: 'First', externalId: 'dup-1' });
    const before = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM account`);
    const dup = await create({ name: 'Second', externalId: 'dup-1' });
    expect(codes(dup)).toEqual(['CONFLICT']);
    expect(await t.sql(`SELECT count(*)::int AS n FROM account`)).toEqual(before);
  });

  it('updates with the changed fields in the event; a stale expectedVersion is CONFLICT and writes nothing', async () => {
    const a = (await create({ name: 'Initech', industry: 'Software' })).data.createAccount;
    const u = await t.gql(
      `mutation($id: ID!) { updateAccount(id: $id, input: { industry: "Finance", employees: 9 }, expectedVersion: 1) { version industry employees } }`,
      { id: a.id },
      admin.accessToken,
    );
    expect(u.data.updateAccount).toEqual({ version: 2, industry: 'Finance', employees: 9 });
    const [ev] = await t.sql<{ changes: unknown[] }>(`SELECT changes FROM event WHERE entity_id = $1 AND type = 'account.updated'`, [a.id]);
    expect(ev.changes).toEqual([
      { field: 'industry', old: 'Software', new: 'Finance' },
      { field: 'employees', old: null, new: 9 },
    ]);
    const stale = await t.gql(
      `mutation($id: ID!) { updateAccount(id: $id, input: { name: "Lost update" }, expectedVersion: 1) { version } }`,
      { id: a.id },
      admin.accessToken,
    );
    expect(codes(stale)).toEqual(['CONFLICT']);
    expect((await t.sql(`SELECT name, version FROM account WHERE id = $1`, [a.id]))[0]).toEqual({ name: 'Initech', version: 2 });
  });

  it('soft-deletes and restores, each with its event; lists hide deleted records unless asked', async () => {
    const a = (await create({ name: 'Soylent' })).data.createAccount;
    const d = await t.gql(`mutation($id: ID!) { deleteAccount(id: $id) { deletedAt version } }`, { id: a.id }, admin.accessToken);
    expect(d.data.deleteAccount.deletedAt).toBeTruthy();
    const live = await t.gql(`{ accounts(filter: { name: { eq: "Soylent" } }) { totalCount } }`, {}, admin.accessToken);
    const all = await t.gql(`{ accounts(filter: { name: { eq: "Soylent" } }, includeDeleted: true) { totalCount } }`, {}, admin.accessToken);
    expect([live.data.accounts.totalCount, all.data.accounts.totalCount]).toEqual([0, 1]);
    expect(codes(await t.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { name: "x" }) { id } }`, { id: a.id }, admin.accessToken))).toEqual([
      'CONFLICT',
    ]);
    const r = await t.gql(`mutation($id: ID!) { restoreAccount(id: $id) { deletedAt } }`, { id: a.id }, admin.accessToken);
    expect(r.data.restoreAccount.deletedAt).toBeNull();
    const types = (await t.sql<{ type: string }>(`SELECT type FROM event WHERE entity_id = $1 ORDER BY id`, [a.id])).map((e) => e.type);
    expect(types).toEqual(['account.created', 'account.deleted', 'account.restored']);
  });

  it('validates every input field with a message per field, and writes nothing', async () => {
    const before = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM account`);
    const r = await create({ name: '', domain: 'not a domain', employees: -1, annualRevenue: { amount: '-5', currency: 'XXXX' } });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    const fields = r.errors![0].extensions.fields!.map((f) => f.field).sort();
    expect(fields).toEqual(['annualRevenue.amount', 'annualRevenue.currency', 'domain', 'employees', 'name']);
    const money = await create({ name: 'X', annualRevenue: { amount: 12.5 } });
    expect(codes(money)).toEqual(['BAD_USER_INPUT']);
    expect(await t.sql(`SELECT count(*)::int AS n FROM account`)).toEqual(before);
  });

  it('contacts reference an account of the workspace; an unknown or foreign account is BAD_USER_INPUT', async () => {
    const a = (await create({ name: 'Contacts Inc' })).data.createAccount;
    const ok = await t.gql(
      `mutation($a: ID) { createContact(input: { firstName: "Ada", lastName: "Lovelace", email: "ADA@Example.com", accountId: $a }) { name email account { id } } }`,
      { a: a.id },
      admin.accessToken,
    );
    expect(ok.data.createContact).toEqual({ name: 'Ada Lovelace', email: 'ada@example.com', account: { id: a.id } });
    const other = await signUp(t, 'Foreign');
    const foreign = (await create({ name: 'Foreign account' }, other.accessToken)).data.createAccount;
    const bad = await t.gql(`mutation($a: ID) { createContact(input: { lastName: "X", accountId: $a }) { id } }`, { a: foreign.id }, admin.accessToken);
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0].extensions.fields).toEqual([{ field: 'accountId', message: 'no such account' }]);
    const nested = await t.gql(`{ account(id: "${a.id}") { contacts { lastName } } }`, {}, admin.accessToken);
    expect(nested.data.account.contacts).toEqual([{ lastName: 'Lovelace' }]);
  });

  describe('permissions', () => {
    it('a REP reads everything, writes what it owns or what has no owner, deletes only its own', async () => {
      const rep = await userWithRole(t, admin, 'REP');
      const adminOwned = (await create({ name: 'Admin owned' })).data.createAccount;
      const unowned = (await create({ name: 'Unowned', ownerId: null })).data.createAccount;
      expect(unowned.owner).toBeNull();
      const mine = (await create({ name: 'Rep owned' }, rep.token)).data.createAccount;
      expect(mine.owner.id).toBe(rep.id);
      const upd = (id: string) => t.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { industry: "Retail" }) { industry } }`, { id }, rep.token);
      const del = (id: string) => t.gql(`mutation($id: ID!) { deleteAccount(id: $id) { id } }`, { id }, rep.token);
      expect((await t.gql(`query($id: ID) { account(id: $id) { name } }`, { id: adminOwned.id }, rep.token)).data.account.name).toBe('Admin owned');
      expect(codes(await upd(adminOwned.id))).toEqual(['FORBIDDEN']);
      expect((await upd(unowned.id)).data.updateAccount.industry).toBe('Retail');
      expect((await upd(mine.id)).data.updateAccount.industry).toBe('Retail');
      expect(codes(await del(unowned.id))).toEqual(['FORBIDDEN']);
      expect(codes(await del(adminOwned.id))).toEqual(['FORBIDDEN']);
      expect((await del(mine.id)).errors).toBeUndefined();
      expect(codes(await create({ name: 'For someone else', ownerId: admin.userId }, rep.token))).toEqual(['FORBIDDEN']);
    });

    it('a MANAGER writes everything; READ_ONLY and read-scoped keys only read', async () => {
      const manager = await userWithRole(t, admin, 'MANAGER');
      const ro = await userWithRole(t, admin, 'READ_ONLY');
      const key = await apiKey(t, admin, ['READ']);
      const a = (await create({ name: 'Managed' })).data.createAccount;
      expect(
        (await t.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { industry: "Energy" }) { industry } }`, { id: a.id }, manager.token)).data
          .updateAccount.industry,
      ).toBe('Energy');
      expect(codes(await create({ name: 'No' }, ro.token))).toEqual(['FORBIDDEN']);
      expect(codes(await create({ name: 'No' }, key.secret))).toEqual(['FORBIDDEN']);
      expect((await t.gql(`{ accounts { totalCount } }`, {}, ro.token)).errors).toBeUndefined();
    });
  });
});
