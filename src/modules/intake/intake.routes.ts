import { poolOf } from '../../db/data-source';
import express, { type Router } from 'express';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../../db/unavailable';
import { unavailableAnswer, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../../kernel/errors';
import type { Logger } from '../../kernel/logger';
import { sha256 } from '../auth/credentials';
import type { IntakeService } from './intake.service';

interface IntakeLimits {
  perAddressPerMinute: number;
  perFormPerMinute: number;
}

/**
 * `POST /intake/<token>`: JSON or form-encoded fields, for web forms. Limited per address and token
 * and per token (INTAKE_SUBMISSIONS_PER_*), counted in PostgreSQL so that every instance shares
 * them: a form flood is refused after one upsert per limit, before any lead is written.
 */
export function intakeRouter(intake: IntakeService, ds: DataSource, limits: IntakeLimits, log: Logger): Router {
  const storeClient = poolOf(ds);
  const common = { storeClient, storeType: 'pool', tableName: 'rate_limit_intake', tableCreated: true, duration: 60 };
  const perAddress = new RateLimiterPostgres({ ...common, keyPrefix: 'intake-address', points: limits.perAddressPerMinute });
  const perToken = new RateLimiterPostgres({ ...common, keyPrefix: 'intake-form', points: limits.perFormPerMinute });
  const router = express.Router();
  router.post('/:token', express.json({ limit: '32kb' }), express.urlencoded({ extended: false, limit: '32kb' }), async (req, res) => {
    const failed = (err: unknown) => {
      if (isDatabaseUnavailable(err)) {
        log.warn({ error: (err as Error).message }, 'intake: database unavailable');
        const { message, extensions } = unavailableAnswer();
        res
          .set('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS))
          .status(503)
          .json({ error: { code: extensions!.code, message, retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS } });
        return;
      }
      log.error({ err }, 'intake failed');
      res.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
    };
    const token = String(req.params.token).slice(0, 100);
    // The token is a form's credential: the counters keep its hash.
    const form = sha256(token);
    try {
      // One after the other: an address past its own limit takes nothing from the form's.
      await perAddress.consume(`${req.ip}|${form}`);
      await perToken.consume(form);
    } catch (limited) {
      if (!(limited instanceof RateLimiterRes)) return void failed(limited);
      const wait = Math.ceil(((limited as { msBeforeNext?: number }).msBeforeNext ?? 60_000) / 1000);
      res
        .set('retry-after', String(wait))
        .status(429)
        .json({ error: { code: 'RATE_LIMITED', message: `Too many submissions; retry in ${wait} s`, retryAfterSeconds: wait } });
      return;
    }
    try {
      const result = await intake.submit(token, req.body);
      if (result.ok) res.status(201).json({ id: result.leadId });
      else
        res
          .status(result.status)
          .json({ error: { code: result.status === 404 ? 'NOT_FOUND' : 'BAD_USER_INPUT', message: result.message, fields: result.errors } });
    } catch (err) {
      failed(err);
    }
  });
  return router;
}
