import { poolOf } from '../../db/data-source';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import { AppError } from '../../kernel/errors';
import { sha256 } from './credentials';

interface LoginLimits {
  /** Failed attempts allowed per account (email) in the window. */
  perAccount: number;
  /** Attempts allowed per client address in the window. */
  perAddress: number;
  windowSeconds: number;
}

/**
 * Log-in attempts, limited per account and per address, in Postgres (rate-limiter-flexible's store,
 * its table made by a migration) so that every instance counts the same attempts. An account's
 * failures are forgiven when it signs in.
 */
export class LoginLimiter {
  private readonly accounts: RateLimiterPostgres;
  private readonly addresses: RateLimiterPostgres;

  constructor(
    ds: DataSource,
    private readonly limits: LoginLimits,
  ) {
    const storeClient = poolOf(ds);
    const common = { storeClient, storeType: 'pool', tableName: 'rate_limit_login', tableCreated: true, duration: limits.windowSeconds };
    this.accounts = new RateLimiterPostgres({ ...common, keyPrefix: 'login-account', points: limits.perAccount });
    this.addresses = new RateLimiterPostgres({ ...common, keyPrefix: 'login-address', points: limits.perAddress });
  }

  /** Before checking the password: RATE_LIMITED when the account or the address is out of attempts. */
  async before(email: string, address: string | null): Promise<void> {
    try {
      if (address) await this.addresses.consume(address);
      const account = await this.accounts.get(accountKey(email));
      if (account && account.consumedPoints >= this.limits.perAccount) throw account;
    } catch (err) {
      if (err instanceof RateLimiterRes) throw rateLimited(err, 'Too many sign-in attempts');
      throw err;
    }
  }

  async failed(email: string): Promise<void> {
    await this.accounts.penalty(accountKey(email), 1).catch(() => undefined);
  }

  async succeeded(email: string): Promise<void> {
    await this.accounts.delete(accountKey(email)).catch(() => undefined);
  }
}

const accountKey = (email: string) => sha256(email.trim().toLowerCase());

/** RATE_LIMITED with when to retry (HTTP 429 with Retry-After). */
export function rateLimited(res: RateLimiterRes, what: string): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError('RATE_LIMITED', `${what}; retry in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
    http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
  });
}
