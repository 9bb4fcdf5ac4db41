import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '../db/tenant-transaction';
import type { Logger } from '../kernel/logger';
import { AppError } from '../kernel/errors';

interface CostLimits {
  /** The most a credential may spend in a burst. */
  capacity: number;
  /** Points given back per second; 0 turns rate limiting off. */
  refillPerSecond: number;
}

declare module '../data/context' {
  interface RequestContext {
    /** What this request was charged against its rate limit (reported in `extensions.cost`). */
    cost?: CostReport;
  }
}

/** What a request was charged, for `extensions.cost`. */
export interface CostReport {
  requested: number;
  remaining: number;
  /** When the bucket will be full again (ISO time). */
  resetAt: string;
}

interface Bucket {
  /** The level in the shared table as last read, and when. */
  shared: number;
  syncedAt: number;
  /** Charged here since the last write to the shared table. */
  pending: number;
}

const FLUSH_MS = 200;
const MAX_BUCKETS = 50_000;

/**
 * Rate limits by query cost, like GitHub's and Shopify's: each request's cost (connections at their
 * page size) drains a leaky bucket per API key or user. The buckets live in Postgres so that every
 * instance charges the same one; to keep the request path free of an extra round trip, an instance
 * decides from its last reading of the shared level plus what it charged since, and writes its
 * charges back in one statement every 200 ms (the shared level drains and adds atomically there).
 * Several instances can therefore overshoot a bucket by at most what they charge in 200 ms.
 */
export class CostLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly ds: DataSource,
    private readonly limits: CostLimits,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.limits.refillPerSecond > 0;
  }

  /**
   * Charges `cost` to `key`, or throws RATE_LIMITED (with when to retry) and charges nothing. A key
   * this instance has not seen yet is read from the shared table first (once); after that, no query.
   * `tx`: the request's transaction, which may already hold a pooled connection: the read then goes
   * through it, since waiting for a second connection while holding one deadlocks a small pool.
   */
  async charge(key: string, cost: number, tx?: TenantTransaction | null): Promise<CostReport> {
    if (!this.buckets.has(key)) await this.load(key, tx);
    const now = this.now();
    const b = this.bucket(key, now);
    const level = this.level(b, now);
    if (level + cost > this.limits.capacity) {
      const retryAfterSeconds = Math.ceil((level + cost - this.limits.capacity) / this.limits.refillPerSecond);
      throw new AppError(
        'RATE_LIMITED',
        `Rate limit exceeded: this request costs ${cost} points and ${Math.max(0, Math.floor(this.limits.capacity - level))} are left; retry in ${retryAfterSeconds} s`,
        {
          retryAfterSeconds,
          cost: this.report(cost, level, now),
          // Apollo turns this into the HTTP status and header, and leaves it out of the body.
          http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
        },
      );
    }
    b.pending += cost;
    this.scheduleFlush();
    return this.report(cost, level + cost, now);
  }

  /** Writes the charges not yet shared; resolves once done (also used at shutdown). */
  async flush(): Promise<void> {
    await this.flushing;
    const keys = [...this.buckets].filter(([, b]) => b.pending > 0);
    if (!keys.length) return;
    const charges = keys.map(([key, b]) => [key, b.pending] as const);
    for (const [, b] of keys) b.pending = 0;
    this.flushing = (async () => {
      try {
        const rows: { key: string; level: number }[] = await this.ds.query(
          `INSERT INTO rate_limit_bucket AS b (key, level, updated_at)
           SELECT k, c, now() FROM unnest($1::text[], $2::float8[]) AS t(k, c)
           ON CONFLICT (key) DO UPDATE SET
             level = greatest(0, b.level - extract(epoch FROM now() - b.updated_at) * $3) + excluded.level, updated_at = now()
           RETURNING key, level`,
          [charges.map((c) => c[0]), charges.map((c) => c[1]), this.limits.refillPerSecond],
        );
        const now = this.now();
        for (const r of rows) {
          const b = this.buckets.get(r.key);
          if (b) Object.assign(b, { shared: r.level, syncedAt: now });
        }
      } catch (err) {
        // Not shared this time: keep the charges for the next write.
        for (const [key, cost] of charges) {
          const b = this.buckets.get(key);
          if (b) b.pending += cost;
        }
        this.log.warn({ error: (err as Error).message }, 'rate limit buckets not written');
      }
    })();
    await this.flushing;
    this.flushing = undefined;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async load(key: string, tx?: TenantTransaction | null): Promise<void> {
    const sql = `SELECT greatest(0, level - extract(epoch FROM now() - updated_at) * $2) AS level FROM rate_limit_bucket WHERE key = $1`;
    const params = [key, this.limits.refillPerSecond];
    // In a savepoint, so that a failed read leaves the request's transaction usable.
    const read: Promise<{ level: number }[]> = tx ? tx.savepoint(() => tx.query<{ level: number }>(sql, params)) : this.ds.query(sql, params);
    const [row] = await read.catch((): { level: number }[] => []);
    if (!this.buckets.has(key)) this.buckets.set(key, { shared: row ? Number(row.level) : 0, syncedAt: this.now(), pending: 0 });
  }

  private bucket(key: string, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetDrained(now);
      b = { shared: 0, syncedAt: now, pending: 0 };
      this.buckets.set(key, b);
    }
    return b;
  }

  private level(b: Bucket, now: number): number {
    return Math.max(0, b.shared - ((now - b.syncedAt) / 1000) * this.limits.refillPerSecond) + b.pending;
  }

  private report(requested: number, level: number, now: number): CostReport {
    return {
      requested,
      remaining: Math.max(0, Math.floor(this.limits.capacity - level)),
      resetAt: new Date(now + (level / this.limits.refillPerSecond) * 1000).toISOString(),
    };
  }

  private scheduleFlush(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_MS);
    this.timer.unref();
  }

  /** Buckets that drained to nothing are re-read from the table when next used. */
  private forgetDrained(now: number): void {
    for (const [key, b] of this.buckets) if (b.pending === 0 && this.level(b, now) === 0) this.buckets.delete(key);
  }
}

/** The bucket a viewer's requests drain: its API key, else its user. */
export const costKey = (v: { apiKeyId: string | null; userId: string | null; workspaceId: string }) =>
  v.apiKeyId ? `key:${v.apiKeyId}` : `user:${v.userId ?? v.workspaceId}`;
