import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Anything that could carry a credential is redacted by path, whatever the
 * message that logs it; errors of failed statements lose their data (see redactError).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'trellis' },
      serializers: { err: redactError },
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'refreshToken',
          '*.refreshToken',
          'accessToken',
          '*.accessToken',
          'secret',
          '*.secret',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'req.headers.authorization',
          'variables.password',
          'variables.*.password',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

const REDACTED = '[redacted]';
/**
 * Fields of a failed statement's error that hold the data it carried: TypeORM's QueryFailedError
 * keeps the bound `parameters`; pg's error has the row or key in `detail` ("Failing row contains
 * (...)", "Key (email)=(...) already exists"). The statement text, SQLSTATE, table, column and
 * constraint stay: they say what failed without saying whose.
 */
const DATA_FIELDS = new Set(['parameters', 'detail']);
/** pg's data exceptions (SQLSTATE class 22) quote the value at fault in their message: `...: "value"`. */
const QUOTED_VALUE = /: "(?:[^"\\]|\\.)*"/g;

/** pino's error serializer, then the data of failed statements removed, at any depth (driverError, causes). */
function redactError(err: unknown): unknown {
  // pino folds the messages and stacks of causes into the outer error's: one data exception anywhere
  // in the chain marks them all.
  return scrub(pino.stdSerializers.err(err as Error), hasDataException(err, 0), 0);
}

function hasDataException(err: unknown, depth: number): boolean {
  if (err === null || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && e.code.startsWith('22')) return true;
  const inner = [e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])];
  return inner.some((i) => hasDataException(i, depth + 1));
}

function scrub(value: unknown, dataException: boolean, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, dataException, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'raw') continue;
    if (DATA_FIELDS.has(key)) out[key] = v === undefined ? v : REDACTED;
    else if (dataException && (key === 'message' || key === 'stack') && typeof v === 'string') out[key] = v.replace(QUOTED_VALUE, `: "${REDACTED}"`);
    else if (v instanceof Error) out[key] = scrub(pino.stdSerializers.err(v), dataException || hasDataException(v, 0), depth + 1);
    else out[key] = scrub(v, dataException, depth + 1);
  }
  return out;
}
