import { createHash } from 'node:crypto';
import { queryOfDepth } from './helpers/queries';
import { signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

// Automatic persisted queries (Apollo's APQ protocol) over a real HTTP client: a client sends the
// sha256 of a document; the first time the server does not know it (PERSISTED_QUERY_NOT_FOUND) and
// the client sends hash and document together; from then on the hash alone runs it, over POST or GET.

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(query) } });

interface Answer {
  status: number;
  headers: Headers;
  body: any;
  code?: string;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  return { status: res.status, headers: res.headers, body, code: body?.errors?.[0]?.extensions?.code };
}

describe('automatic persisted queries', () => {
  let t: TestApp;
  let admin: SignedUp;
  let other: SignedUp;
  let n = 0;
  /** A document no earlier test registered (the cache lives as long as the server). */
  const fresh = (body: string) => `query Fresh${++n} ${body}`;
  /** The Authorization header of a token; none for ''. */
  const auth = (token: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

  const post = async (body: Record<string, unknown>, token = admin.accessToken, headers: Record<string, string> = {}) =>
    answer(
      await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth(token), ...headers },
        body: JSON.stringify(body),
      }),
    );

  /** A GET as Apollo Client's `useGETForHashedQueries` sends it: the operation in the URL; `headers` replace the default preflight header. */
  const get = async (
    params: { query?: string; extensions?: object; variables?: object; operationName?: string },
    token = admin.accessToken,
    headers: Record<string, string> = { 'apollo-require-preflight': 'true' },
  ) => {
    const url = new URL(`${t.url}/graphql`);
    if (params.query) url.searchParams.set('query', params.query);
    if (params.operationName) url.searchParams.set('operationName', params.operationName);
    if (params.variables) url.searchParams.set('variables', JSON.stringify(params.variables));
    if (params.extensions) url.searchParams.set('extensions', JSON.stringify(params.extensions));
    return answer(await fetch(url, { headers: { accept: 'application/graphql-response+json, application/json;q=0.9', ...auth(token), ...headers } }));
  };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'APQ Co');
    other = await signUp(t, 'APQ Elsewhere');
    await t.gql(`mutation { createAccount(input: { name: "Persisted Ltd" }) { id } }`, {}, admin.accessToken);
  });
  afterAll(() => t.close());

  it('hash only is PERSISTED_QUERY_NOT_FOUND; hash and document run and register it; then the hash alone runs it, over POST and GET', async () => {
    const query = fresh('{ accounts(first: 5) { nodes { name } } }');
    const expected = { accounts: { nodes: [{ name: 'Persisted Ltd' }] } };

    const unknown = await post({ extensions: persisted(query) });
    expect([unknown.status, unknown.code, unknown.body.data]).toEqual([200, 'PERSISTED_QUERY_NOT_FOUND', undefined]);
    // Apollo's own header on this answer: not cached, the client retries with the document.
    expect(unknown.headers.get('cache-control')).toMatch(/no-cache/);

    const registered = await post({ query, extensions: persisted(query) });
    expect([registered.status, registered.body.errors, registered.body.data]).toEqual([200, undefined, expected]);

    const byHash = await post({ extensions: persisted(query) });
    expect([byHash.status, byHash.body.errors, byHash.body.data]).toEqual([200, undefined, expected]);
    expect(byHash.headers.get('cache-control')).toBe('no-store');
    expect(byHash.body.extensions.cost.requested).toBe(registered.body.extensions.cost.requested);

    const overGet = await get({ extensions: persisted(query) });
    expect([overGet.status, overGet.body.errors, overGet.body.data]).toEqual([200, undefined, expected]);
    expect(overGet.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    // One credential's view of one workspace's data: no browser or proxy keeps it.
    expect(overGet.headers.get('cache-control')).toBe('no-store');
  });

  it('a GET registers too (hash and document in the URL), with variables; an unknown hash over GET is PERSISTED_QUERY_NOT_FOUND', async () => {
    const query = fresh('($n: Int) { accounts(first: $n) { totalCount } }');
    expect((await get({ extensions: persisted(query), variables: { n: 1 } })).code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await get({ query, extensions: persisted(query), variables: { n: 1 } })).body.data).toEqual({ accounts: { totalCount: 1 } });
    expect((await get({ extensions: persisted(query), variables: { n: 2 } })).body.data).toEqual({ accounts: { totalCount: 1 } });
  });

  it('a hash that is not the sha256 of the document sent with it is refused (400), and registers nothing', async () => {
    const query = fresh('{ me { kind } }');
    const lie = { persistedQuery: { version: 1, sha256Hash: sha256('{ me { role } }') } };
    const r = await post({ query, extensions: lie });
    // Apollo raises it without a code (it was masked as an internal error): a client error, as Apollo says it.
    expect([r.status, r.code, r.body.errors[0].message]).toEqual([400, 'BAD_REQUEST', 'provided sha does not match query']);
    expect((await post({ extensions: lie })).code).toBe('PERSISTED_QUERY_NOT_FOUND');
    // An unknown protocol version is refused as well.
    const v2 = await post({ query, extensions: { persistedQuery: { version: 2, sha256Hash: sha256(query) } } });
    expect([v2.status, v2.code, v2.body.errors[0].message]).toEqual([400, 'BAD_REQUEST', 'Unsupported persisted query version']);
  });

  it('a mutation over GET is refused (405, Allow: POST), by document or by hash; it ran nowhere', async () => {
    const mutation = 'mutation ViaGet { createAccount(input: { name: "Sent by GET" }) { id } }';
    const byDocument = await get({ query: mutation });
    expect([byDocument.status, byDocument.code, byDocument.headers.get('allow')]).toEqual([405, 'BAD_REQUEST', 'POST']);
    // Registered over POST (where it runs), then sent by hash over GET: still refused.
    expect((await post({ query: mutation, extensions: persisted(mutation) })).body.data.createAccount.id).toBeTruthy();
    const byHash = await get({ extensions: persisted(mutation) });
    expect([byHash.status, byHash.code]).toEqual([405, 'BAD_REQUEST']);
    expect(await t.sql(`SELECT count(*)::int AS n FROM account WHERE name = 'Sent by GET'`)).toEqual([{ n: 1 }]);
  });

  it('a GET without a preflight header or a non-simple content-type is refused as a possible CSRF (400 BAD_REQUEST); Apollo Client passes with its content-type', async () => {
    const query = fresh('{ me { kind } }');
    await post({ query, extensions: persisted(query) });
    const bare = await get({ extensions: persisted(query) }, admin.accessToken, {});
    expect([bare.status, bare.code]).toEqual([400, 'BAD_REQUEST']);
    expect(bare.body.errors[0].message).toMatch(/Cross-Site Request Forgery/);
    const simple = await get({ extensions: persisted(query) }, admin.accessToken, { 'content-type': 'text/plain' });
    expect([simple.status, simple.code]).toEqual([400, 'BAD_REQUEST']);
    // Apollo Client sends `content-type: application/json` on GETs too; other clients add the header.
    expect((await get({ extensions: persisted(query) }, admin.accessToken, { 'content-type': 'application/json' })).body.data).toEqual({
      me: { kind: 'USER' },
    });
    expect((await get({ extensions: persisted(query) }, admin.accessToken, { 'x-apollo-operation-name': 'Fresh' })).body.data).toEqual({
      me: { kind: 'USER' },
    });
  });

  it('a hash runs with the credentials of whoever sends it: none is UNAUTHENTICATED; another workspace gets its own data', async () => {
    const query = fresh('{ accounts(first: 5) { nodes { name } } }');
    expect((await post({ query, extensions: persisted(query) })).body.data.accounts.nodes).toContainEqual({ name: 'Persisted Ltd' });
    const anonymous = await get({ extensions: persisted(query) }, '');
    expect(anonymous.code).toBe('UNAUTHENTICATED');
    expect(anonymous.body.data).toBeNull();
    const elsewhere = await get({ extensions: persisted(query) }, other.accessToken);
    expect([elsewhere.body.errors, elsewhere.body.data]).toEqual([undefined, { accounts: { nodes: [] } }]);
  });

  it('a document over the cost or depth limit is refused when sent, so never registered: its hash stays unknown', async () => {
    const { cost, depth } = t.config.limits;
    const overCost = fresh('{ accounts(first: 1000) { nodes { contacts { id } opportunities { id } } } }');
    const r = await post({ query: overCost, extensions: persisted(overCost) });
    expect([r.code, r.body.errors[0].message]).toEqual(['QUERY_TOO_COMPLEX', expect.stringContaining(`exceeds the limit of ${cost}`)]);
    expect((await post({ extensions: persisted(overCost) })).code).toBe('PERSISTED_QUERY_NOT_FOUND');

    const tooDeep = queryOfDepth(depth + 1);
    const d = await post({ query: tooDeep, extensions: persisted(tooDeep) });
    expect(d.code).toBe('QUERY_TOO_COMPLEX');
    expect((await post({ extensions: persisted(tooDeep) })).code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('the cost of a persisted query is checked on every request: a hash registered with small variables is refused with large ones', async () => {
    const query = fresh('($n: Int) { accounts(first: $n) { nodes { contacts { id } opportunities { id } } } }');
    expect((await post({ query, extensions: persisted(query), variables: { n: 1 } })).body.errors).toBeUndefined();
    expect((await post({ extensions: persisted(query), variables: { n: 1 } })).body.errors).toBeUndefined();
    const large = await post({ extensions: persisted(query), variables: { n: 1000 } });
    expect([large.status, large.code]).toEqual([400, 'QUERY_TOO_COMPLEX']);
    expect((await get({ extensions: persisted(query), variables: { n: 1000 } })).code).toBe('QUERY_TOO_COMPLEX');
  });

  it('an Idempotency-Key retry sent by hash is the same request as the first, sent with the document: replayed, run once', async () => {
    const mutation = 'mutation Once($name: String!) { createAccount(input: { name: $name }) { id name } }';
    const headers = { 'idempotency-key': `apq-${Date.now()}` };
    const first = await post({ query: mutation, extensions: persisted(mutation), variables: { name: 'Once only' } }, admin.accessToken, headers);
    expect(first.body.errors).toBeUndefined();
    const retry = await post({ extensions: persisted(mutation), variables: { name: 'Once only' } }, admin.accessToken, headers);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.data).toEqual(first.body.data);
    expect(await t.sql(`SELECT count(*)::int AS n FROM account WHERE name = 'Once only'`)).toEqual([{ n: 1 }]);
  });
});

