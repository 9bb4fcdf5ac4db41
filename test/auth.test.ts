import jwt from 'jsonwebtoken';
import { apiKey, codes, signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';

const ME = '{ me { kind role scopes user { id email } apiKey { id name } workspace { id name } } }';
const LOGIN =
  'mutation($e: String!, $p: String!, $w: ID) { logIn(email: $e, password: $p, workspaceId: $w) { accessToken refreshToken user { id } workspace { id } } }';
const REFRESH = 'mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }';

describe('authentication', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    // A short API key cache, so that its expiry can be waited for.
    t = await startTestApp({ API_KEY_CACHE_MS: '2000' });
    admin = await signUp(t, 'Acme');
  });
  afterAll(() => t.close());

  it('signUp creates a workspace and its ADMIN, and returns working tokens', async () => {
    const r = await t.gql(ME, {}, admin.accessToken);
    expect(r.errors).toBeUndefined();
    expect(r.data.me).toMatchObject({
      kind: 'USER',
      role: 'ADMIN',
      scopes: ['READ', 'WRITE'],
      user: { id: admin.userId },
      workspace: { id: admin.workspaceId, name: 'Acme' },
    });
    const [hash] = await t.sql<{ password_hash: string }>('SELECT password_hash FROM app_user WHERE id = $1', [admin.userId]);
    expect(hash.password_hash).toMatch(/^\$argon2id\$/);
  });

  it('rejects sign-up input that is not valid, naming the fields, and writes nothing', async () => {
    const before = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM workspace');
    const r = await t.gql('mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }', {
      i: { workspaceName: '', name: 'X', email: 'not-an-email', password: 'short' },
    });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    const fields = r.errors![0].extensions.fields!.map((f) => f.field).sort();
    expect(fields).toEqual(['email', 'password', 'workspaceName']);
    expect(await t.sql('SELECT count(*)::int AS n FROM workspace')).toEqual(before);
  });

  it('logs in with email and password, and refuses a wrong password or unknown email alike', async () => {
    const ok = await t.gql(LOGIN, { e: admin.email, p: admin.password });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.logIn.user.id).toBe(admin.userId);
    const wrong = await t.gql(LOGIN, { e: admin.email, p: 'wrong password!' });
    const unknown = await t.gql(LOGIN, { e: 'nobody@example.com', p: 'wrong password!' });
    expect(codes(wrong)).toEqual(['UNAUTHENTICATED']);
    expect(codes(unknown)).toEqual(['UNAUTHENTICATED']);
    expect(wrong.errors![0].message).toBe(unknown.errors![0].message);
  });

  it('asks for the workspace when one email signs in to two workspaces', async () => {
    const other = await signUp(t, 'Other');
    const email = `shared-${Date.now()}@example.com`;
    for (const a of [admin, other]) {
      const c = await t.gql(
        'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }',
        { i: { name: 'S', email, role: 'REP', password: 'shared password 1' } },
        a.accessToken,
      );
      expect(c.errors).toBeUndefined();
    }
    const ambiguous = await t.gql(LOGIN, { e: email, p: 'shared password 1' });
    expect(codes(ambiguous)).toEqual(['BAD_USER_INPUT']);
    const chosen = await t.gql(LOGIN, { e: email, p: 'shared password 1', w: other.workspaceId });
    expect(chosen.data.logIn.workspace.id).toBe(other.workspaceId);
  });

  it('rotates refresh tokens, and reusing a rotated one revokes the whole family', async () => {
    const login = (await t.gql(LOGIN, { e: admin.email, p: admin.password })).data.logIn;
    const first = await t.gql(REFRESH, { t: login.refreshToken });
    expect(first.errors).toBeUndefined();
    const second = await t.gql(REFRESH, { t: first.data.refreshToken.refreshToken });
    expect(second.errors).toBeUndefined();
    // The first token again: a replay. Everything of that log-in stops working.
    const replay = await t.gql(REFRESH, { t: login.refreshToken });
    expect(codes(replay)).toEqual(['UNAUTHENTICATED']);
    const afterReplay = await t.gql(REFRESH, { t: second.data.refreshToken.refreshToken });
    expect(codes(afterReplay)).toEqual(['UNAUTHENTICATED']);
    const events = await t.sql(`SELECT type FROM event WHERE entity_id = $1 AND type = 'user.refresh_token_reused'`, [admin.userId]);
    expect(events).toHaveLength(1);
  });

  it('lets exactly one of two concurrent refreshes with the same token win', async () => {
    const login = (await t.gql(LOGIN, { e: admin.email, p: admin.password })).data.logIn;
    const results = await Promise.all([t.gql(REFRESH, { t: login.refreshToken }), t.gql(REFRESH, { t: login.refreshToken })]);
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
  });

  describe('with REFRESH_TOKEN_REUSE_GRACE_SECONDS', () => {
    let g: TestApp;
    let user: SignedUp;
    beforeAll(async () => {
      g = await startTestApp({ REFRESH_TOKEN_REUSE_GRACE_SECONDS: '5' });
      user = await signUp(g, 'Grace Co');
    });
    afterAll(() => g.close());
    const reuses = async () => (await g.sql(`SELECT 1 FROM event WHERE entity_id = $1 AND type = 'user.refresh_token_reused'`, [user.userId])).length;

    it("two tabs refreshing at once: one wins, the other is refused, and the winner's session goes on", async () => {
      const login = (await g.gql(LOGIN, { e: user.email, p: user.password })).data.logIn;
      const results = await Promise.all([g.gql(REFRESH, { t: login.refreshToken }), g.gql(REFRESH, { t: login.refreshToken })]);
      const won = results.filter((r) => !r.errors);
      expect(won).toHaveLength(1);
      expect(codes(results.find((r) => r.errors)!)).toEqual(['UNAUTHENTICATED']);
      const next = await g.gql(REFRESH, { t: won[0].data.refreshToken.refreshToken });
      expect(next.errors).toBeUndefined();
      expect((await g.gql('{ me { kind } }', {}, next.data.refreshToken.accessToken)).data.me.kind).toBe('USER');
      expect(await reuses()).toBe(0);
    });

    it('a reuse after the grace is a replay: the whole family ends', async () => {
      const login = (await g.gql(LOGIN, { e: user.email, p: user.password })).data.logIn;
      const rotated = await g.gql(REFRESH, { t: login.refreshToken });
      expect(rotated.errors).toBeUndefined();
      await g.sql(`UPDATE refresh_token SET used_at = used_at - interval '6 seconds' WHERE token_hash = encode(sha256($1::bytea), 'hex')`, [
        login.refreshToken,
      ]);
      expect(codes(await g.gql(REFRESH, { t: login.refreshToken }))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await g.gql(REFRESH, { t: rotated.data.refreshToken.refreshToken }))).toEqual(['UNAUTHENTICATED']);
      expect(await reuses()).toBe(1);
    });
  });

  it('logOut ends the session', async () => {
    const login = (await t.gql(LOGIN, { e: admin.email, p: admin.password })).data.logIn;
    const out = await t.gql('mutation($t: String!) { logOut(refreshToken: $t) }', { t: login.refreshToken });
    expect(out.data.logOut).toBe(true);
    expect(codes(await t.gql(REFRESH, { t: login.refreshToken }))).toEqual(['UNAUTHENTICATED']);
    expect((await t.gql('mutation($t: String!) { logOut(refreshToken: $t) }', { t: login.refreshToken })).data.logOut).toBe(false);
  });

  describe('forged and stale access tokens are UNAUTHENTICATED', () => {
    const secret = 'test-secret-test-secret-test-secret-0123';
    const claims = () => ({ wid: admin.workspaceId, sub: admin.userId });
    const cases: [string, () => string][] = [
      ['alg none', () => jwt.sign(claims(), '', { algorithm: 'none', issuer: 'trellis', audience: 'trellis-api', expiresIn: 600 })],
      ['wrong signature', () => jwt.sign(claims(), 'another-secret-another-secret-0000', { issuer: 'trellis', audience: 'trellis-api', expiresIn: 600 })],
      ['no exp', () => jwt.sign(claims(), secret, { issuer: 'trellis', audience: 'trellis-api' })],
      ['wrong audience', () => jwt.sign(claims(), secret, { issuer: 'trellis', audience: 'someone-else', expiresIn: 600 })],
      ['wrong issuer', () => jwt.sign(claims(), secret, { issuer: 'evil', audience: 'trellis-api', expiresIn: 600 })],
      ['expired', () => jwt.sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 60 }, secret, { issuer: 'trellis', audience: 'trellis-api' })],
      ['future nbf', () => jwt.sign(claims(), secret, { issuer: 'trellis', audience: 'trellis-api', expiresIn: 600, notBefore: 3600 })],
      ['garbage', () => 'not.a.jwt'],
    ];
    it.each(cases)('%s', async (_name, make) => {
      const r = await t.gql(ME, {}, make());
      expect(codes(r)).toEqual(['UNAUTHENTICATED']);
      expect(JSON.stringify(r.body)).not.toMatch(/stack|at \//);
    });
    it('a correctly signed token is accepted (the cases above fail for their flaw only)', async () => {
      const good = jwt.sign(claims(), secret, { issuer: 'trellis', audience: 'trellis-api', expiresIn: 600 });
      expect((await t.gql(ME, {}, good)).errors).toBeUndefined();
    });
  });

  describe('API keys', () => {
    it('are shown once with the trl_ prefix, stored as SHA-256, and authenticate', async () => {
      const key = await apiKey(t, admin, ['READ', 'WRITE']);
      expect(key.secret).toMatch(/^trl_[A-Za-z0-9_-]{43}$/);
      const [row] = await t.sql<{ key_hash: string }>('SELECT key_hash FROM api_key WHERE id = $1', [key.id]);
      expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.key_hash).not.toContain(key.secret);
      const r = await t.gql(ME, {}, key.secret);
      expect(r.data.me).toMatchObject({ kind: 'API_KEY', role: null, scopes: ['READ', 'WRITE'], apiKey: { id: key.id }, workspace: { id: admin.workspaceId } });
      const [used] = await t.sql<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_key WHERE id = $1', [key.id]);
      expect(used.last_used_at).not.toBeNull();
    });

    it('stop working when revoked (at once, though just verified) or expired (within the cache TTL)', async () => {
      const key = await apiKey(t, admin, ['READ']);
      expect((await t.gql(ME, {}, key.secret)).errors).toBeUndefined();
      const revoke = await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: key.id }, admin.accessToken);
      expect(revoke.data.revokeApiKey.revokedAt).toBeTruthy();
      expect(codes(await t.gql(ME, {}, key.secret))).toEqual(['UNAUTHENTICATED']);

      const soon = await apiKey(t, admin, ['READ'], new Date(Date.now() + 60_000).toISOString());
      expect((await t.gql(ME, {}, soon.secret)).errors).toBeUndefined();
      // Changed behind the API's back (as another instance or an operator would): the verified key
      // is trusted for at most API_KEY_CACHE_MS more.
      await t.sql(`UPDATE api_key SET expires_at = now() - interval '1 second' WHERE id = $1`, [soon.id]);
      await new Promise((r) => setTimeout(r, t.config.apiKeyCacheMs + 50));
      expect(codes(await t.gql(ME, {}, soon.secret))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await t.gql(ME, {}, 'trl_' + 'x'.repeat(43)))).toEqual(['UNAUTHENTICATED']);
    });

    it('act by their scopes: a READ key cannot write, a WRITE-only key cannot read', async () => {
      const read = await apiKey(t, admin, ['READ']);
      const write = await apiKey(t, admin, ['WRITE']);
      expect(codes(await t.gql(`mutation { updateUser(id: "${admin.userId}", input: { name: "X" }) { id } }`, {}, read.secret))).toEqual(['FORBIDDEN']);
      expect(codes(await t.gql('{ users { totalCount } }', {}, write.secret))).toEqual(['FORBIDDEN']);
      expect((await t.gql('{ users { totalCount } }', {}, read.secret)).errors).toBeUndefined();
    });

    it('cannot manage users or keys (that needs an ADMIN user)', async () => {
      const key = await apiKey(t, admin, ['READ', 'WRITE']);
      const r = await t.gql('mutation { createApiKey(input: { name: "x", scopes: [READ] }) { secret } }', {}, key.secret);
      expect(codes(r)).toEqual(['FORBIDDEN']);
    });
  });

  describe('roles', () => {
    it('a READ_ONLY user reads but cannot write', async () => {
      const ro = await userWithRole(t, admin, 'READ_ONLY');
      expect((await t.gql('{ users { totalCount } }', {}, ro.token)).errors).toBeUndefined();
      expect(codes(await t.gql(`mutation { updateUser(id: "${ro.id}", input: { name: "Me" }) { id } }`, {}, ro.token))).toEqual(['FORBIDDEN']);
    });

    it('only an ADMIN creates users; a user may rename themself but not change their role', async () => {
      const rep = await userWithRole(t, admin, 'REP');
      expect(codes(await t.gql('mutation { createUser(input: { name: "x", email: "x@example.com", role: REP }) { id } }', {}, rep.token))).toEqual([
        'FORBIDDEN',
      ]);
      const rename = await t.gql(`mutation { updateUser(id: "${rep.id}", input: { name: "Renamed" }) { name version } }`, {}, rep.token);
      expect(rename.data.updateUser).toEqual({ name: 'Renamed', version: 2 });
      expect(codes(await t.gql(`mutation { updateUser(id: "${rep.id}", input: { role: ADMIN }) { id } }`, {}, rep.token))).toEqual(['FORBIDDEN']);
      expect(codes(await t.gql(`mutation { updateUser(id: "${admin.userId}", input: { name: "Hijack" }) { id } }`, {}, rep.token))).toEqual(['FORBIDDEN']);
    });

    it('deactivating a user ends their access at once, and the last ADMIN cannot be deactivated', async () => {
      const rep = await userWithRole(t, admin, 'REP');
      const d = await t.gql(`mutation { deactivateUser(id: "${rep.id}") { active } }`, {}, admin.accessToken);
      expect(d.data.deactivateUser.active).toBe(false);
      expect(codes(await t.gql(ME, {}, rep.token))).toEqual(['UNAUTHENTICATED']);
      const self = await t.gql(`mutation { deactivateUser(id: "${admin.userId}") { active } }`, {}, admin.accessToken);
      expect(codes(self)).toEqual(['CONFLICT']);
    });

    it('a stale expectedVersion is CONFLICT and writes nothing', async () => {
      const rep = await userWithRole(t, admin, 'REP');
      const ok = await t.gql(`mutation { updateUser(id: "${rep.id}", input: { name: "One" }, expectedVersion: 1) { version } }`, {}, admin.accessToken);
      expect(ok.data.updateUser.version).toBe(2);
      const stale = await t.gql(`mutation { updateUser(id: "${rep.id}", input: { name: "Two" }, expectedVersion: 1) { version } }`, {}, admin.accessToken);
      expect(codes(stale)).toEqual(['CONFLICT']);
      const [row] = await t.sql<{ name: string; version: number }>('SELECT name, version FROM app_user WHERE id = $1', [rep.id]);
      expect(row).toEqual({ name: 'One', version: 2 });
    });
  });
});
