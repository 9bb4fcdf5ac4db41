import { ApiKeyCache } from '../src/modules/auth/api-key-cache';
import type { Viewer } from '../src/modules/auth/viewer';
import { ApiScope } from '../src/modules/api-keys/api-key.entity';

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
