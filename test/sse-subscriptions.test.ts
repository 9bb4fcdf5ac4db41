import { request as httpRequest } from 'node:http';
import { signAccessToken } from '../src/modules/auth/credentials';
import { openStreams } from '../src/modules/realtime/live-stream';
import { apiKey, signUp, startSecondInstance, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';
import { sseClient, sseSubscribe, sseUrl, type SseSubscriber } from './helpers/sse';
import { subscribe, waitUntil, type Subscriber } from './helpers/subscriber';

// Subscriptions over Server-Sent Events (graphql-sse, /graphql/stream), through graphql-sse's own
// client over Node's fetch, against a real server: the same resolvers, authentication and limits as
// over WebSocket (test/realtime.test.ts, test/websocket.test.ts), only the delivery differs.

const RECORD_CHANGED = `subscription($types: [EntityType!], $after: String) {
  recordChanged(types: $types, after: $after) { cursor id type entityType entityId data actor { type id } }
}`;
const CREATE_ACCOUNT = `mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }`;
const REVOKE_KEY = `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`;

/** `activityFeed { activity { owner { team { manager { team … } } } } }`, `depth` fields deep. */
function deepSubscription(depth: number): string {
  const chain = ['activityFeed', 'activity', 'owner'];
  for (let i = 0; chain.length < depth - 1; i++) chain.push(i % 2 === 0 ? 'team' : 'manager');
  return 'subscription { ' + chain.map((f) => `${f} { `).join('') + 'id' + ' }'.repeat(chain.length) + ' }';
}

/** A request straight to the endpoint (no client): its status, headers and JSON body. */
async function raw(baseUrl: string, init: RequestInit & { path?: string }) {
  const res = await fetch(sseUrl(baseUrl) + (init.path ?? ''), init);
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body, text };
}

const codesOf = (body: any): string[] => (body?.errors ?? []).map((e: any) => e.extensions?.code);