describe('automatic persisted queries: the cache setting', () => {
  it('PERSISTED_QUERIES_CACHE_BYTES=0 turns them off: PERSISTED_QUERY_NOT_SUPPORTED (Apollo Client then sends documents)', async () => {
    const t = await startTestApp({ PERSISTED_QUERIES_CACHE_BYTES: '0' });
    try {
      const query = '{ __typename }';
      const r = await answer(
        await fetch(`${t.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, extensions: persisted(query) }),
        }),
      );
      expect(r.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
      const plain = await answer(
        await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) }),
      );
      expect(plain.body.data).toEqual({ __typename: 'Query' });
    } finally {
      await t.close();
    }
  });

  it('the cache is bounded: past PERSISTED_QUERIES_CACHE_BYTES of documents the least recently used is dropped, and its client registers it again', async () => {
    const t = await startTestApp({ PERSISTED_QUERIES_CACHE_BYTES: '200' });
    const send = async (body: object) =>
      answer(await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    try {
      // Documents of 60 characters each: three fit in 200, a fourth pushes the oldest out.
      const docs = [1, 2, 3, 4].map((i) => `query Bounded${i} { __typename }`.padEnd(60, ' '));
      expect(docs.map((d) => d.length)).toEqual([60, 60, 60, 60]);
      for (const query of docs) expect((await send({ query, extensions: persisted(query) })).body.data.__typename).toBe('Query');
      expect((await send({ extensions: persisted(docs[0]) })).code).toBe('PERSISTED_QUERY_NOT_FOUND');
      for (const kept of docs.slice(1)) expect((await send({ extensions: persisted(kept) })).body.data.__typename).toBe('Query');
      expect((await send({ query: docs[0], extensions: persisted(docs[0]) })).body.data.__typename).toBe('Query');
      expect((await send({ extensions: persisted(docs[0]) })).body.data.__typename).toBe('Query');
    } finally {
      await t.close();
    }
  });
});
