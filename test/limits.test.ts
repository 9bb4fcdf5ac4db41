import { parse } from 'graphql';
import request from 'supertest';
import { codes, signUp, startTestApp, type GqlResponse, type SignedUp, type TestApp } from './helpers/app';
import { countTokens, queryOfDepth, queryOfTokens } from './helpers/queries';
// After the helpers, which load reflect-metadata for the decorators of src/.
import { queryCost } from '../src/server/limits';

/**
 * What keeps one request from hurting the service: the shape limits on a GraphQL document, the
 * HTTP body rules, and what production hides. Limits are read from the app's config, not copied.
 */

/** No stack trace, file path or frame in anything a client receives. */
function expectNoStack(body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  expect(text).not.toMatch(/stacktrace/i);
  expect(text).not.toMatch(/\bat \S+ \(|node_modules|\.[jt]s:\d+:\d+/);
}

describe('limits on a GraphQL document', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Limits');
  });
  afterAll(() => t.close());

  const gql = (query: string, variables?: Record<string, unknown>) => t.gql(query, variables, admin.accessToken);

  /** A normal query right after a refusal: the process still serves. */
  async function expectStillServing(): Promise<void> {
    const r = await gql('{ users { totalCount nodes { id } } }');
    expect(r.status).toBe(200);
    expect(r.errors).toBeUndefined();
    expect(r.data.users).toEqual({ totalCount: 1, nodes: [{ id: admin.userId }] });
  }

  function expectRefused(r: GqlResponse, code: string): void {
    expect(codes(r)).toEqual([code]);
    expect(r.data).toBeUndefined();
    expectNoStack(r.body);
  }

  const depthQuery = (over: number) => queryOfDepth(t.config.limits.depth + over);
  const aliasQuery = (over: number) => `{ ${Array.from({ length: t.config.limits.aliases + over }, (_, i) => `a${i}: me { kind }`).join(' ')} }`;
  const directiveQuery = (over: number) => `{ ${'__typename @include(if: true) '.repeat(t.config.limits.directives + over)} }`;
  const tokenQuery = (over: number) => queryOfTokens(t.config.limits.tokens + over);
  const COST_QUERY = `query($n: Int!) { ${Array.from({ length: 12 }, (_, i) => `a${i}: users(first: $n) { nodes { id name email team { id name members { id name email } } } }`).join(' ')} }`;

  describe('each limit refuses the document over it, and accepts the one at it', () => {
    it('depth: QUERY_TOO_COMPLEX', async () => {
      const atLimit = await gql(depthQuery(0));
      expect(atLimit.errors).toBeUndefined();
      expect(atLimit.data.users.nodes).toHaveLength(1);
      expectRefused(await gql(depthQuery(1)), 'QUERY_TOO_COMPLEX');
      await expectStillServing();
    });

    it('aliases: QUERY_TOO_COMPLEX', async () => {
      const atLimit = await gql(aliasQuery(0));
      expect(atLimit.errors).toBeUndefined();
      expect(Object.keys(atLimit.data)).toHaveLength(t.config.limits.aliases);
      expectRefused(await gql(aliasQuery(1)), 'QUERY_TOO_COMPLEX');
      await expectStillServing();
    });

    it('directives: QUERY_TOO_COMPLEX', async () => {
      const atLimit = await gql(directiveQuery(0));
      expect(atLimit.errors).toBeUndefined();
      expect(atLimit.data).toEqual({ __typename: 'Query' });
      expectRefused(await gql(directiveQuery(1)), 'QUERY_TOO_COMPLEX');
      await expectStillServing();
    });

    it('tokens: GRAPHQL_PARSE_FAILED', async () => {
      expect(countTokens(tokenQuery(0))).toBe(t.config.limits.tokens);
      const atLimit = await gql(tokenQuery(0));
      expect(atLimit.errors).toBeUndefined();
      expect(atLimit.data).toEqual({ users: { totalCount: 1 } });
      expectRefused(await gql(tokenQuery(1)), 'GRAPHQL_PARSE_FAILED');
      await expectStillServing();
    });

    it('cost: connections nested in a list are priced by the page size asked for', async () => {
      const cheap = { n: 1 };
      const expensive = { n: 500 };
      // Preconditions on the estimate itself, so the test below cannot pass by accident.
      expect(queryCost(t.app.schema, parse(COST_QUERY), cheap)).toBeLessThanOrEqual(t.config.limits.cost);
      expect(queryCost(t.app.schema, parse(COST_QUERY), expensive)).toBeGreaterThan(t.config.limits.cost);
      const ok = await gql(COST_QUERY, cheap);
      expect(ok.errors).toBeUndefined();
      expect(ok.data.a0.nodes).toEqual([expect.objectContaining({ id: admin.userId })]);
      const refused = await gql(COST_QUERY, expensive);
      expectRefused(refused, 'QUERY_TOO_COMPLEX');
      expect(refused.errors![0].message).toContain(String(t.config.limits.cost));
      await expectStillServing();
    });

    it('every refusal is a client error (HTTP 400), not a server error', async () => {
      const statuses = {
        depth: (await gql(depthQuery(1))).status,
        aliases: (await gql(aliasQuery(1))).status,
        directives: (await gql(directiveQuery(1))).status,
        tokens: (await gql(tokenQuery(1))).status,
        cost: (await gql(COST_QUERY, { n: 500 })).status,
      };
      expect(statuses).toEqual({ depth: 400, aliases: 400, directives: 400, tokens: 400, cost: 400 });
    });

    it('limits hold without credentials too (they are checked before anything runs)', async () => {
      for (const q of [depthQuery(1), aliasQuery(1), directiveQuery(1)]) {
        const r = await t.gql(q);
        expect(codes(r)).toEqual(['QUERY_TOO_COMPLEX']);
      }
      expect(codes(await t.gql(tokenQuery(1)))).toEqual(['GRAPHQL_PARSE_FAILED']);
    });
  });
});

