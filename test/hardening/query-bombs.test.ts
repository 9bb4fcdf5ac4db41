import request from 'supertest';
import WebSocketImpl from 'ws';
import { MAX_PAGE_SIZE } from '../../src/data/connection';
import { codes, signUp, type GqlResponse, type SignedUp, type TestApp } from '../helpers/app';
import { countTokens, queryOfDepth, queryOfTokens } from '../helpers/queries';
import { expectNoStack, startHardeningApp, within } from './support/app';
import { wsClient, wsCodes, wsOnce, wsRun, type WsOutcome } from './support/ws';

/**
 * Query bombs sent over HTTP and over graphql-ws, which must meet the same walls with the same
 * codes and messages; each refusal comes fast, runs nothing, and the server serves right after.
 * (test/limits.test.ts checks each HTTP limit at its edge; this file attacks both transports.)
 */

const DEADLINE_MS = 5_000;

/** `levels` fragments, each spreading the one below `width` times: width^levels fields once expanded. */
function fragmentFanOut(levels: number, width: number, extra = ''): string {
  const fragments = ['fragment F0 on Query { __typename }'];
  for (let i = 1; i <= levels; i++) fragments.push(`fragment F${i} on Query { ${`...F${i - 1} `.repeat(width)}}`);
  return `query { ...F${levels} ${extra} } ${fragments.join(' ')}`;
}

