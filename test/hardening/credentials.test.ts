import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { apiKey, codes, signUp, userWithRole, type SignedUp, type TestApp } from '../helpers/app';
import { expectNoStack, startHardeningApp, TEST_JWT_SECRET, until } from './support/app';
import { wsOnce } from './support/ws';

/**
 * Forged and stale credentials, over HTTP and over graphql-ws: every one is refused the same way as
 * garbage (UNAUTHENTICATED; a socket closed with 4403), and a correctly made twin of each is
 * accepted, so that each case fails for its one flaw. (test/auth.test.ts covers the basic JWT flaws
 * over HTTP; this file adds algorithm confusion, claim binding, the WebSocket side, exact API key
 * expiry, and the refresh race.)
 */

const ME = '{ me { kind workspace { id } } }';
const REFRESH = 'mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }';
const LOGIN = 'mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken refreshToken } }';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const hmac = (alg: 'sha256', key: string | Buffer, data: string) => createHmac(alg, key).update(data).digest('base64url');
/** A JWT put together by hand: any header, any payload, any signature. */
const craft = (header: object, payload: object, sign?: (data: string) => string) => {
  const data = `${b64(header)}.${b64(payload)}`;
  return `${data}.${sign ? sign(data) : ''}`;
};

describe('forged and stale credentials', () => {
  let t: TestApp;
  let admin: SignedUp;
  let other: SignedUp;
  beforeAll(async () => {
    // No API key cache: expiry is checked exactly (the cached case is checked below, with its bound).
    t = await startHardeningApp({ API_KEY_CACHE_MS: '0' });
    [admin, other] = [await signUp(t, 'Creds'), await signUp(t, 'Other creds')];
  });
  afterAll(() => t.close());

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({
    wid: admin.workspaceId,
    sub: admin.userId,
    iss: 'trellis',
    aud: 'trellis-api',
    iat: now(),
    exp: now() + 600,
    ...over,
  });
  const hs256 = (payload: object, key: string | Buffer = TEST_JWT_SECRET) => craft({ alg: 'HS256', typ: 'JWT' }, payload, (d) => hmac('sha256', key, d));

  /** Refused on HTTP (UNAUTHENTICATED, nothing of the workspace) and on a new socket (4403). */
  async function expectRefused(token: string): Promise<void> {
    const h = await t.gql(ME, {}, token);
    expect(codes(h)).toEqual(['UNAUTHENTICATED']);
    expect(h.data ?? null).toBeNull();
    expectNoStack(h.body);
    expect(JSON.stringify(h.body)).not.toContain(admin.workspaceId);
    const w = await wsOnce(t.url, `Bearer ${token}`, ME);
    expect({ close: w.close?.code, results: w.results }).toEqual({ close: 4403, results: [] });
  }

  async function expectAccepted(token: string, workspaceId = admin.workspaceId): Promise<void> {
    const h = await t.gql(ME, {}, token);
    expect(h.errors).toBeUndefined();
    expect(h.data.me.workspace.id).toBe(workspaceId);
    const w = await wsOnce(t.url, `Bearer ${token}`, ME);
    expect(w.close).toBeUndefined();
    expect(w.results[0]?.data).toEqual(h.data);
  }

  describe('access tokens', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

    const forged: [string, () => string][] = [
      ['alg none (jsonwebtoken)', () => jwt.sign(claims(), '', { algorithm: 'none' })],
      ['alg "None", no signature', () => craft({ alg: 'None', typ: 'JWT' }, claims())],
      ['alg "NONE", the signature of a real token kept', () => craft({ alg: 'NONE' }, claims()) + jwt.sign(claims(), TEST_JWT_SECRET).split('.')[2]],
      ['HS256 signed with the public-key-shaped text (RS/HS confusion)', () => hs256(claims(), publicPem)],
      ['RS256 signed with a private key', () => jwt.sign(claims(), privateKey, { algorithm: 'RS256' })],
      ['HS512 with the right secret (the algorithm is pinned)', () => jwt.sign(claims(), TEST_JWT_SECRET, { algorithm: 'HS512' })],
      ['HS384 with the right secret', () => jwt.sign(claims(), TEST_JWT_SECRET, { algorithm: 'HS384' })],
      ['wrong audience', () => hs256(claims({ aud: 'another-api' }))],
      ['no audience', () => hs256(claims({ aud: undefined }))],
      ['wrong issuer', () => hs256(claims({ iss: 'evil' }))],
      ['no issuer', () => hs256(claims({ iss: undefined }))],
      ['no exp', () => hs256(claims({ exp: undefined }))],
      ['exp as a string', () => hs256(claims({ exp: String(now() + 600) }))],
      ['expired a minute ago', () => hs256(claims({ exp: now() - 60, iat: now() - 700 }))],
      ['nbf an hour ahead', () => hs256(claims({ nbf: now() + 3600 }))],
      ['sub that is no uuid', () => hs256(claims({ sub: "' OR 1=1 --" }))],
      ['wid that is no uuid', () => hs256(claims({ wid: "x'; SET app.workspace_id = '*" }))],
      ["another workspace's wid for this user (claims that do not belong together)", () => hs256(claims({ wid: other.workspaceId }))],
      ['a user id that does not exist', () => hs256(claims({ sub: '00000000-0000-4000-8000-000000000000' }))],
      [
        'the payload changed, the signature kept',
        () => {
          const [h, , s] = hs256(claims()).split('.');
          return `${h}.${b64(claims({ wid: other.workspaceId, sub: other.userId }))}.${s}`;
        },
      ],
      ['the signature truncated', () => hs256(claims()).slice(0, -3)],
      ['four segments', () => `${hs256(claims())}.x`],
    ];

    it.each(forged)('%s: refused over HTTP and WebSocket', async (_name, make) => {
      await expectRefused(make());
    });

    it('a token made the same way, with no flaw, is accepted on both (the cases above fail for their flaw alone)', async () => {
      await expectAccepted(hs256(claims()));
      await expectAccepted(
        jwt.sign({ wid: admin.workspaceId }, TEST_JWT_SECRET, {
          algorithm: 'HS256',
          subject: admin.userId,
          issuer: 'trellis',
          audience: 'trellis-api',
          expiresIn: 600,
        }),
      );
      await expectAccepted(hs256(claims({ wid: other.workspaceId, sub: other.userId })), other.workspaceId);
      // Within the 5 s clock tolerance.
      await expectAccepted(hs256(claims({ nbf: now() + 2 })));
    });

    it('a deactivated user is refused at once, though their token is well signed and unexpired', async () => {
      const victim = await userWithRole(t, admin, 'REP');
      await expectAccepted(victim.token);
      const d = await t.gql('mutation($id: ID!) { deactivateUser(id: $id) { active } }', { id: victim.id }, admin.accessToken);
      expect(d.data.deactivateUser.active).toBe(false);
      await expectRefused(victim.token);
    });

    it('malformed Authorization headers are refused, not ignored (a request with bad credentials is not anonymous)', async () => {
      for (const header of [`Token ${admin.accessToken}`, `Bearer ${admin.accessToken} extra`, 'Bearer', `Basic ${b64('a:b')}`]) {
        const me = await t.gql(ME, {}, undefined, { authorization: header });
        expect({ header, codes: codes(me) }).toEqual({ header, codes: ['UNAUTHENTICATED'] });
      }
    });
  });

  describe('API keys', () => {
    it('a revoked key is refused at once, over HTTP and on new sockets; other keys keep working', async () => {
      const [key, sibling] = [await apiKey(t, admin, ['READ']), await apiKey(t, admin, ['READ'])];
      await expectAccepted(key.secret);
      const r = await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: key.id }, admin.accessToken);
      expect(r.data.revokeApiKey.revokedAt).toBeTruthy();
      await expectRefused(key.secret);
      await expectAccepted(sibling.secret);
      // One character off, or the prefix alone: refused the same way.
      await expectRefused(sibling.secret.slice(0, -1) + (sibling.secret.endsWith('A') ? 'B' : 'A'));
      await expectRefused('trl_');
    });

    it('an expiring key works until its expiresAt and never after (API_KEY_CACHE_MS=0: exactly)', async () => {
      const expiresAt = Date.now() + 2_000;
      const key = await apiKey(t, admin, ['READ'], new Date(expiresAt).toISOString());
      await expectAccepted(key.secret);
      let firstRefusal = 0;
      await until(
        'the key to expire',
        async () => {
          const sentAt = Date.now();
          const r = await t.gql(ME, {}, key.secret);
          if (!r.errors) {
            // Accepted: it was sent before the expiry.
            expect(sentAt).toBeLessThan(expiresAt + 50);
            return false;
          }
          expect(codes(r)).toEqual(['UNAUTHENTICATED']);
          firstRefusal = sentAt;
          return true;
        },
        6_000,
      );
      expect(firstRefusal).toBeGreaterThanOrEqual(expiresAt - 50);
      expect(firstRefusal).toBeLessThan(expiresAt + 500);
      for (let i = 0; i < 5; i++) await expectRefused(key.secret);
    });

    it('with the cache on, a revoked key is still refused at once, and an expired one within API_KEY_CACHE_MS', async () => {
      const cached = await startHardeningApp({ API_KEY_CACHE_MS: '1000' });
      try {
        const owner = await signUp(cached, 'Cached keys');
        const revoked = await apiKey(cached, owner, ['READ']);
        expect((await cached.gql(ME, {}, revoked.secret)).errors).toBeUndefined();
        await cached.gql('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: revoked.id }, owner.accessToken);
        expect(codes(await cached.gql(ME, {}, revoked.secret))).toEqual(['UNAUTHENTICATED']);

        const expiresAt = Date.now() + 1_500;
        const expiring = await apiKey(cached, owner, ['READ'], new Date(expiresAt).toISOString());
        let lastAccepted = 0;
        await until(
          'the cached key to stop working',
          async () => {
            const sentAt = Date.now();
            const r = await cached.gql(ME, {}, expiring.secret);
            if (!r.errors) lastAccepted = sentAt;
            return !!r.errors;
          },
          6_000,
        );
        // Stale for at most the cache's TTL after the expiry, never longer.
        expect(lastAccepted).toBeLessThan(expiresAt + cached.config.apiKeyCacheMs + 100);
        for (let i = 0; i < 3; i++) expect(codes(await cached.gql(ME, {}, expiring.secret))).toEqual(['UNAUTHENTICATED']);
      } finally {
        await cached.close();
      }
    });
  });

  describe('refresh tokens', () => {
    const logIn = async (who: { email: string; password: string }) => {
      const r = await t.gql(LOGIN, { e: who.email, p: who.password });
      expect(r.errors).toBeUndefined();
      return r.data.logIn as { accessToken: string; refreshToken: string };
    };
    const refresh = (token: string) => t.gql(REFRESH, { t: token });
    const reuseEvents = async () =>
      (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM event WHERE type = 'user.refresh_token_reused' AND entity_id = $1`, [admin.userId]))[0].n;

    it('reusing a rotated token ends every token of that log-in, and only of that log-in', async () => {
      const session = await logIn(admin);
      const bystander = await logIn(admin);
      const rotated = await refresh(session.refreshToken);
      expect(rotated.errors).toBeUndefined();
      const before = await reuseEvents();
      expect(codes(await refresh(session.refreshToken))).toEqual(['UNAUTHENTICATED']);
      expect(await reuseEvents()).toBe(before + 1);
      // The thief's (or the owner's) newer token is dead too; another log-in is not.
      expect(codes(await refresh(rotated.data.refreshToken.refreshToken))).toEqual(['UNAUTHENTICATED']);
      expect((await refresh(bystander.refreshToken)).errors).toBeUndefined();
    });

    it('10 concurrent refreshes of one token: exactly one winner, and the reuse by the others ends the family', async () => {
      const session = await logIn(admin);
      const bystander = await logIn(admin);
      const before = await reuseEvents();
      const results = await Promise.all(Array.from({ length: 10 }, () => refresh(session.refreshToken)));
      const winners = results.filter((r) => !r.errors);
      expect(winners).toHaveLength(1);
      for (const r of results.filter((x) => x.errors)) expect(codes(r)).toEqual(['UNAUTHENTICATED']);
      expect(await reuseEvents()).toBeGreaterThan(before);
      // The family ended, the winner's new tokens with it: its access token names the session, so it is refused at once too.
      expect(codes(await t.gql(ME, {}, winners[0].data.refreshToken.accessToken))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await refresh(winners[0].data.refreshToken.refreshToken))).toEqual(['UNAUTHENTICATED']);
      const rows = await t.sql<{ used: number; live: number }>(
        `SELECT count(*) FILTER (WHERE used_at IS NOT NULL)::int AS used, count(*) FILTER (WHERE revoked_at IS NULL AND used_at IS NULL)::int AS live
         FROM refresh_token WHERE family_id = (SELECT family_id FROM refresh_token WHERE token_hash = encode(sha256($1::bytea), 'hex'))`,
        [session.refreshToken],
      );
      expect(rows).toEqual([{ used: 1, live: 0 }]);
      expect((await refresh(bystander.refreshToken)).errors).toBeUndefined();
    });

    it('an expired refresh token is refused, and is no reuse (the family is not ended)', async () => {
      const session = await logIn(admin);
      await t.sql(`UPDATE refresh_token SET expires_at = now() - interval '1 second' WHERE token_hash = encode(sha256($1::bytea), 'hex')`, [
        session.refreshToken,
      ]);
      const before = await reuseEvents();
      expect(codes(await refresh(session.refreshToken))).toEqual(['UNAUTHENTICATED']);
      expect(await reuseEvents()).toBe(before);
      const [row] = await t.sql<{ revoked_at: Date | null; used_at: Date | null }>(
        `SELECT revoked_at, used_at FROM refresh_token WHERE token_hash = encode(sha256($1::bytea), 'hex')`,
        [session.refreshToken],
      );
      expect(row).toEqual({ revoked_at: null, used_at: null });
    });

    it("a deactivated user's refresh token is refused, and tokens are no credentials for the API", async () => {
      const victim = await userWithRole(t, admin, 'REP');
      const session = await logIn({ email: victim.email, password: 'another good password' });
      await t.gql('mutation($id: ID!) { deactivateUser(id: $id) { id } }', { id: victim.id }, admin.accessToken);
      expect(codes(await refresh(session.refreshToken))).toEqual(['UNAUTHENTICATED']);
      // A refresh token sent as a bearer token is not an access token.
      const fresh = await logIn(admin);
      await expectRefused(fresh.refreshToken);
    });
  });
});
