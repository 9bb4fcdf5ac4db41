import { codes, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

describe('duplicates and merge', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Dedupe Co');
  });
  afterAll(() => t.close());
  const gql = (q: string, v: Record<string, unknown> = {}) => t.gql(q, v, admin.accessToken);
  const account = async (input: Record<string, unknown>) =>
    (await gql('mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }', { i: input })).data.createAccount.id as string;

  it('finds likely duplicates: same domain, similar name; not unrelated records', async () => {
    const acme = await account({ name: 'Acme Corporation', domain: 'acme.com' });
    const sameDomain = await account({ name: 'ACME Inc', domain: 'ACME.com' });
    const similar = await account({ name: 'Acme Corporatoin' });
    await account({ name: 'Globex', domain: 'globex.com' });
    const r = await gql(`query($id: ID!) { duplicates(entityType: ACCOUNT, id: $id) { id score reasons record { ... on Account { name } } } }`, { id: acme });
    expect(r.errors).toBeUndefined();
    const found = r.data.duplicates;
    expect(found.map((d: { id: string }) => d.id).sort()).toEqual([sameDomain, similar].sort());
    expect(found.find((d: { id: string }) => d.id === sameDomain).reasons).toContain('same domain');
    expect(found.find((d: { id: string }) => d.id === similar).reasons).toEqual(['similar name']);
    const other = await signUp(t, 'Elsewhere');
    expect(codes(await t.gql(`query($id: ID!) { duplicates(entityType: ACCOUNT, id: $id) { id } }`, { id: acme }, other.accessToken))).toEqual(['NOT_FOUND']);
    // Phones match on their digits only.
    const phoned = await account({ name: 'Hooli', phone: '+1 (555) 010-0199' });
    const samePhone = await account({ name: 'Pied Piper', phone: '1 555 010 0199' });
    const p = await gql(`query($id: ID!) { duplicates(entityType: ACCOUNT, id: $id) { id reasons } }`, { id: phoned });
    expect(p.data.duplicates).toEqual([{ id: samePhone, reasons: ['same phone'] }]);
  });

  it('merges accounts: relations move, empty fields fill, the merged go with a link and an event', async () => {
    const survivor = await account({ name: 'Initech', domain: 'initech.com' });
    const dup1 = await account({ name: 'Initech LLC', industry: 'Software', employees: 80, customFields: {} });
    const dup2 = await account({ name: 'Initech Ltd', industry: 'Hardware', phone: '+1 555 0100' });
    const contact = (await gql(`mutation($a: ID) { createContact(input: { lastName: "Lumbergh", accountId: $a }) { id } }`, { a: dup1 })).data.createContact.id;
    const opp = (await gql(`mutation($a: ID) { createOpportunity(input: { name: "TPS", accountId: $a }) { id } }`, { a: dup2 })).data.createOpportunity.id;
    const m = await gql(
      `mutation($s: ID!, $m: [ID!]!) { mergeAccounts(survivorId: $s, mergedIds: $m) { id name domain industry employees phone contacts { id } opportunities { id } } }`,
      { s: survivor, m: [dup1, dup2] },
    );
    expect(m.errors).toBeUndefined();
    expect(m.data.mergeAccounts).toEqual({
      id: survivor,
      name: 'Initech',
      domain: 'initech.com',
      industry: 'Software',
      employees: 80,
      phone: '+1 555 0100',
      contacts: [{ id: contact }],
      opportunities: [{ id: opp }],
    });
    const gone = await gql(`query($id: ID) { account(id: $id) { deletedAt mergedInto { id } } }`, { id: dup1 });
    expect(gone.data.account.deletedAt).toBeTruthy();
    expect(gone.data.account.mergedInto.id).toBe(survivor);
    const events = await t.sql<{ type: string; entity_id: string }>(
      `SELECT type, entity_id FROM event WHERE type IN ('account.merged', 'contact.updated', 'opportunity.updated') ORDER BY id`,
    );
    expect(events).toEqual(
      expect.arrayContaining([
        { type: 'contact.updated', entity_id: contact },
        { type: 'opportunity.updated', entity_id: opp },
        { type: 'account.merged', entity_id: dup1 },
        { type: 'account.merged', entity_id: dup2 },
      ]),
    );
  });

  it('merges contacts, and refuses bad merges without writing', async () => {
    const a = (await gql('mutation { createContact(input: { lastName: "Smith", email: "s@x.test" }) { id } }')).data.createContact.id;
    const b = (await gql('mutation { createContact(input: { firstName: "Jo", lastName: "Smith", phone: "123" }) { id } }')).data.createContact.id;
    const act = (await gql(`mutation($c: ID) { createActivity(input: { type: NOTE, subject: "n", contactId: $c }) { id } }`, { c: b })).data.createActivity.id;
    const m = await gql(`mutation($s: ID!, $m: [ID!]!) { mergeContacts(survivorId: $s, mergedIds: $m) { firstName email phone } }`, { s: a, m: [b] });
    expect(m.data.mergeContacts).toEqual({ firstName: 'Jo', email: 's@x.test', phone: '123' });
    expect((await t.sql<{ contact_id: string }>('SELECT contact_id FROM activity WHERE id = $1', [act]))[0].contact_id).toBe(a);
    const before = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM event');
    expect(codes(await gql(`mutation($s: ID!) { mergeContacts(survivorId: $s, mergedIds: [$s]) { id } }`, { s: a }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(`mutation($s: ID!, $m: [ID!]!) { mergeContacts(survivorId: $s, mergedIds: $m) { id } }`, { s: a, m: [b] }))).toEqual(['CONFLICT']);
    const ten = Array.from({ length: 10 }, () => '00000000-0000-4000-8000-000000000000');
    expect(codes(await gql(`mutation($s: ID!, $m: [ID!]!) { mergeContacts(survivorId: $s, mergedIds: $m) { id } }`, { s: a, m: ten }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(await t.sql('SELECT count(*)::int AS n FROM event')).toEqual(before);
  });
});
