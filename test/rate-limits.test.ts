import { signUp, startSecondInstance, startTestApp, type SignedUp, type TestApp } from './helpers/app';

const PAGE = `query($n: Int) { accounts(first: $n) { nodes { id name owner { name } } } }`;

describe('rate limits', () => {
  describe('by query cost', () => {
    let t: TestApp;
    let admin: SignedUp;
    beforeAll(async () => {
      t = await startTestApp({ RATE_LIMIT_CAPACITY: '300', RATE_LIMIT_REFILL_PER_SECOND: '100' });
      admin = await signUp(t, 'Limited');
    });
    afterAll(() => t.close());

    it('reports extensions.cost on every answer: requested, remaining, resetAt', async () => {
      const r = await t.gql(`{ me { kind } }`, {}, admin.accessToken);
      const cost = r.body.extensions.cost;
      expect(cost.requested).toBeGreaterThanOrEqual(1);
      expect(cost.remaining).toBeLessThanOrEqual(300 - cost.requested);
      expect(Date.parse(cost.resetAt)).toBeGreaterThan(Date.now() - 1000);
      // A connection costs what its page size asks for.
      const small = (await t.gql(PAGE, { n: 5 }, admin.accessToken)).body.extensions.cost.requested;
      const big = (await t.gql(PAGE, { n: 50 }, admin.accessToken)).body.extensions.cost.requested;
      expect(big).toBeGreaterThan(small * 5);
    });

    it('answers RATE_LIMITED (HTTP 429, Retry-After) once the bucket is spent, runs nothing, and lets the caller in again after the wait', async () => {
      let limited;
      for (let i = 0; i < 20 && !limited; i++) {
        const r = await t.gql(`mutation($n: String!) { createAccount(input: { name: $n }) { id } }`, { n: `Spender ${i}` }, admin.accessToken);
        if (r.errors?.[0]?.extensions.code === 'RATE_LIMITED') limited = r;
      }
      // Each createAccount costs a few points; big pages spend the rest.
      for (let i = 0; i < 20 && !limited; i++) {
        const r = await t.gql(PAGE, { n: 100 }, admin.accessToken);
        if (r.errors?.[0]?.extensions.code === 'RATE_LIMITED') limited = r;
      }
      expect(limited).toBeDefined();
      expect(limited!.status).toBe(429);
      const err = limited!.errors![0];
      expect(err.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(err.extensions.http).toBeUndefined();
      const before = (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM account WHERE name = 'Blocked one'`))[0].n;
      const blocked = await t.gql(`mutation { createAccount(input: { name: "Blocked one" }) { id } }`, {}, admin.accessToken);
      if (blocked.errors?.[0]?.extensions.code === 'RATE_LIMITED') {
        expect((await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM account WHERE name = 'Blocked one'`))[0].n).toBe(before);
      }
      await new Promise((r) => setTimeout(r, 3500));
      const again = await t.gql(`{ me { kind } }`, {}, admin.accessToken);
      expect(again.errors).toBeUndefined();
    });

    it('is shared by every instance (the buckets live in Postgres)', async () => {
      const other = await signUp(t, 'Shared bucket');
      const b = await startSecondInstance(t, { RATE_LIMIT_CAPACITY: '300', RATE_LIMIT_REFILL_PER_SECOND: '100' });
      try {
        const spent = (await t.gql(PAGE, { n: 40 }, other.accessToken)).body.extensions.cost;
        await new Promise((r) => setTimeout(r, 400)); // instance A writes its charges every 200 ms
        const onB = await fetch(`${b.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${other.accessToken}` },
          body: JSON.stringify({ query: '{ me { kind } }' }),
        });
        const body = (await onB.json()) as any;
        // B starts from the level A wrote (minus what drained since), not from a full bucket.
        expect(body.extensions.cost.remaining).toBeLessThan(300 - body.extensions.cost.requested);
        expect(body.extensions.cost.remaining).toBeLessThanOrEqual(spent.remaining + 100);
      } finally {
        await b.close();
      }
    });
  });

  describe('sign-in attempts', () => {
    let t: TestApp;
    let admin: SignedUp;
    const LOG_IN = `mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }`;
    beforeAll(async () => {
      t = await startTestApp({ LOGIN_ATTEMPTS_PER_ACCOUNT: '3', LOGIN_ATTEMPTS_PER_ADDRESS: '12' });
      admin = await signUp(t, 'Guarded');
    });
    afterAll(() => t.close());

    it('locks an account out after 3 wrong passwords, even for the right one; other accounts still sign in; success resets', async () => {
      for (let i = 0; i < 3; i++) expect((await t.gql(LOG_IN, { e: admin.email, p: `wrong ${i}` })).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
      const locked = await t.gql(LOG_IN, { e: admin.email, p: admin.password });
      expect(locked.errors?.[0].extensions.code).toBe('RATE_LIMITED');
      expect(locked.status).toBe(429);
      expect(locked.errors?.[0].message).not.toMatch(/password/i);
      const other = await signUp(t, 'Unaffected');
      expect((await t.gql(LOG_IN, { e: other.email, p: other.password })).errors).toBeUndefined();
      // A success forgives earlier failures.
      expect((await t.gql(LOG_IN, { e: other.email, p: 'nope' })).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
      expect((await t.gql(LOG_IN, { e: other.email, p: other.password })).errors).toBeUndefined();
      const rows = await t.sql<{ key: string }>(`SELECT key FROM rate_limit_login`);
      expect(JSON.stringify(rows)).not.toContain(admin.email);
    });

    it('limits attempts per client address, whatever the account', async () => {
      let code: string | undefined;
      for (let i = 0; i < 15 && code !== 'RATE_LIMITED'; i++) code = (await t.gql(LOG_IN, { e: `nobody${i}@example.com`, p: 'x' })).errors?.[0].extensions.code;
      expect(code).toBe('RATE_LIMITED');
      // Without TRUST_PROXY, an address a client names itself changes nothing.
      expect((await t.gql(LOG_IN, { e: 'nobody@example.com', p: 'x' }, undefined, { 'x-forwarded-for': '203.0.113.99' })).errors?.[0].extensions.code).toBe(
        'RATE_LIMITED',
      );
    });
  });

  describe('behind a proxy (TRUST_PROXY)', () => {
    let t: TestApp;
    const LOG_IN = `mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }`;
    beforeAll(async () => {
      // The test client connects from loopback: it plays the proxy.
      t = await startTestApp({ TRUST_PROXY: 'loopback', LOGIN_ATTEMPTS_PER_ADDRESS: '4' });
    });
    afterAll(() => t.close());
    const attempt = (from: string, i: number) => t.gql(LOG_IN, { e: `someone${i}@example.com`, p: 'x' }, undefined, { 'x-forwarded-for': from });

    it('counts sign-in attempts per client address as the proxy reports it', async () => {
      const codes: (string | undefined)[] = [];
      for (let i = 0; i < 5; i++) codes.push((await attempt('203.0.113.1', i)).errors?.[0].extensions.code);
      expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED']);
      // Another client behind the same proxy is not held back by the first one's attempts.
      expect((await attempt('203.0.113.2', 9)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
      // A client's own X-Forwarded-For entry before the proxy's does not help it: the proxy's last entry counts.
      expect((await attempt('198.51.100.7, 203.0.113.1', 10)).errors?.[0].extensions.code).toBe('RATE_LIMITED');
    });
  });
});