describe('query bombs over HTTP and WebSocket alike', () => {
  let t: TestApp;
  let admin: SignedUp;
  const MAX_OPS = 5;
  beforeAll(async () => {
    t = await startHardeningApp({ WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(MAX_OPS) });
    admin = await signUp(t, 'Bombs');
  });
  afterAll(() => t.close());

  const http = (query: string, variables?: Record<string, unknown>) => within(DEADLINE_MS, 'HTTP answer', t.gql(query, variables, admin.accessToken));
  const ws = (query: string, variables?: Record<string, unknown>) =>
    within(DEADLINE_MS, 'WebSocket answer', wsOnce(t.url, `Bearer ${admin.accessToken}`, query, variables));
  const teams = async () => (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM team'))[0].n;
  const events = async () => (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM event'))[0].n;

  /** Both transports refuse `query` before running it, with `code` and the same message. */
  async function expectRefused(query: string, code: string, variables?: Record<string, unknown>): Promise<{ h: GqlResponse; w: WsOutcome }> {
    const h = await http(query, variables);
    const w = await ws(query, variables);
    expect({ http: codes(h), ws: wsCodes(w) }).toEqual({ http: [code], ws: [code] });
    expect(h.status).toBe(400);
    expect(h.data).toBeUndefined();
    expect(w.results).toEqual([]);
    expect(w.close).toBeUndefined();
    expect(w.errors![0].message).toBe(h.errors![0].message);
    expectNoStack(h.body);
    expectNoStack(w.raw);
    return { h, w };
  }

  /** Both transports run `query` without error. */
  async function expectRuns(query: string, variables?: Record<string, unknown>): Promise<void> {
    const h = await http(query, variables);
    expect(h.errors).toBeUndefined();
    const w = await ws(query, variables);
    expect(w.errors).toBeUndefined();
    expect(w.results.map((r) => r.errors)).toEqual([undefined]);
    expect(w.results[0].data).toEqual(h.data);
  }

  async function expectStillServing(): Promise<void> {
    const h = await http('{ me { workspace { id } } }');
    expect(h.data).toEqual({ me: { workspace: { id: admin.workspaceId } } });
  }

  afterEach(() => expectStillServing());

  const limits = () => t.config.limits;
  it.each([
    ['depth', 'QUERY_TOO_COMPLEX', (over: number) => queryOfDepth(limits().depth + over)],
    ['aliases', 'QUERY_TOO_COMPLEX', (over: number) => `{ ${Array.from({ length: limits().aliases + over }, (_, i) => `a${i}: me { kind }`).join(' ')} }`],
    ['directives', 'QUERY_TOO_COMPLEX', (over: number) => `{ ${'__typename @include(if: true) '.repeat(limits().directives + over)} }`],
    ['tokens', 'GRAPHQL_PARSE_FAILED', (over: number) => queryOfTokens(limits().tokens + over)],
  ])('%s: the document at the limit runs; one over is refused with %s on both transports', async (_name, code, build) => {
    await expectRuns(build(0));
    await expectRefused(build(1), code);
  });

  it('fragment cycles are refused before anything runs', async () => {
    const direct = 'query { ...A } fragment A on Query { me { kind } ...A }';
    const viaAnother = 'query { ...A } fragment A on Query { me { kind } ...B } fragment B on Query { ...A }';
    for (const q of [direct, viaAnother]) {
      const { h } = await expectRefused(q, 'GRAPHQL_VALIDATION_FAILED');
      expect(h.errors![0].message).toMatch(/Cannot spread fragment "A" within itself/);
    }
  });

  it('a fragment fan-out too large to price is refused, and cannot carry an expensive connection through unpriced', async () => {
    const expensive = 'accounts(first: 500) { nodes { activities(first: 500) { id } } }';
    // Alone, the connection is refused by its cost.
    await expectRefused(`{ ${expensive} }`, 'QUERY_TOO_COMPLEX');
    // 22^3 = 10 648 fields once the fragments are expanded: more than the cost estimator will visit.
    const before = await events();
    for (const q of [fragmentFanOut(3, 22), fragmentFanOut(3, 22, expensive)]) {
      const started = Date.now();
      const { h } = await expectRefused(q, 'QUERY_TOO_COMPLEX');
      expect(h.errors![0].message).toMatch(/too (complex|many)/i);
      expect(Date.now() - started).toBeLessThan(DEADLINE_MS);
    }
    expect(await events()).toBe(before);
    // A small fan-out is priced and runs.
    await expectRuns(fragmentFanOut(2, 5));
  });

  it('the same field repeated up to the token limit is refused quickly, not compared pair by pair for seconds', async () => {
    const copies = Math.floor((limits().tokens - 2) / 4);
    for (const q of [`{ ${'me { kind } '.repeat(copies)}}`, `{ ${'__typename '.repeat(limits().tokens - 3)}}`]) {
      expect(countTokens(q)).toBeLessThanOrEqual(limits().tokens);
      const started = Date.now();
      const h = await http(q);
      const w = await ws(q);
      expect(Date.now() - started).toBeLessThan(DEADLINE_MS);
      // Either graphql-js's overlap budget refuses it, or it runs (repeated fields merge into one).
      for (const c of [codes(h), wsCodes(w)]) expect(c.every((x) => x === 'GRAPHQL_VALIDATION_FAILED')).toBe(true);
      expect(codes(h)).toEqual(wsCodes(w));
      expectNoStack(h.body);
    }
  });

  it('first: 100000 is refused before running, as a literal and as a variable', async () => {
    for (const field of ['users', 'accounts', 'opportunities', 'activities']) {
      await expectRefused(`{ ${field}(first: 100000) { nodes { id } } }`, 'QUERY_TOO_COMPLEX');
      await expectRefused(`query($n: Int) { ${field}(first: $n) { nodes { id } } }`, 'QUERY_TOO_COMPLEX', { n: 100000 });
    }
    // Under the cost limit but over the page size limit (MAX_PAGE_SIZE): refused as bad input, for each list.
    for (const field of ['users', 'accounts']) {
      const h = await http(`{ ${field}(first: ${MAX_PAGE_SIZE + 1}) { totalCount } }`);
      const w = await ws(`{ ${field}(first: ${MAX_PAGE_SIZE + 1}) { totalCount } }`);
      expect(codes(h)).toEqual(['BAD_USER_INPUT']);
      expect(wsCodes(w)).toEqual(['BAD_USER_INPUT']);
      expect(h.data?.[field] ?? null).toBeNull();
    }
    for (const n of [-1, 2 ** 31]) {
      const h = await http('query($n: Int) { users(first: $n) { totalCount } }', { n });
      expect(codes(h)).toEqual(['BAD_USER_INPUT']);
      expectNoStack(h.body);
    }
    await expectRuns(`{ users(first: ${MAX_PAGE_SIZE}) { totalCount } }`);
  });

  it('nested connections are priced by the rows they may fetch, on both transports', async () => {
    // `opportunities` and `lineItems` take no `first`: each is priced at its cap (500), so one account's worth of them is already 250 000.
    const nested = (outer: number, inner: number) => `{ accounts(first: ${outer}) { nodes { id activities(first: ${inner}) { id } opportunities { id } } } }`;
    await expectRuns(nested(10, 10));
    const { h } = await expectRefused(nested(300, 300), 'QUERY_TOO_COMPLEX');
    expect(h.errors![0].message).toContain(String(limits().cost));
  });

  it('a JSON array of 1000 operations is refused whole (HTTP 400), and none of them runs', async () => {
    const [teamsBefore, eventsBefore] = [await teams(), await events()];
    const batch = Array.from({ length: 1000 }, (_, i) => ({
      query: 'mutation($n: String!) { createTeam(input: { name: $n }) { id } }',
      variables: { n: `Batched ${i}` },
    }));
    const res = await within(
      DEADLINE_MS,
      'batch',
      request(t.url).post('/graphql').set('content-type', 'application/json').set('authorization', `Bearer ${admin.accessToken}`).send(batch),
    );
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['BAD_REQUEST']);
    expectNoStack(res.text);
    const queries = await request(t.url)
      .post('/graphql')
      .set('content-type', 'application/json')
      .send(Array.from({ length: 1000 }, () => ({ query: '{ __typename }' })));
    expect(queries.status).toBe(400);
    expect([await teams(), await events()]).toEqual([teamsBefore, eventsBefore]);
  });

  it('variables nested 100 000 levels deep are refused (HTTP 400 and over WebSocket) without a crash or a 5xx', async () => {
    // Written by hand: JSON.stringify of such a value would itself overflow the stack.
    const depth = 100_000;
    const variables = `{"v":${'['.repeat(depth)}1${']'.repeat(depth)}}`;
    const before = await events();
    const res = await within(
      DEADLINE_MS,
      'deep variables',
      request(t.url)
        .post('/graphql')
        .set('content-type', 'application/json')
        .set('authorization', `Bearer ${admin.accessToken}`)
        .send(`{"query":"{ me { kind } }","variables":${variables}}`),
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expectNoStack(res.text);
    const sock = await new Promise<string>((resolve) => {
      const s = new WebSocketImpl(`${t.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
      const got: string[] = [];
      s.on('open', () => s.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${admin.accessToken}` } })));
      s.on('message', (m) => {
        const msg = JSON.parse(String(m));
        if (msg.type === 'connection_ack') s.send(`{"type":"subscribe","id":"1","payload":{"query":"{ me { kind } }","variables":${variables}}}`);
        else {
          got.push(String(m));
          if (msg.type === 'error' || msg.type === 'complete') s.close();
        }
      });
      s.on('close', (code) => resolve(`${code} ${got.join(' ')}`));
    });
    expect(sock).toMatch(/"BAD_USER_INPUT"/);
    expectNoStack(sock);
    expect(await events()).toBe(before);
  });

  it(`over WebSocket, operations beyond WS_MAX_SUBSCRIPTIONS_PER_CONNECTION (${MAX_OPS}) on one socket are refused with RATE_LIMITED`, async () => {
    const c = wsClient(t.url, { authorization: `Bearer ${admin.accessToken}` });
    try {
      const held: WsOutcome[] = [];
      const pending = Array.from({ length: MAX_OPS + 5 }, () => wsRun(c, 'subscription { recordChanged { id } }', undefined, 1_500).then((o) => held.push(o)));
      await Promise.all(pending);
      const refused = held.filter((o) => wsCodes(o).includes('RATE_LIMITED'));
      const open = held.filter((o) => o.close?.code === -1); // still open when the wait ended
      // Exactly the limit runs: every one past it is refused.
      expect([open.length, refused.length]).toEqual([MAX_OPS, 5]);
    } finally {
      await c.dispose();
    }
  });
});

