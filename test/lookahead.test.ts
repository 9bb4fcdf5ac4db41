import { signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

/**
 * Lists fetch the relations their selection asks for in their own statement, and read only the
 * columns the document selects (partial records). Whatever path a record is reached by, its
 * fields must be what reading it alone gives.
 */
describe('look-ahead and partial records', () => {
  let t: TestApp;
  let admin: SignedUp;
  const gql = (q: string, v: Record<string, unknown> = {}) => t.gql(q, v, admin.accessToken);
  const ids: { accounts: string[]; contacts: string[] } = { accounts: [], contacts: [] };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Partial Corp');
    for (let i = 0; i < 4; i++) {
      const a = await gql(
        `mutation { createAccount(input: { name: "Acc ${i}", domain: "acc${i}.example", industry: "Retail", employees: ${10 + i}, annualRevenue: { amount: "${i}000.25" } }) { id } }`,
      );
      ids.accounts.push(a.data.createAccount.id);
      const c = await gql(
        `mutation($a: ID) { createContact(input: { firstName: "F${i}", lastName: "L${i}", email: "c${i}@acc${i}.example", accountId: $a }) { id } }`,
        { a: a.data.createAccount.id },
      );
      ids.contacts.push(c.data.createContact.id);
      await gql(
        `mutation($a: ID, $c: ID) { createOpportunity(input: { name: "Deal ${i}", accountId: $a, primaryContactId: $c, amount: { amount: "${i}5.5" } }) { id } }`,
        { a: a.data.createAccount.id, c: c.data.createContact.id },
      );
      await gql(`mutation($a: ID) { createActivity(input: { type: CALL, subject: "Call ${i}", accountId: $a, durationSeconds: ${60 * i} }) { id } }`, {
        a: a.data.createAccount.id,
      });
    }
  });
  afterAll(() => t.close());

  const ACCOUNT_ALL = 'id name domain industry employees annualRevenue { amount currency } owner { id email } createdAt updatedAt version customFields';
  async function accountAlone(id: string) {
    const r = await gql(`query($id: ID!) { account(id: $id) { ${ACCOUNT_ALL} } }`, { id });
    expect(r.errors).toBeUndefined();
    return r.data.account;
  }

  it('two lists selecting different fields of the same related type both get them', async () => {
    const r = await gql(`{
      opportunities { nodes { id account { id name } } }
      contacts { nodes { id name account { id domain employees annualRevenue { amount } } } }
    }`);
    expect(r.errors).toBeUndefined();
    for (const o of r.data.opportunities.nodes) {
      const alone = await accountAlone(o.account.id);
      expect(o.account).toEqual({ id: alone.id, name: alone.name });
    }
    for (const c of r.data.contacts.nodes) {
      const alone = await accountAlone(c.account.id);
      expect(c.account).toEqual({ id: alone.id, domain: alone.domain, employees: alone.employees, annualRevenue: { amount: alone.annualRevenue.amount } });
      expect(c.name).toMatch(/^F\d L\d$/);
    }
  });

  it('fields asked through fragments and aliases are read too', async () => {
    const r = await gql(`
      fragment Acc on Account { industry owner { email } }
      query {
        deals: opportunities(orderBy: [{ field: NAME }]) { edges { node { ... on Opportunity { amount { amount currency } } acc: account { ...Acc createdAt } contact: primaryContact { email } } } }
        accounts(orderBy: [{ field: NAME }]) { nodes { ...Acc activities(first: 1) { subject durationSeconds } } }
      }`);
    expect(r.errors).toBeUndefined();
    const deals = r.data.deals.edges.map((e: { node: unknown }) => e.node);
    expect(deals.map((d: { amount: { amount: string } }) => d.amount.amount)).toEqual(['5.50', '15.50', '25.50', '35.50']);
    for (const [i, d] of deals.entries()) {
      const alone = await accountAlone(ids.accounts[i]);
      expect(d.acc).toEqual({ industry: 'Retail', owner: { email: alone.owner.email }, createdAt: alone.createdAt });
      expect(d.contact).toEqual({ email: `c${i}@acc${i}.example` });
    }
    expect(r.data.accounts.nodes.map((a: { activities: unknown[] }) => a.activities)).toEqual(
      [0, 1, 2, 3].map((i) => [{ subject: `Call ${i}`, durationSeconds: 60 * i }]),
    );
  });

  it('a selection through an interface reads whole records', async () => {
    const r = await gql(`{ accounts(orderBy: [{ field: NAME }]) { nodes { ... on Record { version updatedAt } ... on Account { name } } } }`);
    expect(r.errors).toBeUndefined();
    for (const [i, a] of r.data.accounts.nodes.entries()) {
      const alone = await accountAlone(ids.accounts[i]);
      expect(a).toEqual({ version: alone.version, updatedAt: alone.updatedAt, name: alone.name });
    }
  });
});
