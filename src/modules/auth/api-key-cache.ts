import type { Viewer } from '../../kernel/viewer';

/**
 * API keys verified recently, by the SHA-256 of the secret: an integration sends its key on every
 * request, and checking it in the database cost one SQL round trip per request.
 *
 * What may be stale, and for how long (API_KEY_CACHE_MS, default 5 s; 0 turns the cache off):
 * - a key revoked through this instance's API stops working at once (the revocation evicts it
 *   when it commits);
 * - a key never outlives its `expiresAt` in the cache: an entry lasts the TTL or the key's remaining
 *   lifetime, whichever is shorter. That lifetime is measured on the database's clock (the lookup
 *   returns it), so a server clock behind the database's does not stretch it;
 * - a key revoked through another instance, or changed in the database directly (its `expiresAt`
 *   moved earlier, say), stops working within the TTL;
 * - `lastUsedAt` is kept to the minute anyway, and the lookup that refreshes it still runs at
 *   least once per TTL for a key in use.
 * Only keys that verified are kept (an unknown key is checked every time), at most `max` of them.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { viewer: Viewer; until: number }>();

  constructor(
    readonly ttlMs: number,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(hash: string): Viewer | undefined {
    const hit = this.entries.get(hash);
    if (!hit) return undefined;
    if (hit.until <= this.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return hit.viewer;
  }

  /** Keeps a key just verified; `remainingMs`: how long it has left before its `expiresAt` (null: no expiry). */
  set(hash: string, viewer: Viewer, remainingMs: number | null = null): void {
    const keepMs = remainingMs === null ? this.ttlMs : Math.min(this.ttlMs, Math.floor(remainingMs));
    if (keepMs <= 0) return;
    // A Map iterates in insertion order: the first entry is the oldest.
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    // Shared by the requests of the TTL: nothing may change it.
    this.entries.set(hash, { viewer: Object.freeze({ ...viewer, scopes: Object.freeze([...viewer.scopes]) }), until: this.now() + keepMs });
  }

  /** Forgets a key (after its revocation commits): its next request is checked in the database. */
  evict(apiKeyId: string): void {
    for (const [hash, e] of this.entries) if (e.viewer.apiKeyId === apiKeyId) this.entries.delete(hash);
  }
}