describe('production: no introspection, no field suggestions, over HTTP and WebSocket', () => {
  let prod: TestApp;
  let dev: TestApp;
  let prodAdmin: SignedUp;
  let devAdmin: SignedUp;
  beforeAll(async () => {
    [prod, dev] = await Promise.all([startHardeningApp({ NODE_ENV: 'production' }), startHardeningApp()]);
    [prodAdmin, devAdmin] = await Promise.all([signUp(prod, 'Prod'), signUp(dev, 'Dev')]);
  });
  afterAll(() => Promise.all([prod.close(), dev.close()]));

  const both = async (app: TestApp, who: SignedUp, query: string, variables?: Record<string, unknown>) => ({
    h: await app.gql(query, variables, who.accessToken),
    w: await within(DEADLINE_MS, 'ws', wsOnce(app.url, `Bearer ${who.accessToken}`, query, variables)),
  });

  it('runs as production with the JWT secret given', () => {
    expect(prod.config.env).toBe('production');
    expect(prod.config.jwtSecret).toBe('test-secret-test-secret-test-secret-0123');
  });

  it.each([
    ['__schema', '{ __schema { queryType { name } types { name } } }'],
    ['__type', '{ __type(name: "Account") { name fields { name } } }'],
    ['__type nested in a fragment', 'query { ...I } fragment I on Query { __type(name: "User") { fields { name } } }'],
  ])('introspection (%s) is refused; outside production it answers', async (_name, query) => {
    const { h, w } = await both(prod, prodAdmin, query);
    expect(codes(h)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    // graphql-js's rule names each introspection field; Apollo's stops at the first.
    expect(wsCodes(w).length).toBeGreaterThan(0);
    expect(new Set(wsCodes(w))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
    expect(w.results).toEqual([]);
    for (const text of [JSON.stringify(h.body), w.raw]) {
      expect(text).toMatch(/introspection/i);
      expect(text).not.toMatch(/"(types|fields|queryType)"/);
    }
    const d = await both(dev, devAdmin, query);
    expect(d.h.errors).toBeUndefined();
    expect(d.w.results[0]?.errors).toBeUndefined();
    expect(d.w.results[0]?.data).toEqual(d.h.data);
  });

  it.each([
    ['an unknown field', '{ users { nodez { id } } }', {}],
    ['an unknown argument', '{ users(frist: 1) { totalCount } }', {}],
    ['an unknown variable type', 'query($f: UserFiltr) { users(filter: $f) { totalCount } }', {}],
    ['an unknown enum value', '{ users(orderBy: [{ field: NAM }]) { totalCount } }', {}],
    ['an unknown input field', '{ users(filter: { nam: { eq: "x" } }) { totalCount } }', {}],
    ['an unknown type condition', '{ me { ... on Viewr { kind } } }', {}],
    ['an unknown enum value in the variables', 'query($o: [UserOrder!]) { users(orderBy: $o) { totalCount } }', { o: [{ field: 'NAM' }] }],
    ['an unknown input field in the variables', 'query($f: UserFilter) { users(filter: $f) { totalCount } }', { f: { nam: { eq: 'x' } } }],
  ])('%s gets no "Did you mean" in production (it does outside it)', async (_name, query, variables) => {
    const { h, w } = await both(prod, prodAdmin, query, variables);
    expect(h.errors?.length).toBeGreaterThan(0);
    // The same code on both (bad variables are BAD_USER_INPUT over WS too, not a masked internal error).
    expect(wsCodes(w)).toEqual(codes(h));
    expect(codes(h)).toEqual([Object.keys(variables).length ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED']);
    expect(JSON.stringify(h.body)).not.toMatch(/Did you mean/);
    expect(w.raw).not.toMatch(/Did you mean/);
    expectNoStack(h.body);
    expectNoStack(w.raw);
    const d = await both(dev, devAdmin, query, variables);
    expect(wsCodes(d.w)).toEqual(codes(d.h));
    expect(JSON.stringify(d.h.body)).toMatch(/Did you mean/);
    expect(d.w.raw).toMatch(/Did you mean/);
  });
});

describe('CSRF-style requests are refused without running anything', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startHardeningApp();
    admin = await signUp(t, 'Csrf');
  });
  afterAll(() => t.close());

  const MUTATION = 'mutation { createTeam(input: { name: "Forged" }) { id } }';
  const state = async () =>
    (await t.sql<{ teams: number; events: number }>(`SELECT (SELECT count(*) FROM team)::int AS teams, (SELECT count(*) FROM event)::int AS events`))[0];
  const body = JSON.stringify({ query: MUTATION });

  it.each([
    ['text/plain', body],
    ['text/plain;charset=UTF-8', body],
    ['TEXT/PLAIN', body],
    ['application/x-www-form-urlencoded', `query=${encodeURIComponent(MUTATION)}`],
    ['application/x-www-form-urlencoded', body],
    ['multipart/form-data; boundary=b', `--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n${MUTATION}\r\n--b--\r\n`],
  ])('POST as %s', async (contentType, payload) => {
    const before = await state();
    const res = await request(t.url).post('/graphql').set('content-type', contentType).set('authorization', `Bearer ${admin.accessToken}`).send(payload);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/Cross-Site Request Forgery/);
    expectNoStack(res.text);
    expect(await state()).toEqual(before);
  });

  it('POST without a content type', async () => {
    const before = await state();
    const res = await request(t.url).post('/graphql').set('authorization', `Bearer ${admin.accessToken}`).send(Buffer.from(body));
    expect(res.status).toBe(400);
    expect(await state()).toEqual(before);
  });

  it('GET with a mutation: refused as CSRF without a preflight header, and as a GET (405) with one', async () => {
    const before = await state();
    const plain = await request(t.url).get('/graphql').query({ query: MUTATION }).set('authorization', `Bearer ${admin.accessToken}`);
    expect(plain.status).toBe(400);
    expect(plain.text).toMatch(/Cross-Site Request Forgery/);
    const preflighted = await request(t.url)
      .get('/graphql')
      .query({ query: MUTATION })
      .set('authorization', `Bearer ${admin.accessToken}`)
      .set('apollo-require-preflight', 'true');
    expect(preflighted.status).toBe(405);
    expect(preflighted.headers.allow).toBe('POST');
    expect(preflighted.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(await state()).toEqual(before);
    // A preflighted GET query works, and the JSON POST of the same mutation runs: the refusals are for the shape.
    const get = await request(t.url)
      .get('/graphql')
      .query({ query: '{ me { kind } }' })
      .set('authorization', `Bearer ${admin.accessToken}`)
      .set('apollo-require-preflight', 'true');
    expect(get.body).toMatchObject({ data: { me: { kind: 'USER' } } });
    const json = await t.gql(MUTATION, {}, admin.accessToken);
    expect(json.errors).toBeUndefined();
    expect((await state()).teams).toBe(before.teams + 1);
  });
});
