import express, { type Router } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { isDatabaseUnavailable } from '../../db/unavailable';
import { unavailableAnswer, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../../graphql/errors';
import type { Logger } from '../../logger';
import type { IntakeService } from './intake.service';

/**
 * `POST /intake/<token>`: JSON or form-encoded fields, for web forms. Limited per address and token
 * (10 a minute) and per token (300 a minute), in each instance: a form flood slows down, it does not
 * reach the database.
 */
export function intakeRouter(intake: IntakeService, log: Logger): Router {
  const perAddress = new RateLimiterMemory({ points: 10, duration: 60 });
  const perToken = new RateLimiterMemory({ points: 300, duration: 60 });
  const router = express.Router();
  router.post('/:token', express.json({ limit: '32kb' }), express.urlencoded({ extended: false, limit: '32kb' }), async (req, res) => {
    const token = String(req.params.token).slice(0, 100);
    try {
      await Promise.all([perAddress.consume(`${req.ip}|${token}`), perToken.consume(token)]);
    } catch (limited) {
      const wait = Math.ceil(((limited as { msBeforeNext?: number }).msBeforeNext ?? 60_000) / 1000);
      res.set('retry-after', String(wait)).status(429).json({ error: { code: 'RATE_LIMITED', message: `Too many submissions; retry in ${wait} s`, retryAfterSeconds: wait } });
      return;
    }
    try {
      const result = await intake.submit(token, req.body);
      if (result.ok) res.status(201).json({ id: result.leadId });
      else res.status(result.status).json({ error: { code: result.status === 404 ? 'NOT_FOUND' : 'BAD_USER_INPUT', message: result.message, fields: result.errors } });
    } catch (err) {
      if (isDatabaseUnavailable(err)) {
        log.warn({ error: (err as Error).message }, 'intake: database unavailable');
        const { message, extensions } = unavailableAnswer();
        res.set('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS)).status(503).json({ error: { code: extensions!.code, message, retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS } });
        return;
      }
      log.error({ err }, 'intake failed');
      res.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
    }
  });
  return router;
}
