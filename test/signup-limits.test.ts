import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { hashPassword } from '../src/modules/auth/credentials';
import { codes, signUp, startSecondInstance, startTestApp, type TestApp } from './helpers/app';

const SIGN_UP = 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken workspace { id } } }';
const LOG_IN = 'mutation($e: String!, $p: String!, $w: ID) { logIn(email: $e, password: $p, workspaceId: $w) { accessToken workspace { id } } }';
let n = 0;
const input = (email = `owner${++n}-${Date.now()}@example.com`) => ({ workspaceName: `Shop ${n}`, name: 'Owner', email, password: 'a long enough password' });
const workspaces = async (t: TestApp) => Number((await t.sql<{ n: string }>('SELECT count(*) AS n FROM workspace'))[0].n);

/** `count` signUp fields under aliases in one request. */
const aliasedSignUps = (count: number) =>
  'mutation {' +
  Array.from(
    { length: count },
    (_, i) =>
      ` s${i}: signUp(input: { workspaceName: "Alias ${i}", name: "A", email: "alias${i}-${Date.now()}@example.com", password: "a long enough password" }) { workspace { id } }`,
  ).join('') +
  ' }';

describe('sign-up limits (finding 5)', () => {
  describe('per client address', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ TRUST_PROXY: 'loopback', SIGNUP_PER_ADDRESS: '3' });
    });
    afterAll(() => t.close());
    const from = (address: string) => t.gql(SIGN_UP, { i: input() }, undefined, { 'x-forwarded-for': address });

    it('lets an address create SIGNUP_PER_ADDRESS workspaces, then answers RATE_LIMITED (429, Retry-After) and creates nothing', async () => {
      for (let i = 0; i < 3; i++) expect((await from('203.0.113.10')).errors).toBeUndefined();
      const before = await workspaces(t);
      const refused = await from('203.0.113.10');
      expect(codes(refused)).toEqual(['RATE_LIMITED']);
      expect(refused.status).toBe(429);
      expect(Number(refused.errors![0].extensions.retryAfterSeconds)).toBeGreaterThan(0);
      expect(await workspaces(t)).toBe(before);
      // Another address is not held back.
      expect((await from('203.0.113.11')).errors).toBeUndefined();
    });

    it('counts each aliased signUp of one request', async () => {
      const before = await workspaces(t);
      const r = await t.gql(aliasedSignUps(5), {}, undefined, { 'x-forwarded-for': '203.0.113.12' });
      expect(codes(r)).toEqual(['RATE_LIMITED']);
      expect(await workspaces(t)).toBe(before + 3);
    });

    it('counts sign-ups over WebSocket against the address of the upgrade request', async () => {
      const owner = (await t.gql(SIGN_UP, { i: input() }, undefined, { 'x-forwarded-for': '203.0.113.13' })).data.signUp;
      const client = createClient({
        url: t.url.replace(/^http/, 'ws') + '/graphql',
        webSocketImpl: class extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols, { headers: { 'x-forwarded-for': '203.0.113.14' } });
          }
        },
        connectionParams: { authorization: `Bearer ${owner.accessToken}` },
        retryAttempts: 0,
        lazy: true,
      });
      try {
        const seen: unknown[] = [];
        for (let i = 0; i < 4; i++) {
          const r = await new Promise<any>((resolve) => {
            let last: any;
            client.subscribe({ query: SIGN_UP, variables: { i: input() } }, { next: (x) => void (last = x), error: resolve, complete: () => resolve(last) });
          });
          seen.push(r.errors?.[0]?.extensions?.code ?? 'ok');
        }
        expect(seen).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED']);
      } finally {
        await client.dispose();
      }
    });
  });

  describe('overall, and shared between instances', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ TRUST_PROXY: 'loopback', SIGNUP_PER_WINDOW: '4' });
    });
    afterAll(() => t.close());

    it('limits sign-ups from all addresses together to SIGNUP_PER_WINDOW, counted by every instance', async () => {
      const b = await startSecondInstance(t, { TRUST_PROXY: 'loopback', SIGNUP_PER_WINDOW: '4' });
      try {
        const at = (url: string, i: number) =>
          fetch(url + '/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i}` },
            body: JSON.stringify({ query: SIGN_UP, variables: { i: input() } }),
          }).then(async (r) => ((await r.json()) as any).errors?.[0]?.extensions?.code ?? 'ok');
        const seen = [await at(t.url, 1), await at(b.url, 2), await at(t.url, 3), await at(b.url, 4), await at(t.url, 5), await at(b.url, 6)];
        expect(seen).toEqual(['ok', 'ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED']);
      } finally {
        await b.close();
      }
    });
  });

  describe('SIGNUP=closed', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ SIGNUP: 'closed' });
    });
    afterAll(() => t.close());

    it('refuses signUp with FORBIDDEN and a clear message, and creates nothing', async () => {
      const before = await workspaces(t);
      const attempt = input();
      const r = await t.gql(SIGN_UP, { i: attempt });
      expect(codes(r)).toEqual(['FORBIDDEN']);
      expect(r.errors![0].message).toMatch(/sign-up is closed/i);
      expect(await workspaces(t)).toBe(before);
      expect(await t.sql('SELECT 1 FROM app_user WHERE email = $1', [attempt.email])).toEqual([]);
    });

    it("leaves the operator's ways to create a workspace open", async () => {
      const made = await t.services.auth.createWorkspace(input());
      expect((await t.gql(LOG_IN, { e: made.user.email, p: 'a long enough password' })).errors).toBeUndefined();
    });
  });
});