describe('subscriptions over Server-Sent Events (graphql-sse)', () => {
  let t: TestApp;
  let admin: SignedUp;
  const subs: SseSubscriber[] = [];
  const track = (s: SseSubscriber) => (subs.push(s), s);

  /** Subscribes over SSE on an instance and waits until its event bus has the listeners (the credential's and the subscription's). */
  async function subscribed(instance: { url: string; services: TestApp['services'] }, auth: string, query: string, variables?: Record<string, unknown>) {
    const before = instance.services.eventBus.subscriberCount;
    const s = track(sseSubscribe(instance.url, `Bearer ${auth}`, query, variables));
    await waitUntil(() => instance.services.eventBus.subscriberCount >= before + 2 || !!s.failure || s.completed, 5_000, 'the SSE subscription to register');
    expect(s.failure).toBeUndefined();
    return s;
  }

  /** Closes a subscription and waits until the instance has let go of its listeners (the stream's credential's and its own). */
  async function leave(instance: { services: TestApp['services'] }, s: SseSubscriber) {
    const count = instance.services.eventBus.subscriberCount;
    s.close();
    await waitUntil(() => instance.services.eventBus.subscriberCount <= count - 2, 5_000, 'the stream to let go of its listeners');
  }

  const createAccount = async (token: string, name: string) => {
    const r = await t.gql(CREATE_ACCOUNT, { i: { name } }, token);
    expect(r.errors).toBeUndefined();
    return r.data.createAccount.id as string;
  };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Streaming Co');
  });
  afterAll(async () => {
    subs.forEach((s) => s.close());
    await t.close();
  });

  it('delivers recordChanged after a mutation, with the event as the change feed has it', async () => {
    const s = await subscribed(t, admin.accessToken, RECORD_CHANGED, { types: ['ACCOUNT'] });
    const id = await createAccount(admin.accessToken, 'Streamed Ltd');
    await s.waitFor(1);
    const e = s.data[0].recordChanged;
    expect(e).toMatchObject({ type: 'account.created', entityType: 'account', entityId: id, actor: { type: 'USER', id: admin.userId } });
    expect(e.data.name).toBe('Streamed Ltd');
    const feed = await t.gql(`query($a: String) { changes(after: $a, types: [ACCOUNT]) { events { id } } }`, { a: e.cursor }, admin.accessToken);
    expect(feed.data.changes.events.map((x: { id: string }) => x.id)).not.toContain(e.id);
    await leave(t, s);
  });

  it('resumes with `after`: the events missed while away in order, then live ones, each once', async () => {
    const first = await subscribed(t, admin.accessToken, RECORD_CHANGED, { types: ['ACCOUNT'] });
    await createAccount(admin.accessToken, 'Before the break');
    await first.waitFor(1);
    const cursor = first.data[0].recordChanged.cursor;
    await leave(t, first);
    const missed: string[] = [];
    for (let i = 0; i < 12; i++) missed.push(await createAccount(admin.accessToken, `Missed ${i}`));
    const again = await subscribed(t, admin.accessToken, RECORD_CHANGED, { types: ['ACCOUNT'], after: cursor });
    await again.waitFor(12);
    const live = await createAccount(admin.accessToken, 'After the reconnect');
    await again.waitFor(13);
    await new Promise((r) => setTimeout(r, 300)); // anything duplicated would arrive by now
    expect(again.data.map((d) => d.recordChanged.entityId)).toEqual([...missed, live]);
    await leave(t, again);
  });

  it('shows a READ_ONLY user only the events it may read (no API key events), an ADMIN all; a key without READ is FORBIDDEN', async () => {
    const reader = await userWithRole(t, admin, 'READ_ONLY');
    const readOnly = await subscribed(t, reader.token, RECORD_CHANGED);
    const everything = await subscribed(t, admin.accessToken, RECORD_CHANGED);
    const key = await apiKey(t, admin, ['READ']);
    const account = await createAccount(admin.accessToken, 'Seen by all');
    const seen = (s: SseSubscriber) => s.data.map((d) => `${d.recordChanged.type} ${d.recordChanged.entityId}`);
    await waitUntil(
      () => seen(readOnly).includes(`account.created ${account}`) && seen(everything).includes(`account.created ${account}`),
      10_000,
      'the account event',
    );
    await new Promise((r) => setTimeout(r, 300));
    // The ADMIN's stream has the key's creation (so it was there to see); the READ_ONLY user's has not.
    expect(seen(everything)).toContain(`api_key.created ${key.id}`);
    expect(seen(readOnly).filter((x) => x.startsWith('api_key.'))).toEqual([]);
    expect(JSON.stringify(readOnly.results)).not.toContain(key.id);
    await leave(t, readOnly);
    await leave(t, everything);

    const writeOnly = await apiKey(t, admin, ['WRITE']);
    const refused = track(sseSubscribe(t.url, `Bearer ${writeOnly.secret}`, RECORD_CHANGED));
    await refused.ended();
    expect(refused.codes).toEqual(['FORBIDDEN']);
  });

  it('refuses a request without credentials or with invalid ones: HTTP 401, UNAUTHENTICATED', async () => {
    for (const authorization of [null, 'Bearer trellis_not-a-real-key', 'Bearer not.a.jwt', 'Basic dXNlcjpwYXNz']) {
      const s = track(sseSubscribe(t.url, authorization, RECORD_CHANGED));
      await s.ended();
      expect({ authorization, status: s.failure?.refusal?.status, codes: codesOf(s.failure?.refusal?.body) }).toEqual({
        authorization,
        status: 401,
        codes: ['UNAUTHENTICATED'],
      });
      expect(s.results).toEqual([]);
    }
    const r = await raw(t.url, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ query: RECORD_CHANGED }),
    });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(r.body.errors[0].message).toMatch(/Authorization: Bearer/);
  });

  it('refuses queries and mutations (BAD_REQUEST, pointing to /graphql): the mutation does not run', async () => {
    const mutation = track(sseSubscribe(t.url, `Bearer ${admin.accessToken}`, CREATE_ACCOUNT, { i: { name: 'Never created over SSE' } }));
    const query = track(sseSubscribe(t.url, `Bearer ${admin.accessToken}`, '{ me { kind } }'));
    for (const s of [mutation, query]) {
      await s.ended();
      expect(s.completed).toBe(true);
      expect(s.codes).toEqual(['BAD_REQUEST']);
      expect(s.results[0].errors![0].message).toMatch(/Only subscriptions.*\/graphql/);
      expect(s.data).toEqual([]);
    }
    const found = await t.gql(`{ accounts(filter: { name: { eq: "Never created over SSE" } }) { totalCount } }`, {}, admin.accessToken);
    expect(found.data.accounts.totalCount).toBe(0);
    // Without asking for an event stream (a plain GraphQL POST to the wrong path): a clear refusal too.
    const plain = await raw(t.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { kind } }' }),
    });
    expect({ status: plain.status, codes: codesOf(plain.body) }).toEqual({ status: 406, codes: ['BAD_REQUEST'] });
    expect(plain.body.errors[0].message).toMatch(/text\/event-stream.*\/graphql/);
  });

  it('refuses a document past MAX_QUERY_DEPTH or MAX_QUERY_COST with QUERY_TOO_COMPLEX and the message WebSocket and HTTP give', async () => {
    const tooDeep = deepSubscription(t.config.limits.depth + 1);
    const deepEnough = deepSubscription(t.config.limits.depth);
    const costly = 'subscription { activityFeed { activity { owner { team { members { team { members { id } } } } } } } }';
    const overSse = new Map<string, SseSubscriber>();
    for (const q of [tooDeep, costly]) {
      const sse = track(sseSubscribe(t.url, `Bearer ${admin.accessToken}`, q));
      overSse.set(q, sse);
      await sse.ended();
      const ws: Subscriber = await subscribe(t.url, `Bearer ${admin.accessToken}`, q);
      await ws.ended();
      await ws.close();
      expect(sse.codes).toEqual(['QUERY_TOO_COMPLEX']);
      expect(ws.failure?.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(sse.results[0].errors![0].message).toBe(ws.failure!.errors![0].message);
      expect(JSON.stringify(sse.results)).not.toMatch(/stack|\bat .*\.js:\d+/);
    }
    // HTTP validates a subscription's depth before refusing it for being one: the same answer.
    const http = await t.gql(tooDeep, {}, admin.accessToken);
    expect(http.errors!.map((e) => [e.extensions.code, e.message])).toEqual(
      overSse.get(tooDeep)!.results[0].errors!.map((e: any) => [e.extensions.code, e.message]),
    );
    // One level less is served.
    const ok = await subscribed(t, admin.accessToken, deepEnough);
    expect(ok.results).toEqual([]);
    await leave(t, ok);
  });

  it('ends the stream when its API key is revoked: a FORBIDDEN result, then complete', async () => {
    const key = await apiKey(t, admin, ['READ']);
    const s = await subscribed(t, key.secret, RECORD_CHANGED);
    expect((await t.gql(REVOKE_KEY, { id: key.id }, admin.accessToken)).errors).toBeUndefined();
    await s.ended();
    expect(s.completed).toBe(true);
    expect(s.codes).toEqual(['FORBIDDEN']);
    expect(s.results[s.results.length - 1].errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'CREDENTIALS_CHANGED' });
    // The key no longer opens one.
    const again = track(sseSubscribe(t.url, `Bearer ${key.secret}`, RECORD_CHANGED));
    await again.ended();
    expect(again.failure?.refusal?.status).toBe(401);
  });

  it("ends the stream at the API key's expiresAt and at the access token's exp", async () => {
    const key = await apiKey(t, admin, ['READ'], new Date(Date.now() + 2_500).toISOString());
    const token = signAccessToken({ sub: admin.userId, wid: admin.workspaceId }, t.config.jwtSecret, 2);
    const byKey = await subscribed(t, key.secret, RECORD_CHANGED);
    const byToken = await subscribed(t, token, RECORD_CHANGED);
    await new Promise((r) => setTimeout(r, 500));
    expect([byKey.completed, byToken.completed]).toEqual([false, false]);
    for (const s of [byKey, byToken]) {
      await s.ended(6_000);
      expect(s.completed).toBe(true);
      expect(s.results[s.results.length - 1].errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'CREDENTIALS_EXPIRED' });
    }
  });

  describe('connections and requests', () => {
    let c: Awaited<ReturnType<typeof startSecondInstance>>;
    beforeAll(async () => {
      c = await startSecondInstance(t, {
        WS_MAX_CONNECTIONS_PER_CREDENTIAL: '2',
        WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2',
        WS_KEEPALIVE_MS: '1000',
        WS_INIT_TIMEOUT_MS: '1000',
        MAX_RESPONSE_BYTES: '100000',
      });
    });
    afterAll(() => c.close());

    it('caps the streams of one credential together with its WebSockets (429 RATE_LIMITED, 4429), and lets go of a stream, its listeners and subscription when the client leaves', async () => {
      const key = await apiKey(t, admin, ['READ']);
      const busBefore = c.services.eventBus.subscriberCount;
      const streamsBefore = openStreams();
      const s1 = await subscribed(c, key.secret, RECORD_CHANGED);
      const s2 = await subscribed(c, key.secret, RECORD_CHANGED);
      // /metrics counts them.
      expect((await (await fetch(`${c.url}/metrics`)).text()).split('\n')).toContain('trellis_sse_streams 2');
      const s3 = track(sseSubscribe(c.url, `Bearer ${key.secret}`, RECORD_CHANGED));
      await s3.ended();
      expect({ status: s3.failure?.refusal?.status, codes: codesOf(s3.failure?.refusal?.body) }).toEqual({ status: 429, codes: ['RATE_LIMITED'] });
      // A WebSocket of the same key is one connection too many as well.
      const ws = await subscribe(c.url, `Bearer ${key.secret}`, RECORD_CHANGED);
      await ws.ended();
      expect(ws.failure?.close?.code).toBe(4429);
      // Another credential is not held back.
      const other = await subscribed(c, admin.accessToken, RECORD_CHANGED);
      // The client leaves: its listeners and subscription go, and another stream may open.
      s1.close();
      other.close();
      await waitUntil(() => c.services.eventBus.subscriberCount === busBefore + 2, 5_000, 'the streams that left to let go of their listeners');
      const s4 = await subscribed(c, key.secret, RECORD_CHANGED);
      expect(s4.failure).toBeUndefined();
      s2.close();
      s4.close();
      await waitUntil(() => c.services.eventBus.subscriberCount === busBefore && openStreams() === streamsBefore, 5_000, 'every stream to be let go');
    });

    it('single connection mode (graphql-sse client): several subscriptions over one stream', async () => {
      const client = sseClient(c.url, `Bearer ${admin.accessToken}`, { singleConnection: true });
      try {
        const before = c.services.eventBus.subscriberCount;
        const a = track(sseSubscribe(c.url, null, RECORD_CHANGED, { types: ['ACCOUNT'] }, client));
        const b = track(sseSubscribe(c.url, null, `subscription { recordChanged(types: [ACCOUNT]) { entityId } }`, {}, client));
        // One listener for the stream's credential, one per subscription.
        await waitUntil(() => c.services.eventBus.subscriberCount >= before + 3, 5_000, 'both subscriptions to register');
        const id = await createAccount(admin.accessToken, 'One stream, two subscriptions');
        await a.waitFor(1);
        await b.waitFor(1);
        expect(a.data[0].recordChanged.entityId).toBe(id);
        expect(b.data[0].recordChanged.entityId).toBe(id);
        // A third operation on the same stream is one too many (WS_MAX_SUBSCRIPTIONS_PER_CONNECTION is 2 here).
        const third = track(sseSubscribe(c.url, null, RECORD_CHANGED, {}, client));
        await third.ended();
        expect(third.failure?.refusal?.status).toBe(429);
        a.close();
        b.close();
        await waitUntil(() => c.services.eventBus.subscriberCount <= before, 5_000, 'the stream and its subscriptions to let go');
      } finally {
        client.dispose();
      }
    });

    it('single connection mode, request by request: a reservation is its credential’s only, runs at most WS_MAX_SUBSCRIPTIONS_PER_CONNECTION operations, and is let go', async () => {
      const owner = await apiKey(t, admin, ['READ']);
      const as = (secret: string, token: string, extra: Record<string, string> = {}) => ({
        authorization: `Bearer ${secret}`,
        'x-graphql-event-stream-token': token,
        ...extra,
      });
      const operation = (secret: string, token: string, operationId: string) =>
        raw(c.url, {
          method: 'POST',
          headers: as(secret, token, { 'content-type': 'application/json' }),
          body: JSON.stringify({ query: RECORD_CHANGED, extensions: { operationId } }),
        });
      const reserve = await raw(c.url, { method: 'PUT', headers: { authorization: `Bearer ${owner.secret}` } });
      expect(reserve.status).toBe(201);
      const token = reserve.text;
      // Another credential (of the same workspace) finds no such reservation.
      const rep = await userWithRole(t, admin, 'REP');
      const stolen = await operation(rep.token, token, 'x');
      expect({ status: stolen.status, codes: codesOf(stolen.body) }).toEqual({ status: 404, codes: ['NOT_FOUND'] });
      const stolenStream = await raw(c.url, { method: 'GET', headers: as(rep.token, token, { accept: 'text/event-stream' }) });
      expect({ status: stolenStream.status, codes: codesOf(stolenStream.body) }).toEqual({ status: 404, codes: ['NOT_FOUND'] });
      // Operations wait for the reservation's stream.
      const early = await operation(owner.secret, token, 'x');
      expect({ status: early.status, codes: codesOf(early.body) }).toEqual({ status: 409, codes: ['CONFLICT'] });

      const control = new AbortController();
      const stream = await fetch(sseUrl(c.url), { headers: as(owner.secret, token, { accept: 'text/event-stream' }), signal: control.signal });
      expect(stream.status).toBe(200);
      const second = await raw(c.url, { method: 'GET', headers: as(owner.secret, token, { accept: 'text/event-stream' }) });
      expect({ status: second.status, codes: codesOf(second.body) }).toEqual({ status: 409, codes: ['CONFLICT'] });
      expect((await operation(owner.secret, token, 'one')).status).toBe(202);
      expect((await operation(owner.secret, token, 'two')).status).toBe(202);
      const three = await operation(owner.secret, token, 'three');
      expect({ status: three.status, codes: codesOf(three.body) }).toEqual({ status: 429, codes: ['RATE_LIMITED'] });
      // Stopping one makes room for another.
      expect((await raw(c.url, { method: 'DELETE', headers: as(owner.secret, token), path: '?operationId=one' })).status).toBe(200);
      // A refused document is an HTTP answer in this mode (as GraphQL over HTTP has it), with its code.
      const mutation = await raw(c.url, {
        method: 'POST',
        headers: as(owner.secret, token, { 'content-type': 'application/json' }),
        body: JSON.stringify({ query: CREATE_ACCOUNT, variables: { i: { name: 'x' } }, extensions: { operationId: 'm' } }),
      });
      expect({ status: mutation.status, codes: codesOf(mutation.body) }).toEqual({ status: 400, codes: ['BAD_REQUEST'] });
      expect((await operation(owner.secret, token, 'three')).status).toBe(202);
      // The stream closes: the reservation is gone.
      control.abort();
      let gone = await operation(owner.secret, token, 'late');
      for (let i = 0; gone.status !== 404 && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 20));
        gone = await operation(owner.secret, token, `late-${i}`);
      }
      expect({ status: gone.status, codes: codesOf(gone.body) }).toEqual({ status: 404, codes: ['NOT_FOUND'] });

      // A reservation whose stream never connects is let go after WS_INIT_TIMEOUT_MS, with its connection.
      const tokens = [];
      for (let i = 0; i < 2; i++) tokens.push((await raw(c.url, { method: 'PUT', headers: { authorization: `Bearer ${owner.secret}` } })).text);
      const full = await raw(c.url, { method: 'PUT', headers: { authorization: `Bearer ${owner.secret}` } });
      expect({ status: full.status, codes: codesOf(full.body) }).toEqual({ status: 429, codes: ['RATE_LIMITED'] });
      await new Promise((r) => setTimeout(r, 1_300)); // WS_INIT_TIMEOUT_MS is 1000 here
      const late = await raw(c.url, { method: 'GET', headers: as(owner.secret, tokens[0], { accept: 'text/event-stream' }) });
      expect({ status: late.status, codes: codesOf(late.body) }).toEqual({ status: 404, codes: ['NOT_FOUND'] });
      expect((await raw(c.url, { method: 'PUT', headers: { authorization: `Bearer ${owner.secret}` } })).status).toBe(201);
    });

    it('replaces an event past MAX_RESPONSE_BYTES by a QUERY_TOO_COMPLEX result, in either mode, and goes on', async () => {
      const FEED = 'subscription { activityFeed { activity { subject body } } }';
      const single = sseClient(c.url, `Bearer ${admin.accessToken}`, { singleConnection: true });
      try {
        const before = c.services.eventBus.subscriberCount;
        const distinct = track(sseSubscribe(c.url, `Bearer ${admin.accessToken}`, FEED));
        const shared = track(sseSubscribe(c.url, null, FEED, {}, single));
        await waitUntil(() => c.services.eventBus.subscriberCount >= before + 4, 5_000, 'both subscriptions');
        const note = (subject: string, body: string) =>
          t.gql('mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }', { i: { type: 'NOTE', subject, body } }, admin.accessToken);
        // 60 000 characters, 120 000 bytes: within the field's limit, past MAX_RESPONSE_BYTES (100 000) here.
        expect((await note('Too large', 'é'.repeat(60_000))).errors).toBeUndefined();
        expect((await note('Small', 'fine')).errors).toBeUndefined();
        for (const s of [distinct, shared]) {
          await s.waitFor(2);
          expect(s.results[0].errors?.map((e: any) => e.extensions.code)).toEqual(['QUERY_TOO_COMPLEX']);
          expect(s.results[0].errors![0].message).toMatch(/MAX_RESPONSE_BYTES/);
          expect(s.results[1].data.activityFeed.activity.subject).toBe('Small');
        }
        distinct.close();
        shared.close();
      } finally {
        single.dispose();
      }
    });

    it('sends a keep-alive comment every WS_KEEPALIVE_MS on an idle stream', async () => {
      const control = new AbortController();
      const res = await fetch(sseUrl(c.url), {
        method: 'POST',
        signal: control.signal,
        headers: { authorization: `Bearer ${admin.accessToken}`, accept: 'text/event-stream', 'content-type': 'application/json' },
        body: JSON.stringify({ query: RECORD_CHANGED }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      const deadline = Date.now() + 2_700;
      while (Date.now() < deadline) {
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()))]);
        if (!chunk || chunk.done) break;
        text += Buffer.from(chunk.value).toString();
      }
      control.abort();
      // graphql-sse's first comment, then one a second (its own come every 12 s).
      expect(text.match(/^:\n\n/gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
      expect(text).not.toMatch(/^event:/m);
    });

    it('answers whatever a client sends with a status and a code, never a stack; the server keeps serving', async () => {
      const auth = { authorization: `Bearer ${admin.accessToken}` };
      const events = { ...auth, accept: 'text/event-stream' };
      const json = { 'content-type': 'application/json' };
      const cases: [string, RequestInit & { path?: string }, number, string][] = [
        ['malformed JSON', { method: 'POST', headers: { ...events, ...json }, body: '{"query": ' }, 400, 'BAD_USER_INPUT'],
        [
          'a body past MAX_BODY_BYTES',
          {
            method: 'POST',
            headers: { ...events, ...json },
            body: JSON.stringify({ query: RECORD_CHANGED, variables: { pad: 'x'.repeat(t.config.limits.bodyBytes) } }),
          },
          413,
          'BAD_USER_INPUT',
        ],
        ['no query', { method: 'POST', headers: { ...events, ...json }, body: '{}' }, 400, 'BAD_REQUEST'],
        ['a query that is no string', { method: 'POST', headers: { ...events, ...json }, body: '{"query": 42}' }, 400, 'BAD_REQUEST'],
        [
          'variables that are a list',
          { method: 'POST', headers: { ...events, ...json }, body: JSON.stringify({ query: RECORD_CHANGED, variables: [1] }) },
          400,
          'BAD_REQUEST',
        ],
        ['a JSON array', { method: 'POST', headers: { ...events, ...json }, body: '[1, 2]' }, 400, 'BAD_REQUEST'],
        ['not JSON at all', { method: 'POST', headers: { ...events, 'content-type': 'text/plain' }, body: 'subscription { x }' }, 415, 'BAD_REQUEST'],
        ['another method', { method: 'PATCH', headers: events }, 405, 'BAD_REQUEST'],
        ['DELETE without a reservation', { method: 'DELETE', headers: auth, path: '?operationId=1' }, 400, 'BAD_REQUEST'],
        [
          'an unknown reservation',
          { method: 'DELETE', headers: { ...auth, 'x-graphql-event-stream-token': 'nope' }, path: '?operationId=1' },
          404,
          'NOT_FOUND',
        ],
        ['an unknown reservation in the URL', { method: 'GET', headers: events, path: '?token=nope' }, 404, 'NOT_FOUND'],
      ];
      for (const [what, init, status, code] of cases) {
        const r = await raw(c.url, init);
        expect({ what, status: r.status, codes: codesOf(r.body) }).toEqual({ what, status, codes: [code] });
        expect(r.text).not.toMatch(/stack|\bat .*\.js:\d+/);
      }
      // An operationName the document does not have: refused in the stream, as the protocol has it.
      const unnamed = await raw(c.url, {
        method: 'POST',
        headers: { ...events, ...json },
        body: JSON.stringify({ query: 'subscription A { recordChanged { id } }', operationName: 'B' }),
      });
      expect(unnamed.status).toBe(200);
      expect(unnamed.text).toMatch(/^event: next\ndata: .*"code":"BAD_REQUEST"/m);
      expect(unnamed.text).toMatch(/^event: complete$/m);
      // A document that does not parse or validate: an event with its code, as the protocol has it.
      for (const [query, code] of [
        ['subscription {', 'GRAPHQL_PARSE_FAILED'],
        ['subscription { nothingHere }', 'GRAPHQL_VALIDATION_FAILED'],
      ]) {
        const s = track(sseSubscribe(c.url, `Bearer ${admin.accessToken}`, query));
        await s.ended();
        expect(s.codes).toEqual([code]);
      }
      const s = await subscribed(c, admin.accessToken, RECORD_CHANGED, { types: ['ACCOUNT'] });
      await createAccount(admin.accessToken, 'Still serving');
      await s.waitFor(1);
      s.close();
    });
  });
  describe('a client that stops reading', () => {
    let slow: Awaited<ReturnType<typeof startSecondInstance>>;
    beforeAll(async () => {
      slow = await startSecondInstance(t, { SUBSCRIPTION_MAX_QUEUE: '10', WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false' });
    });
    afterAll(() => slow.close());

    // As over WebSocket (test/websocket-backpressure.test.ts): what is not read is not held without end.
    it('is held back once a megabyte is unsent, then cut off with RATE_LIMITED (SUBSCRIBER_TOO_SLOW) past SUBSCRIPTION_MAX_QUEUE', async () => {
      const before = slow.services.eventBus.subscriberCount;
      const body = JSON.stringify({ query: 'subscription { activityFeed { action activity { subject body } } }' });
      let text = '';
      const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
        const req = httpRequest(
          sseUrl(slow.url),
          { method: 'POST', headers: { authorization: `Bearer ${admin.accessToken}`, accept: 'text/event-stream', 'content-type': 'application/json' } },
          resolve,
        );
        req.once('error', reject);
        req.end(body);
      });
      expect(response.statusCode).toBe(200);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      await waitUntil(() => slow.services.eventBus.subscriberCount >= before + 2, 5_000, 'the subscription');
      const create = (n: number) =>
        t.gql(
          'mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }',
          { i: { type: 'NOTE', subject: `Note ${n}`, body: `${n} `.padEnd(100_000, 'x') } },
          admin.accessToken,
        );
      const events = () =>
        text
          .split('\n\n')
          .filter((m) => m.startsWith('event: next\ndata: '))
          .map((m) => JSON.parse(m.slice('event: next\ndata: '.length)));
      await create(0);
      await waitUntil(() => events().length === 1, 10_000, 'the first event');
      // The client stops reading its socket.
      response.pause();
      const EVENTS = 200; // 20 MB: more than the socket buffers, the megabyte and the queue of 10 together
      for (let n = 1; n <= EVENTS; n++) expect((await create(n)).errors).toBeUndefined();
      // Reading again: what was sent, then the cut-off, then the end of the stream.
      let ended = false;
      response.once('end', () => (ended = true));
      response.resume();
      await waitUntil(() => ended, 20_000, 'the end of the stream');
      const results = events();
      const delivered = results.filter((r) => r.data).map((r) => r.data.activityFeed.activity.subject);
      expect(delivered.length).toBeLessThan(EVENTS);
      // In order and without a gap up to the cut-off.
      expect(delivered).toEqual(delivered.map((_: string, i: number) => `Note ${i}`));
      expect(results[results.length - 1].errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'SUBSCRIBER_TOO_SLOW' });
      expect(text).toMatch(/event: complete\ndata:\s*\n\n$/);
      await waitUntil(() => slow.services.eventBus.subscriberCount === before, 5_000, 'the stream to let go of its listeners');
    }, 90_000);
  });
});