describe('HTTP requests', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp({ MAX_BODY_BYTES: '2000' });
    admin = await signUp(t, 'Http');
  });
  afterAll(() => t.close());

  const post = () => request(t.url).post('/graphql');
  const teamCount = async () => (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM team WHERE workspace_id = $1', [admin.workspaceId]))[0].n;
  const CREATE_TEAM = 'mutation($n: String!) { createTeam(input: { name: $n }) { id } }';

  it('a body over MAX_BODY_BYTES is 413 with a JSON GraphQL error, and a body under it works', async () => {
    const limit = t.config.limits.bodyBytes;
    expect(limit).toBe(2000);
    const query = '{ __typename }';
    // The padding rides in `extensions`, which the server ignores.
    const big = JSON.stringify({ query, extensions: { pad: 'x'.repeat(limit) } });
    expect(Buffer.byteLength(big)).toBeGreaterThan(limit);
    const res = await post().set('content-type', 'application/json').send(big);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(res.body.errors[0].message).toMatch(/too large/i);
    expectNoStack(res.text);

    const small = JSON.stringify({ query, extensions: { pad: 'x'.repeat(limit - 100) } });
    expect(Buffer.byteLength(small)).toBeLessThanOrEqual(limit);
    const ok = await post().set('content-type', 'application/json').send(small);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ data: { __typename: 'Query' } });
  });

  it('malformed JSON is 400 BAD_USER_INPUT, with no stack trace', async () => {
    const res = await post().set('content-type', 'application/json').send('{"query": "{ __typename }"');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expectNoStack(res.text);
  });

  it('a batch of operations is refused and none of them runs', async () => {
    const before = await teamCount();
    const res = await post()
      .set('content-type', 'application/json')
      .set('authorization', `Bearer ${admin.accessToken}`)
      .send([
        { query: CREATE_TEAM, variables: { n: 'Batched one' } },
        { query: CREATE_TEAM, variables: { n: 'Batched two' } },
      ]);
    expect(res.status).toBe(400);
    expect(res.body.errors?.length).toBeGreaterThan(0);
    expect(res.body.data).toBeUndefined();
    expectNoStack(res.text);
    expect(await teamCount()).toBe(before);
  });

  describe('CSRF prevention: a request a browser sends without a preflight is refused', () => {
    it.each([
      ['text/plain', (body: string) => body],
      ['application/x-www-form-urlencoded', (body: string) => `payload=${encodeURIComponent(body)}`],
      ['multipart/form-data; boundary=xyz', (body: string) => `--xyz\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${body}\r\n--xyz--\r\n`],
    ])('%s', async (contentType, encode) => {
      const before = await teamCount();
      const res = await post()
        .set('content-type', contentType)
        .set('authorization', `Bearer ${admin.accessToken}`)
        .send(encode(JSON.stringify({ query: CREATE_TEAM, variables: { n: `CSRF ${contentType}` } })));
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/Cross-Site Request Forgery/);
      expectNoStack(res.text);
      expect(await teamCount()).toBe(before);
    });

    it('a GET without a preflight header is refused too', async () => {
      const res = await request(t.url).get('/graphql').query({ query: '{ __typename }' });
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/Cross-Site Request Forgery/);
    });

    it('the same mutation as application/json runs (the refusals above are for the content type)', async () => {
      const before = await teamCount();
      const res = await post()
        .set('content-type', 'application/json')
        .set('authorization', `Bearer ${admin.accessToken}`)
        .send({ query: CREATE_TEAM, variables: { n: 'Proper JSON' } });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(await teamCount()).toBe(before + 1);
    });
  });
});

