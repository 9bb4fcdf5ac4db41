import { Client } from 'pg';
import { codes, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

describe('custom fields, search, timeline, and no N+1', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    // Without the background workers and the rate-limit writes, whose statements would count too: only the request's are measured.
    t = await startTestApp({ WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false', RATE_LIMIT_REFILL_PER_SECOND: '0' });
    admin = await signUp(t, 'Custom Corp');
  });
  afterAll(() => t.close());
  const gql = (q: string, v: Record<string, unknown> = {}) => t.gql(q, v, admin.accessToken);

  describe('custom fields', () => {
    beforeAll(async () => {
      for (const input of [
        { entityType: 'ACCOUNT', key: 'tier', label: 'Tier', type: 'SELECT', options: ['Gold', 'Silver', 'Bronze'] },
        { entityType: 'ACCOUNT', key: 'seats', label: 'Seats', type: 'NUMBER' },
        { entityType: 'ACCOUNT', key: 'renewal', label: 'Renewal date', type: 'DATE' },
        { entityType: 'ACCOUNT', key: 'regions', label: 'Regions', type: 'MULTI_SELECT', options: ['EMEA', 'APAC', 'AMER'] },
      ]) {
        const r = await gql('mutation($i: DefineCustomFieldInput!) { defineCustomField(input: $i) { id key } }', { i: input });
        expect(r.errors).toBeUndefined();
      }
    });

    const createAccount = (name: string, customFields: Record<string, unknown>) =>
      gql('mutation($i: CreateAccountInput!) { createAccount(input: $i) { id customFields } }', { i: { name, customFields } });

    it('validates values on write, naming the field, and writes nothing when one is wrong', async () => {
      const ok = await createAccount('Gold One', { tier: 'Gold', seats: 40, renewal: '2027-03-01', regions: ['EMEA', 'APAC'] });
      expect(ok.data.createAccount.customFields).toEqual({ tier: 'Gold', seats: 40, renewal: '2027-03-01', regions: ['EMEA', 'APAC'] });
      const bad = await createAccount('Bad', { tier: 'Platinum', seats: 'many', renewal: '2027-02-30', unknown: 1 });
      expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
      expect(bad.errors![0].extensions.fields!.map((f) => f.field).sort()).toEqual([
        'customFields.renewal',
        'customFields.seats',
        'customFields.tier',
        'customFields.unknown',
      ]);
      expect(await t.sql(`SELECT 1 FROM account WHERE name = 'Bad'`)).toEqual([]);
    });

    it('enforces required fields from then on, and removes a value with null', async () => {
      const def = await gql('mutation { defineCustomField(input: { entityType: CONTACT, key: "nps", label: "NPS", type: NUMBER, required: true }) { id } }');
      const missing = await gql('mutation { createContact(input: { lastName: "Nope" }) { id } }');
      expect(codes(missing)).toEqual(['BAD_USER_INPUT']);
      expect(missing.errors![0].extensions.fields).toEqual([{ field: 'customFields.nps', message: 'NPS is required' }]);
      const c = await gql('mutation { createContact(input: { lastName: "Yes", customFields: { nps: 9 } }) { id } }');
      expect(c.errors).toBeUndefined();
      await gql(`mutation($id: ID!) { removeCustomField(id: $id) { id } }`, { id: def.data.defineCustomField.id });
      const [row] = await t.sql<{ custom_fields: object }>('SELECT custom_fields FROM contact WHERE id = $1', [c.data.createContact.id]);
      expect(row.custom_fields).toEqual({});
    });

    it('filters and sorts by custom fields like built-in fields', async () => {
      await createAccount('Silver Two', { tier: 'Silver', seats: 10, renewal: '2026-12-01', regions: ['AMER'] });
      await createAccount('Bronze Three', { tier: 'Bronze', seats: 250, regions: [] });
      const names = async (filter: unknown, orderBy?: unknown) =>
        (
          await gql('query($f: AccountFilter, $o: [AccountOrder!]) { accounts(filter: $f, orderBy: $o) { nodes { name } } }', { f: filter, o: orderBy })
        ).data.accounts.nodes.map((n: { name: string }) => n.name);
      expect(await names({ customFields: [{ key: 'seats', gte: 40 }] }, [{ customField: 'seats', direction: 'DESC' }])).toEqual(['Bronze Three', 'Gold One']);
      expect(await names({ customFields: [{ key: 'tier', in: ['Gold', 'Silver'] }] }, [{ customField: 'tier' }])).toEqual(['Gold One', 'Silver Two']);
      expect(await names({ customFields: [{ key: 'renewal', lt: '2027-01-01' }] })).toEqual(['Silver Two']);
      expect(await names({ customFields: [{ key: 'regions', eq: 'APAC' }] })).toEqual(['Gold One']);
      expect(await names({ customFields: [{ key: 'renewal', isNull: true }] })).toEqual(['Bronze Three']);
      const wrongType = await gql('{ accounts(filter: { customFields: [{ key: "seats", gt: "lots" }] }) { totalCount } }');
      expect(codes(wrongType)).toEqual(['BAD_USER_INPUT']);
      const unknown = await gql('{ accounts(filter: { customFields: [{ key: "nope", eq: 1 }] }) { totalCount } }');
      expect(codes(unknown)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('search', () => {
    beforeAll(async () => {
      await gql('mutation { createAccount(input: { name: "Société Générale", domain: "societegenerale.fr" }) { id } }');
      await gql('mutation { createAccount(input: { name: "Umbrella Corporation", domain: "umbrella.com" }) { id } }');
      await gql('mutation { createContact(input: { firstName: "Jürgen", lastName: "Klopp", email: "jurgen@lfc.co.uk" }) { id } }');
      await gql('mutation { createLead(input: { lastName: "Wayne", company: "Wayne Enterprises", email: "bruce@wayne.com" }) { id } }');
      await gql('mutation { createOpportunity(input: { name: "Umbrella renewal" }) { id } }');
    });
    const hits = async (query: string, types?: string[]) =>
      (
        await gql(
          'query($q: String!, $t: [SearchableType!]) { search(query: $q, types: $t) { type title score record { __typename ... on Account { domain } } } }',
          { q: query, t: types },
        )
      ).data.search;

    it('ignores case and accents', async () => {
      expect((await hits('societe generale'))[0]).toMatchObject({
        type: 'ACCOUNT',
        title: 'Société Générale',
        record: { __typename: 'Account', domain: 'societegenerale.fr' },
      });
      expect((await hits('JURGEN'))[0]).toMatchObject({ type: 'CONTACT', title: 'Jürgen Klopp' });
    });

    it('tolerates a typo in a name, and finds emails and domains', async () => {
      // Both records named Umbrella rank above anything that only mentions it elsewhere.
      expect(
        (await hits('Umbrela'))
          .slice(0, 2)
          .map((h: { title: string }) => h.title)
          .sort(),
      ).toEqual(['Umbrella Corporation', 'Umbrella renewal']);
      expect((await hits('bruce@wayne'))[0]).toMatchObject({ type: 'LEAD', title: 'Wayne' });
      expect((await hits('umbrella.com'))[0].title).toBe('Umbrella Corporation');
    });

    it('matches every word of a longer query, each with a typo allowed; quotes are only text', async () => {
      expect((await hits('umbrella renewal')).map((h: { title: string }) => h.title)).toEqual(['Umbrella renewal']);
      expect((await hits('umbrela renewl')).map((h: { title: string }) => h.title)).toEqual(['Umbrella renewal']);
      expect((await hits('wayne enterprises'))[0]).toMatchObject({ type: 'LEAD', title: 'Wayne' });
      expect(await hits('umbrella zzqqxx')).toEqual([]);
      // Words are put into the statement as quoted literals: a quote or a backslash is part of a word, never SQL.
      expect(await hits("o'brien umbrella\\'; DROP TABLE account; --")).toEqual([]);
      expect((await hits('umbrella')).length).toBeGreaterThan(0);
    });

    it('ranks the better match first and restricts to the types asked for', async () => {
      const all = await hits('umbrella');
      expect(all.map((h: { type: string }) => h.type).sort()).toEqual(['ACCOUNT', 'OPPORTUNITY']);
      for (let i = 1; i < all.length; i++) expect(all[i - 1].score).toBeGreaterThanOrEqual(all[i].score);
      expect((await hits('umbrella', ['OPPORTUNITY'])).map((h: { title: string }) => h.title)).toEqual(['Umbrella renewal']);
      expect(await hits('zzqqxx')).toEqual([]);
      // The search function reads past row-level security: it must keep to the caller's workspace itself.
      const other = await signUp(t, 'Search elsewhere');
      await t.gql('mutation { createAccount(input: { name: "Umbrella Elsewhere" }) { id } }', {}, other.accessToken);
      const mine = await hits('umbrella');
      expect(mine.map((h: { title: string }) => h.title)).not.toContain('Umbrella Elsewhere');
      const theirs = await t.gql('{ search(query: "umbrella") { title } }', {}, other.accessToken);
      expect(theirs.data.search).toEqual([{ title: 'Umbrella Elsewhere' }]);
      expect(codes(await gql('{ search(query: "a") { id } }'))).toEqual(['BAD_USER_INPUT']);
    });
  });

  it("timeline: a record's events and its activities', newest first; an account's includes its contacts' and deals'", async () => {
    const acc = (await gql('mutation { createAccount(input: { name: "Timeline Inc" }) { id } }')).data.createAccount.id;
    const contact = (await gql(`mutation($a: ID) { createContact(input: { lastName: "Tim", accountId: $a }) { id } }`, { a: acc })).data.createContact.id;
    const opp = (await gql(`mutation($a: ID) { createOpportunity(input: { name: "Timeline deal", accountId: $a }) { id } }`, { a: acc })).data.createOpportunity
      .id;
    const a1 = (await gql(`mutation($c: ID) { createActivity(input: { type: EMAIL, subject: "Hello", contactId: $c }) { id } }`, { c: contact })).data
      .createActivity.id;
    const a2 = (await gql(`mutation($o: ID) { createActivity(input: { type: MEETING, subject: "Demo", opportunityId: $o }) { id } }`, { o: opp })).data
      .createActivity.id;
    await gql(`mutation($id: ID!) { updateAccount(id: $id, input: { industry: "Media" }) { id } }`, { id: acc });
    const tl = await gql(
      `query($id: ID!) { timeline(recordId: $id, first: 2) { edges { cursor node { id type entityId actor { type id } changes { field new } } } pageInfo { hasNextPage endCursor } } }`,
      { id: acc },
    );
    const page1 = tl.data.timeline;
    expect(page1.edges.map((e: { node: { type: string } }) => e.node.type)).toEqual(['account.updated', 'activity.created']);
    expect(page1.edges[0].node.actor).toEqual({ type: 'USER', id: admin.userId });
    expect(page1.edges[0].node.changes).toEqual([{ field: 'industry', new: 'Media' }]);
    const rest = await gql(`query($id: ID!, $after: String) { timeline(recordId: $id, after: $after) { nodes { type entityId } pageInfo { hasNextPage } } }`, {
      id: acc,
      after: page1.pageInfo.endCursor,
    });
    expect(rest.data.timeline.nodes).toEqual([
      { type: 'activity.created', entityId: a1 },
      { type: 'account.created', entityId: acc },
    ]);
    expect(page1.edges[1].node.entityId).toBe(a2);
    const other = await signUp(t, 'Nosy');
    expect(codes(await t.gql(`query($id: ID!) { timeline(recordId: $id) { nodes { id } } }`, { id: acc }, other.accessToken))).toEqual(['NOT_FOUND']);
  });

  describe('no N+1', () => {
    /** Counts the SQL statements the server sends while one request runs. */
    async function countStatements(run: () => Promise<unknown>): Promise<number> {
      const proto = Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
      const original = proto.query;
      let n = 0;
      // The request's statements only: the event bus's own connection (application_name
      // trellis-events) reads the log on its own schedule.
      proto.query = function (this: { connectionParameters?: { application_name?: string } }, ...args: unknown[]) {
        if (this.connectionParameters?.application_name !== 'trellis-events') n++;
        return original.apply(this, args);
      };
      try {
        await run();
      } finally {
        proto.query = original;
      }
      return n;
    }

    it('a page of 100 opportunities with account, owner, stage, primary contact and 5 latest activities costs what a page of 10 costs', async () => {
      const ws = await signUp(t, 'Load Test');
      for (let i = 0; i < 120; i++) {
        const acc = (await t.gql(`mutation { createAccount(input: { name: "Acc ${i}" }) { id } }`, {}, ws.accessToken)).data.createAccount.id;
        const con = (await t.gql(`mutation($a: ID) { createContact(input: { lastName: "C${i}", accountId: $a }) { id } }`, { a: acc }, ws.accessToken)).data
          .createContact.id;
        const opp = (
          await t.gql(
            `mutation($a: ID, $c: ID) { createOpportunity(input: { name: "Opp ${i}", accountId: $a, primaryContactId: $c, amount: { amount: "${i}.50" } }) { id } }`,
            { a: acc, c: con },
            ws.accessToken,
          )
        ).data.createOpportunity.id;
        for (let k = 0; k < (i % 3) + 5; k++)
          await t.gql(`mutation($o: ID) { createActivity(input: { type: NOTE, subject: "n${k}", opportunityId: $o }) { id } }`, { o: opp }, ws.accessToken);
      }
      // The first row (largest amount) points at no account and no contact: those relations are null, listed or not.
      const alone = (await t.gql(`mutation { createOpportunity(input: { name: "Opp alone", amount: { amount: "5000" } }) { id } }`, {}, ws.accessToken)).data
        .createOpportunity.id;
      for (let k = 0; k < 5; k++)
        await t.gql(`mutation($o: ID) { createActivity(input: { type: NOTE, subject: "a${k}", opportunityId: $o }) { id } }`, { o: alone }, ws.accessToken);
      const query = `query($n: Int) { opportunities(first: $n, orderBy: [{ field: AMOUNT, direction: DESC }]) { edges { node { name amount { amount }
        account { name } owner { name } stage { name } primaryContact { lastName } activities(first: 5) { subject } } } } }`;
      let small: { data: { opportunities: { edges: { node: { activities: unknown[] } }[] } } } | undefined;
      let big: typeof small;
      const ten = await countStatements(async () => (small = (await t.gql(query, { n: 10 }, ws.accessToken)) as never));
      const hundred = await countStatements(async () => (big = (await t.gql(query, { n: 100 }, ws.accessToken)) as never));
      expect(small!.data.opportunities.edges).toHaveLength(10);
      expect(big!.data.opportunities.edges).toHaveLength(100);
      expect(big!.data.opportunities.edges.every((e) => e.node.activities.length === 5)).toBe(true);
      expect(hundred).toBe(ten);
      // Look-ahead: the page and all those relations in one statement, beside the transaction's
      // BEGIN, the user check of the access token, and COMMIT.
      expect(ten).toBe(4);
      // What the page fetched with it is what the loaders read for one record at a time.
      const REL = `name amount { amount currency } account { id name createdAt updatedAt customFields } owner { id name email createdAt }
        stage { id name probability } primaryContact { lastName createdAt } activities(first: 5) { id subject createdAt dueAt customFields }`;
      expect((big!.data.opportunities.edges[0] as unknown as { node: { name: string; account: unknown } }).node).toMatchObject({
        name: 'Opp alone',
        account: null,
      });
      for (const i of [0, 37, 99]) {
        const edge = big!.data.opportunities.edges[i] as unknown as { node: { name: string } };
        const listed = await t.gql(
          `query($n: Int) { opportunities(first: $n, orderBy: [{ field: AMOUNT, direction: DESC }]) { nodes { id ${REL} } } }`,
          { n: 100 },
          ws.accessToken,
        );
        const row = listed.data.opportunities.nodes[i];
        expect(row.name).toBe(edge.node.name);
        const one = await t.gql(`query($id: ID!) { opportunity(id: $id) { id ${REL} } }`, { id: row.id }, ws.accessToken);
        expect(one.data.opportunity).toEqual(row);
      }
      // Only totalCount asked for: the rows of the page are not read at all.
      const countOnly = await countStatements(() => t.gql('{ opportunities { totalCount } }', {}, ws.accessToken));
      const withRows = await countStatements(() => t.gql('{ opportunities { totalCount nodes { id } } }', {}, ws.accessToken));
      expect(countOnly).toBe(withRows - 1);
    }, 120_000);
  });
});
