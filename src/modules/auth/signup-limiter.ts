import { poolOf } from '../../db/data-source';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import { rateLimited } from './login-limiter';

interface SignUpLimits {
  perAddress: number;
  /** From all addresses together. */
  perWindow: number;
  windowSeconds: number;
}

/**
 * Sign-ups, limited per client address and overall: each makes a workspace (rows, a default
 * pipeline, an argon2 hash) and anyone may call it. Counted in Postgres, in the log-in counters'
 * table (rate-limiter-flexible's store, keys apart by prefix), so that every instance counts the
 * same sign-ups. Each call counts, aliased ones in one request included.
 */
export class SignUpLimiter {
  private readonly addresses: RateLimiterPostgres;
  private readonly everyone: RateLimiterPostgres;

  constructor(ds: DataSource, limits: SignUpLimits) {
    const storeClient = poolOf(ds);
    const common = { storeClient, storeType: 'pool', tableName: 'rate_limit_login', tableCreated: true, duration: limits.windowSeconds };
    this.addresses = new RateLimiterPostgres({ ...common, keyPrefix: 'signup-address', points: limits.perAddress });
    this.everyone = new RateLimiterPostgres({ ...common, keyPrefix: 'signup-all', points: limits.perWindow });
  }

  /** Counts one sign-up; RATE_LIMITED when its address or everyone together is out of sign-ups. */
  async consume(address: string | null): Promise<void> {
    try {
      // The address first: one client out of sign-ups does not spend everyone's.
      if (address) await this.addresses.consume(address);
      await this.everyone.consume('all');
    } catch (err) {
      if (err instanceof RateLimiterRes) throw rateLimited(err, 'Too many sign-ups');
      throw err;
    }
  }
}