describe('sign-in checks a bounded number of accounts per email (finding 5)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_ACCOUNTS_PER_EMAIL: '5' });
  });
  afterAll(() => t.close());

  /** `count` workspaces, each with an ADMIN under `email` (what `count` sign-ups would leave), created now. */
  async function squat(email: string, count: number): Promise<void> {
    const hash = await hashPassword('the attacker knows this one');
    await t.sql(
      `WITH w AS (INSERT INTO workspace (id, name) SELECT gen_random_uuid(), 'Squat ' || i FROM generate_series(1, $1::int) i RETURNING id)
       INSERT INTO app_user (workspace_id, id, email, name, password_hash, role) SELECT id, gen_random_uuid(), $2, 'Squatter', $3, 'ADMIN' FROM w`,
      [count, email, hash],
    );
  }
  async function timedLogIn(email: string, password: string, workspaceId?: string) {
    const started = process.hrtime.bigint();
    const r = await t.gql(LOG_IN, { e: email, p: password, w: workspaceId });
    return { r, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  }

  it("300 workspaces made under a victim's email afterwards neither slow the victim's log-in down nor lock the victim out", async () => {
    const victim = await signUp(t, 'Victim Inc');
    const alone: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { r, ms } = await timedLogIn(victim.email, victim.password);
      expect(r.errors).toBeUndefined();
      alone.push(ms);
    }
    await squat(victim.email, 300);
    const squatted: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { r, ms } = await timedLogIn(victim.email, victim.password);
      expect(r.errors).toBeUndefined();
      expect(r.data.logIn.workspace.id).toBe(victim.workspaceId);
      squatted.push(ms);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
    // Five argon2 checks at most instead of 301 (one takes ~25 ms here, 300 took seconds).
    console.log(`victim log-in: alone ${median(alone).toFixed(0)} ms, with 300 workspaces under the email ${median(squatted).toFixed(0)} ms`);
    expect(median(squatted)).toBeLessThan(median(alone) * 5 + 500);
    // A wrong password costs no more either.
    expect((await timedLogIn(victim.email, 'not the password')).ms).toBeLessThan(median(alone) * 5 + 500);
  });

  it('checks the oldest accounts first: one created after the first five needs its workspaceId, and gets in with it', async () => {
    const email = `late-${Date.now()}@example.com`;
    await squat(email, 5);
    const late = await t.services.auth.createWorkspace({ workspaceName: 'Late', name: 'Late', email, password: 'the late owner password' });
    expect(codes((await timedLogIn(email, 'the late owner password')).r)).toEqual(['UNAUTHENTICATED']);
    const { r, ms } = await timedLogIn(email, 'the late owner password', late.workspace.id);
    expect(r.errors).toBeUndefined();
    expect(r.data.logIn.workspace.id).toBe(late.workspace.id);
    expect(ms).toBeLessThan(2_000);
  });
});
