import { codes, type GqlResponse, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

/**
 * Queries and mutations run on graphql-js the first time and as compiled code (graphql-jit) from the
 * second: every answer, errors included, must be the same either way.
 */
describe('compiled execution', () => {
  let t: TestApp;
  let admin: SignedUp;
  const gql = (q: string, v: Record<string, unknown> = {}) => t.gql(q, v, admin.accessToken);
  /** The answer without the cost extension, which changes with every request. */
  const answer = (r: GqlResponse) => ({ status: r.status, data: r.body.data, errors: r.body.errors });
  const compiledRuns = async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('trellis_graphql_executions_total{mode="compiled"} '));
    return line ? Number(line.split(' ')[1]) : 0;
  };
  /** Runs the operation three times (interpreted, then compiled twice) and returns the one answer they all gave. */
  const sameEveryTime = async (q: string, v: Record<string, unknown> = {}) => {
    const before = await compiledRuns();
    const first = answer(await gql(q, v));
    expect(answer(await gql(q, v))).toEqual(first);
    expect(answer(await gql(q, v))).toEqual(first);
    // At least the second and third (the first too when an earlier test ran the same document).
    expect((await compiledRuns()) - before).toBeGreaterThanOrEqual(2);
    return first;
  };

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false' });
    admin = await signUp(t, 'Compiled Co');
    const account = await gql('mutation { createAccount(input: { name: "Société Alpha", domain: "alpha.example" }) { id } }');
    for (const [name, amount] of [
      ['Alpha renewal', '1200.50'],
      ['Alpha expansion', '99.99'],
      ['Beta pilot', '5000'],
    ] as const) {
      const r = await gql('mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id } }', {
        i: { name, amount: { amount, currency: 'EUR' }, accountId: account.data.createAccount.id, expectedCloseDate: '2027-01-31' },
      });
      expect(r.errors).toBeUndefined();
    }
  });
  afterAll(() => t.close());

  it('a list with a recursive filter, directives, fragments, aliases, defaults and an omitted variable', async () => {
    const q = `query Deals($f: OpportunityFilter, $first: Int = 2, $after: String, $withAccount: Boolean!) {
      deals: opportunities(first: $first, after: $after, filter: $f, orderBy: [{ field: AMOUNT, direction: DESC }]) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { ...deal account @include(if: $withAccount) { name } } }
      } }
      fragment deal on Opportunity { id name amount { amount currency } stage { name } expectedCloseDate createdAt status }`;
    const f = { or: [{ name: { contains: 'Alpha' } }, { and: [{ amount: { gt: '1000' } }, { not: { name: { eq: 'nobody' } } }] }] };
    const first = await sameEveryTime(q, { f, withAccount: true });
    expect(first.errors).toBeUndefined();
    expect(first.data.deals.totalCount).toBe(3);
    expect(first.data.deals.edges.map((e: any) => [e.node.name, e.node.amount.amount, e.node.account.name])).toEqual([
      ['Beta pilot', '5000.00', 'Société Alpha'],
      ['Alpha renewal', '1200.50', 'Société Alpha'],
    ]);
    // The cursor pages on, compiled as well.
    const next = await sameEveryTime(q, { f, withAccount: false, after: first.data.deals.pageInfo.endCursor });
    expect(next.data.deals.edges.map((e: any) => [e.node.name, 'account' in e.node])).toEqual([['Alpha expansion', false]]);
  });

  it('a union (search) and enum list variables', async () => {
    const q =
      'query($q: String!, $t: [SearchableType!]) { search(query: $q, types: $t) { type title record { __typename ... on Account { domain } ... on Opportunity { name } } } }';
    const accounts = await sameEveryTime(q, { q: 'societe alpha', t: ['ACCOUNT'] });
    expect(accounts.data.search).toEqual([{ type: 'ACCOUNT', title: 'Société Alpha', record: { __typename: 'Account', domain: 'alpha.example' } }]);
    const any = await sameEveryTime(q, { q: 'beta pilot' });
    expect(any.data.search[0]).toMatchObject({ type: 'OPPORTUNITY', record: { __typename: 'Opportunity', name: 'Beta pilot' } });
  });

  it('errors keep their code, message, path and locations', async () => {
    const missing = await sameEveryTime('query($id: ID!) { account(id: $id) { id name } }', { id: '00000000-0000-4000-8000-000000000000' });
    expect(missing.errors).toEqual([
      { message: 'Account not found', locations: [{ line: 1, column: 19 }], path: ['account'], extensions: { code: 'NOT_FOUND' } },
    ]);
    const badVariable = await sameEveryTime('query($first: Int) { accounts(first: $first) { totalCount } }', { first: 'many' });
    expect(codes(badVariable as GqlResponse)).toEqual(['BAD_USER_INPUT']);
    expect(badVariable.errors[0].message).toMatch(/Variable "\$first" got invalid value "many"/);
    const badFilter = await sameEveryTime('query($f: OpportunityFilter) { opportunities(filter: $f) { totalCount } }', {
      f: { and: [{ amount: { gt: 'lots' } }] },
    });
    expect(codes(badFilter as GqlResponse)).toEqual(['BAD_USER_INPUT']);
  });

  it('mutations: one that fails inside PostgreSQL is masked and writes nothing; one that succeeds writes once per request', async () => {
    await t.sql(`CREATE FUNCTION compiled_test_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'secret detail %', NEW.name; END $$`);
    await t.sql(`CREATE TRIGGER compiled_test_boom BEFORE INSERT ON team FOR EACH ROW WHEN (NEW.name LIKE 'boom%') EXECUTE FUNCTION compiled_test_boom()`);
    const failed = await sameEveryTime('mutation($i: CreateTeamInput!) { createTeam(input: $i) { id } }', { i: { name: 'boom' } });
    expect(failed.errors).toEqual([
      { message: 'Internal server error', locations: [{ line: 1, column: 34 }], path: ['createTeam'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ]);
    expect(JSON.stringify(failed)).not.toContain('secret detail');
    expect(await t.sql(`SELECT id FROM team WHERE name LIKE 'boom%'`)).toEqual([]);

    const create = 'mutation($i: CreateTeamInput!) { createTeam(input: $i) { name } }';
    const names: string[] = [];
    for (let i = 0; i < 3; i++) names.push((await gql(create, { i: { name: `Compiled team ${i}` } })).data.createTeam.name);
    expect(names).toEqual(['Compiled team 0', 'Compiled team 1', 'Compiled team 2']);
    expect(await t.sql(`SELECT name FROM team WHERE name LIKE 'Compiled team%' ORDER BY name`)).toEqual(names.map((name) => ({ name })));
  });
});
