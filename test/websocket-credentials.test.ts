import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { signAccessToken } from '../src/modules/auth/credentials';
import { apiKey, codes, signUp, startSecondInstance, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';
import { subscribe, waitUntil, type Subscriber } from './helpers/subscriber';

const LOG_IN = 'mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken refreshToken } }';
const REFRESH = 'mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }';
const LOG_OUT = 'mutation($t: String!) { logOut(refreshToken: $t) }';
const RECORD_CHANGED = 'subscription { recordChanged { id } }';
const ME = '{ me { kind } }';

/** A `ws` WebSocket that sends these headers with its upgrade request (as a proxy in front would). */
const webSocketWith = (headers: Record<string, string>) =>
  class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  };

/** Runs one operation over a fresh graphql-ws connection and returns its one result (or the close). */
async function overWs(
  baseUrl: string,
  token: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<FormattedExecutionResult & { close?: number }> {
  const client: Client = createClient({
    url: baseUrl.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: webSocketWith(headers),
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });
  try {
    return await new Promise((resolve) => {
      let result: FormattedExecutionResult = {};
      client.subscribe(
        { query, variables },
        {
          next: (r) => void (result = r as FormattedExecutionResult),
          error: (err: any) => resolve(Array.isArray(err) ? { errors: err } : { close: err?.code }),
          complete: () => resolve(result),
        },
      );
    });
  } finally {
    await client.dispose();
  }
}

const codesOf = (r: FormattedExecutionResult) => (r.errors ?? []).map((e) => e.extensions?.code as string | undefined);

describe('auth mutations over WebSocket are limited per client address, as over HTTP (finding 6)', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp({ LOGIN_ATTEMPTS_PER_ADDRESS: '3' });
    admin = await signUp(t, 'Socket limits');
  });
  afterAll(() => t.close());

  it('counts logIn attempts over WebSocket against the address, together with those over HTTP', async () => {
    const seen: (string | undefined)[] = [];
    for (let i = 0; i < 2; i++) seen.push(...codesOf(await overWs(t.url, admin.accessToken, LOG_IN, { e: `nobody${i}@example.com`, p: 'x' })));
    seen.push(...codes(await t.gql(LOG_IN, { e: 'nobody2@example.com', p: 'x' })));
    seen.push(...codesOf(await overWs(t.url, admin.accessToken, LOG_IN, { e: 'nobody3@example.com', p: 'x' })));
    expect(seen).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED']);
    // Aliased attempts are refused as well (the first failure ends the operation: logIn is non-null).
    const aliased = await overWs(
      t.url,
      admin.accessToken,
      `mutation { a: logIn(email: "a@x.io", password: "x") { accessToken } b: logIn(email: "b@x.io", password: "x") { accessToken } }`,
    );
    expect(codesOf(aliased)).toEqual(['RATE_LIMITED']);
    // Without TRUST_PROXY, an address the client names itself changes nothing.
    expect(codesOf(await overWs(t.url, admin.accessToken, LOG_IN, { e: 'n@example.com', p: 'x' }, { 'x-forwarded-for': '203.0.113.50' }))).toEqual([
      'RATE_LIMITED',
    ]);
  });

  describe('behind a proxy (TRUST_PROXY)', () => {
    let p: TestApp;
    let owner: SignedUp;
    beforeAll(async () => {
      p = await startTestApp({ TRUST_PROXY: 'loopback', LOGIN_ATTEMPTS_PER_ADDRESS: '2' });
      owner = await signUp(p, 'Proxied sockets');
    });
    afterAll(() => p.close());

    it("takes the client's address from the upgrade request's X-Forwarded-For, as HTTP does", async () => {
      const from = (address: string, i: number) =>
        overWs(p.url, owner.accessToken, LOG_IN, { e: `someone${i}@example.com`, p: 'x' }, { 'x-forwarded-for': address });
      const seen: (string | undefined)[] = [];
      for (let i = 0; i < 3; i++) seen.push(...codesOf(await from('203.0.113.1', i)));
      expect(seen).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED']);
      // Another client behind the same proxy is not held back; over HTTP the same address is out too.
      expect(codesOf(await from('203.0.113.2', 9))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await p.gql(LOG_IN, { e: 'x@example.com', p: 'x' }, undefined, { 'x-forwarded-for': '203.0.113.1' }))).toEqual(['RATE_LIMITED']);
    });
  });
});

