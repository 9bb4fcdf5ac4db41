import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Anything that could carry a credential is redacted by path, whatever the
 * message that logs it.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'trellis' },
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'refreshToken', '*.refreshToken', 'accessToken', '*.accessToken', 'secret', '*.secret', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', 'variables.password', 'variables.*.password'],
      censor: '[redacted]',
    },
  });
}
