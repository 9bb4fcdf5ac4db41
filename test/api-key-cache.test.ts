import { ApiKeyCache } from '../src/modules/auth/api-key-cache';
import type { Viewer } from '../src/kernel/viewer';
import { apiKey, codes, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';
import { ApiScope } from '../src/kernel/roles';

const viewer = (apiKeyId: string): Viewer => ({ kind: 'API_KEY', workspaceId: 'w', userId: null, apiKeyId, role: null, teamId: null, scopes: [ApiScope.READ] });

describe('ApiKeyCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1_000));

  it('keeps a verified key for the TTL, then forgets it', () => {
    const cache = new ApiKeyCache(5_000, 10, clock);
    cache.set('h1', viewer('k1'));
    now += 4_999;
    expect(cache.get('h1')?.apiKeyId).toBe('k1');
    now += 1;
    expect(cache.get('h1')).toBeUndefined();
  });

  it('never keeps a key past its expiry: an entry lasts the TTL or the key’s remaining lifetime, whichever is shorter', () => {
    const cache = new ApiKeyCache(5_000, 10, clock);
    cache.set('soon', viewer('k1'), 2_000);
    cache.set('later', viewer('k2'), 60_000);
    cache.set('never', viewer('k3'), null);
    cache.set('gone', viewer('k4'), 0);
    expect(cache.get('gone')).toBeUndefined();
    now += 1_999;
    expect(['soon', 'later', 'never'].map((h) => cache.get(h)?.apiKeyId)).toEqual(['k1', 'k2', 'k3']);
    now += 1;
    expect(['soon', 'later', 'never'].map((h) => cache.get(h)?.apiKeyId)).toEqual([undefined, 'k2', 'k3']);
    now += 3_000;
    expect(['later', 'never'].map((h) => cache.get(h)?.apiKeyId)).toEqual([undefined, undefined]);
  });

  it('forgets a revoked key at once, and only that one', () => {
    const cache = new ApiKeyCache(5_000, 10, clock);
    cache.set('h1', viewer('k1'));
    cache.set('h2', viewer('k2'));
    cache.evict('k1');
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('h2')?.apiKeyId).toBe('k2');
  });

  it('keeps nothing with a TTL of 0, and at most `max` keys (the oldest go first)', () => {
    const off = new ApiKeyCache(0, 10, clock);
    off.set('h1', viewer('k1'));
    expect(off.get('h1')).toBeUndefined();
    const small = new ApiKeyCache(5_000, 2, clock);
    small.set('h1', viewer('k1'));
    small.set('h2', viewer('k2'));
    small.set('h3', viewer('k3'));
    expect([small.get('h1'), small.get('h2')?.apiKeyId, small.get('h3')?.apiKeyId]).toEqual([undefined, 'k2', 'k3']);
  });

  it('hands out a frozen viewer: one request cannot change what the next one sees', () => {
    const cache = new ApiKeyCache(5_000, 10, clock);
    cache.set('h1', viewer('k1'));
    const v = cache.get('h1')!;
    expect(Object.isFrozen(v) && Object.isFrozen(v.scopes)).toBe(true);
  });
});

describe('API key cache through the API (API_KEY_CACHE_MS=60000)', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp({ API_KEY_CACHE_MS: '60000' });
    admin = await signUp(t, 'Key Cache');
  });
  afterAll(() => t.close());

  const ME = '{ me { kind } }';

  it('a key verified and cached just before its expiresAt is refused from that instant, though the cache period runs on', async () => {
    const expiresAt = new Date(Date.now() + 2_000);
    const key = await apiKey(t, admin, ['READ'], expiresAt.toISOString());
    expect((await t.gql(ME, {}, key.secret)).data.me.kind).toBe('API_KEY');
    // Cached now: the same key keeps working without a lookup until it expires.
    expect((await t.gql(ME, {}, key.secret)).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() - Date.now()) + 50));
    expect(codes(await t.gql(ME, {}, key.secret))).toEqual(['UNAUTHENTICATED']);
  });

  it('a key without expiry stays cached for the whole period', async () => {
    const key = await apiKey(t, admin, ['READ']);
    expect((await t.gql(ME, {}, key.secret)).errors).toBeUndefined();
    // Revoked behind the API's back (as another instance would): this instance still trusts its cache.
    await t.sql(`UPDATE api_key SET revoked_at = now() WHERE id = $1`, [key.id]);
    expect((await t.gql(ME, {}, key.secret)).errors).toBeUndefined();
  });
});