describe('WebSocket sessions end with their credentials (finding 7)', () => {
  let t: TestApp;
  let admin: SignedUp;
  const open: Subscriber[] = [];
  const track = (s: Subscriber) => (open.push(s), s);
  const closedWith = async (s: Subscriber, ms = 10_000) => {
    await s.ended(ms);
    return s.failure?.close?.code;
  };
  /** Resolves after `ms` with whether the subscription is still open. */
  const stillOpen = async (s: Subscriber, ms = 300) => {
    await new Promise((r) => setTimeout(r, ms));
    return !s.failure && !s.completed;
  };
  const logIn = async (email: string, password: string) => {
    const r = await t.gql(LOG_IN, { e: email, p: password });
    expect(r.errors).toBeUndefined();
    return r.data.logIn as { accessToken: string; refreshToken: string };
  };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Socket sessions');
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close()));
    await t.close();
  });

  it("closes a socket (4403) when its access token's exp passes", async () => {
    const token = signAccessToken({ sub: admin.userId, wid: admin.workspaceId }, t.config.jwtSecret, 2);
    const s = track(await subscribe(t.url, `Bearer ${token}`, RECORD_CHANGED));
    expect(await stillOpen(s, 500)).toBe(true);
    const started = Date.now();
    expect(await closedWith(s, 6_000)).toBe(4403);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("closes a socket (4403) when its API key's expiresAt passes", async () => {
    const key = await apiKey(t, admin, ['READ'], new Date(Date.now() + 2_500).toISOString());
    const s = track(await subscribe(t.url, `Bearer ${key.secret}`, RECORD_CHANGED));
    expect(await stillOpen(s, 500)).toBe(true);
    expect(await closedWith(s, 6_000)).toBe(4403);
  });

  it('closes the sockets of a session on logOut, and only those; the token no longer opens one', async () => {
    const user = await userWithRole(t, admin, 'REP');
    const one = await logIn(user.email, 'another good password');
    const two = await logIn(user.email, 'another good password');
    const s1 = track(await subscribe(t.url, `Bearer ${one.accessToken}`, RECORD_CHANGED));
    const s2 = track(await subscribe(t.url, `Bearer ${two.accessToken}`, RECORD_CHANGED));
    expect((await t.gql(LOG_OUT, { t: one.refreshToken })).data.logOut).toBe(true);
    expect(await closedWith(s1)).toBe(4403);
    expect(await stillOpen(s2)).toBe(true);
    const again = track(await subscribe(t.url, `Bearer ${one.accessToken}`, RECORD_CHANGED));
    expect(await closedWith(again)).toBe(4403);
    // Over HTTP too, the ended session's access token is refused; the other session's works.
    expect(codes(await t.gql(ME, {}, one.accessToken))).toEqual(['UNAUTHENTICATED']);
    expect((await t.gql(ME, {}, two.accessToken)).errors).toBeUndefined();
  });

  it("closes every socket of a user whose password changes, the changer's included", async () => {
    const user = await userWithRole(t, admin, 'REP');
    const one = await logIn(user.email, 'another good password');
    const s1 = track(await subscribe(t.url, `Bearer ${one.accessToken}`, RECORD_CHANGED));
    const s2 = track(await subscribe(t.url, `Bearer ${user.token}`, RECORD_CHANGED));
    const other = track(await subscribe(t.url, `Bearer ${admin.accessToken}`, RECORD_CHANGED));
    const r = await t.gql(
      'mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }',
      { id: user.id, i: { password: 'a brand new password' } },
      one.accessToken,
    );
    expect(r.errors).toBeUndefined();
    expect(await closedWith(s1)).toBe(4403);
    expect(await closedWith(s2)).toBe(4403);
    expect(await stillOpen(other)).toBe(true);
    // A rename is no reason to end a session.
    const fresh = await logIn(user.email, 'a brand new password');
    const s3 = track(await subscribe(t.url, `Bearer ${fresh.accessToken}`, RECORD_CHANGED));
    expect(
      (
        await t.gql(
          'mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }',
          { id: user.id, i: { name: 'Renamed' } },
          fresh.accessToken,
        )
      ).errors,
    ).toBeUndefined();
    expect(await stillOpen(s3, 500)).toBe(true);
  });

  it("closes a session's sockets when its refresh token is replayed (the family is revoked)", async () => {
    const user = await userWithRole(t, admin, 'REP');
    const session = await logIn(user.email, 'another good password');
    const s = track(await subscribe(t.url, `Bearer ${session.accessToken}`, RECORD_CHANGED));
    expect((await t.gql(REFRESH, { t: session.refreshToken })).errors).toBeUndefined();
    expect(await stillOpen(s)).toBe(true);
    expect(codes(await t.gql(REFRESH, { t: session.refreshToken }))).toEqual(['UNAUTHENTICATED']);
    expect(await closedWith(s)).toBe(4403);
  });

  it('closes sockets held on another instance (log-out and key revocation travel through the event log)', async () => {
    const b = await startSecondInstance(t);
    try {
      const user = await userWithRole(t, admin, 'REP');
      const session = await logIn(user.email, 'another good password');
      const key = await apiKey(t, admin, ['READ']);
      const onB = track(await subscribe(b.url, `Bearer ${session.accessToken}`, RECORD_CHANGED));
      const keyOnB = track(await subscribe(b.url, `Bearer ${key.secret}`, RECORD_CHANGED));
      await waitUntil(() => b.services.eventBus.subscriberCount >= 2, 5_000, 'the sockets on B');
      expect((await t.gql(LOG_OUT, { t: session.refreshToken })).data.logOut).toBe(true);
      expect(await closedWith(onB)).toBe(4403);
      expect(await stillOpen(keyOnB)).toBe(true);
      expect((await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: key.id }, admin.accessToken)).errors).toBeUndefined();
      expect(await closedWith(keyOnB)).toBe(4403);
    } finally {
      await b.close();
    }
  });
});
