import { WorkspaceBusy } from './workspace-gate';
/**
 * Whether an error means the database cannot be reached right now (as opposed to a statement that
 * failed): the answer is then "retry shortly" (SERVICE_UNAVAILABLE, HTTP 503), not a bug report.
 *
 * - no connection: refused, reset, unreachable, name not resolved (Node's socket error codes, also
 *   inside an AggregateError when several addresses were tried);
 * - a connection lost: pg's "Connection terminated unexpectedly", a client no longer queryable;
 * - waiting too long: the pool's "timeout exceeded when trying to connect" and a connection attempt
 *   cut off by the connect timeout (DB_CONNECT_TIMEOUT_MS);
 * - the server says so: SQLSTATE class 08 (connection exception), 57P01-57P03 (shutting down,
 *   crashed, starting up), 53300 (too many connections).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  // No connection of the workspace's share of the pool came free in time: as when the pool has none.
  if (err instanceof WorkspaceBusy) return true;
  return walk(err, 0);
}

/** Failure codes of a statement that says nothing about its input: retrying later may succeed. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '57014', '53100', '53200']);

/**
 * Whether a failure is the system's for now (the database out or short of something, a deadlock, a
 * statement cut off for time) rather than the work's own: a shared consumer then does not move its
 * cursor past the work, and tries again.
 */
export function isTransient(err: unknown): boolean {
  if (isDatabaseUnavailable(err)) return true;
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' && TRANSIENT_SQLSTATES.has(code);
}

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const MESSAGES = [
  /^Connection terminated/, // unexpectedly; due to connection timeout
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /^Connection closed/,
];

// Wrappers looked through: TypeORM's `driverError`, `cause`, GraphQL's `originalError`, and
// graphql-js's `thrownValue` (a value that is not an Error of its realm, as Node's own errors are
// inside a jest VM context).
function walk(err: unknown, depth: number): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    originalError?: unknown;
    thrownValue?: unknown;
    errors?: unknown;
  };
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || SQLSTATES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code))) return true;
  if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => walk(x, depth + 1))) return true;
  return walk(e.driverError, depth + 1) || walk(e.cause, depth + 1) || walk(e.originalError, depth + 1) || walk(e.thrownValue, depth + 1);
}