describe('production mode', () => {
  let prod: TestApp;
  let dev: TestApp;
  let prodAdmin: SignedUp;
  let devAdmin: SignedUp;
  beforeAll(async () => {
    [prod, dev] = await Promise.all([startTestApp({ NODE_ENV: 'production' }), startTestApp()]);
    [prodAdmin, devAdmin] = await Promise.all([signUp(prod, 'Prod'), signUp(dev, 'NotProd')]);
  });
  afterAll(() => Promise.all([prod.close(), dev.close()]));

  it('runs as production', () => {
    expect(prod.config.env).toBe('production');
    expect(dev.config.env).not.toBe('production');
  });

  it('an unknown field gets no "Did you mean" suggestion', async () => {
    const query = '{ users { nodez { id } } }';
    const r = await prod.gql(query, {}, prodAdmin.accessToken);
    expect(codes(r)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(r.errors![0].message).toMatch(/nodez/);
    expect(r.errors![0].message).not.toMatch(/Did you mean/);
    // Outside production the same query does get one: the check above can fail.
    const d = await dev.gql(query, {}, devAdmin.accessToken);
    expect(d.errors![0].message).toMatch(/Did you mean "nodes"/);
    expectNoStack(r.body);
  });

  it('an unknown enum value or input field in the variables is BAD_USER_INPUT without a suggestion', async () => {
    const query = 'query($o: [UserOrder!], $f: UserFilter) { users(orderBy: $o, filter: $f) { totalCount } }';
    for (const variables of [{ o: [{ field: 'NAM' }] }, { f: { nam: { eq: 'x' } } }]) {
      const r = await prod.gql(query, variables, prodAdmin.accessToken);
      expect({ variables, codes: codes(r) }).toEqual({ variables, codes: ['BAD_USER_INPUT'] });
      expect(r.errors![0].message).toMatch(/Variable "\$[of]"/);
      expect(r.errors![0].message).not.toMatch(/Did you mean/);
      expectNoStack(r.body);
    }
  });

  it('introspection is disabled (and enabled outside production)', async () => {
    for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "User") { name fields { name } } }']) {
      const r = await prod.gql(query, {}, prodAdmin.accessToken);
      expect(codes(r)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(r.errors![0].message).toMatch(/introspection/i);
      expect(r.data).toBeUndefined();
      expect(JSON.stringify(r.body)).not.toMatch(/"fields"|"queryType"/);
      const d = await dev.gql(query, {}, devAdmin.accessToken);
      expect(d.errors).toBeUndefined();
    }
  });

  it('a failing request shows neither a stack trace nor database detail', async () => {
    // Whatever the code (an invalid id is bad input), the body must not carry internals.
    const r = await prod.gql('{ users(filter: { id: { eq: "not-a-uuid" } }) { totalCount } }', {}, prodAdmin.accessToken);
    expect(r.errors?.length).toBeGreaterThan(0);
    expectNoStack(r.body);
    expect(JSON.stringify(r.body)).not.toMatch(/invalid input syntax|SELECT|app_user|workspace_id/i);
    const malformed = await request(prod.url).post('/graphql').set('content-type', 'application/json').send('{"query":');
    expect(malformed.status).toBe(400);
    expectNoStack(malformed.text);
  });
});
