import { type ExecutionResult, GraphQLError, type GraphQLFormattedError, Kind } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import type { ValidationError as ClassValidationError } from 'class-validator';
import type { Config } from '../kernel/config';
import { isStatementTimeout, RowLimitExceeded } from '../db/tenant-transaction';
import { isDatabaseUnavailable } from '../db/unavailable';
import type { Logger } from '../kernel/logger';

/** The stable codes of API.md; a client may switch on them. */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  QUERY_TIMEOUT: 'QUERY_TIMEOUT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface FieldError {
  field: string;
  message: string;
}

/** An error meant for the client: its message and code are shown as they are. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
  }
  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

export const unauthenticated = (message = 'Authentication required') => new AppError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You are not allowed to do this') => new AppError('FORBIDDEN', message);
export const notFound = (what = 'Record') => new AppError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string, extra: Record<string, unknown> = {}) => new AppError('CONFLICT', message, extra);
export const badInput = (fields: FieldError[], message?: string) =>
  new AppError('BAD_USER_INPUT', message ?? fields.map((f) => `${f.field}: ${f.message}`).join('; '), { fields });
export const badField = (field: string, message: string) => badInput([{ field, message }]);

/** How long a client should wait before retrying when the database is unavailable (a restart or failover takes seconds). */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
// Also when every pooled connection stayed busy past DB_CONNECT_TIMEOUT_MS: the pool reports both alike.
const UNAVAILABLE_MESSAGE = 'The service is temporarily unavailable (its database cannot be reached, or has no free connection); retry shortly';
/** SERVICE_UNAVAILABLE as the client sees it (no stack, no detail of the failure). */
export const unavailableAnswer = (): GraphQLFormattedError => ({ message: UNAVAILABLE_MESSAGE, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS } });
/** The database cannot be reached: retryable; over HTTP a 503 with Retry-After. */
export const serviceUnavailable = () =>
  new AppError('SERVICE_UNAVAILABLE', UNAVAILABLE_MESSAGE, {
    retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
    http: { status: 503, headers: new Map([['retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS)]]) },
  });

// Codes Apollo gives to errors it raises itself before execution; they pass through unchanged.
const APOLLO_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);

// Apollo's refusals of a malformed persisted query (APQ), raised with an HTTP status but no code.
const APQ_PROTOCOL_ERRORS = new Set(['provided sha does not match query', 'Unsupported persisted query version']);

const GRAPHQL_JS_INPUT_ERROR = /^(Argument "[^"]+" (of (required|non-null) type|has invalid value)|Too many errors processing variables)/;

export interface FormatOptions {
  exposeDetails: boolean;
  /** Production: no "Did you mean ...?" that would reveal schema names to a prober. */
  hideSuggestions?: boolean;
  onInternal: (err: unknown) => void;
  /** Told of each database outage error (SERVICE_UNAVAILABLE), which is not a bug: a warning, not an error. */
  onUnavailable?: (err: unknown) => void;
}

/**
 * Shapes every error a client sees: known errors keep their code and message; class-validator
 * failures become BAD_USER_INPUT with one entry per field; the database being unreachable is
 * SERVICE_UNAVAILABLE (retryable, never with a stack); anything else is masked and logged.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, opts: FormatOptions): GraphQLFormattedError {
  const out = shapeError(formatted, error, opts);
  return opts.hideSuggestions ? { ...out, message: out.message.replace(/\s*Did you mean [^?]*\?/g, '') } : out;
}

function shapeError(formatted: GraphQLFormattedError, error: unknown, opts: FormatOptions): GraphQLFormattedError {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
  if (original instanceof AppError) {
    // `http` sets the response's status and headers (Apollo reads it from the error); it is not for the body.
    const { http: _http, ...extensions } = original.extensions;
    return { ...base, message: original.message, extensions };
  }
  if (original instanceof ArgumentValidationError) {
    const fields = flattenValidation(original.extensions.validationErrors as unknown as ClassValidationError[]);
    return { ...base, message: fields.map((f) => `${f.field}: ${f.message}`).join('; ') || 'Invalid input', extensions: { code: 'BAD_USER_INPUT', fields } };
  }
  // Apollo rewrites the code of validation-rule errors to GRAPHQL_VALIDATION_FAILED; a limit rule's
  // own QUERY_TOO_COMPLEX survives on the original error.
  if (original instanceof GraphQLError && original.extensions?.code === ErrorCode.QUERY_TOO_COMPLEX) {
    return { ...base, message: original.message, extensions: { code: ErrorCode.QUERY_TOO_COMPLEX } };
  }
  const code = formatted.extensions?.code;
  if (original instanceof GraphQLError && !original.originalError && APQ_PROTOCOL_ERRORS.has(original.message)) {
    return { ...base, extensions: { code: 'BAD_REQUEST' } };
  }
  if (typeof code === 'string' && (APOLLO_CODES.has(code) || code === ErrorCode.QUERY_TOO_COMPLEX)) {
    return { ...base, extensions: { code } };
  }
  // A GraphQLError raised by graphql-js itself during execution (e.g. a non-null violation on input
  // coercion) carries no original error and is safe to show; anything thrown by our code is not.
  if (error instanceof GraphQLError && !error.originalError && !code) {
    return { ...base, extensions: { code: 'BAD_USER_INPUT' } };
  }
  // graphql-js's checks of the request during execution, which Apollo leaves without a code: an
  // explicit null for a non-null argument that has a default, more than 50 bad variable values.
  if (original instanceof GraphQLError && !original.extensions?.code && GRAPHQL_JS_INPUT_ERROR.test(original.message)) {
    return { ...base, extensions: { code: 'BAD_USER_INPUT' } };
  }
  const limited = tenantLimitError(original);
  if (limited) {
    const { http: _http, ...extensions } = limited.extensions;
    return { ...base, message: limited.message, extensions };
  }
  if (isDatabaseUnavailable(original)) {
    opts.onUnavailable?.(original);
    return { ...base, ...unavailableAnswer() };
  }
  opts.onInternal(original);
  const extensions: Record<string, unknown> = { code: ErrorCode.INTERNAL_SERVER_ERROR };
  if (opts.exposeDetails && original instanceof Error) extensions.stacktrace = original.stack?.split('\n');
  return { ...base, message: opts.exposeDetails && original instanceof Error ? original.message : 'Internal server error', extensions };
}

/** The error formatter of one transport (errorFormatter). */
export interface ErrorFormatter {
  /** Apollo's formatError hook: an error as graphql-js and Apollo formatted it, and the error itself. */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  /** An error as the client sees it. */
  format(e: GraphQLError): GraphQLFormattedError;
  /** A formatted error as a GraphQLError again (graphql-ws wants those): the same JSON. */
  reformatted(e: GraphQLError): GraphQLError;
  /**
   * A result with each of its errors formatted (a variable that did not coerce is bad input, as Apollo
   * answers it). An error that is no GraphQLError was formatted already (a refusal made by the transport).
   */
  withFormattedErrors(r: ExecutionResult): ExecutionResult;
}

/**
 * The one error formatter of every transport: over HTTP Apollo calls its formatError; WebSocket and
 * SSE, which run outside Apollo, format with it the errors they answer with, so that a client sees
 * the same error, with the same code, whichever way it came. `transport` names the transport in the
 * log lines of internal errors and outages (none over HTTP).
 */
export function errorFormatter(config: Pick<Config, 'env' | 'exposeErrorDetails'>, log: Logger, transport?: 'ws' | 'sse'): ErrorFormatter {
  const suffix = transport ? ` (${transport})` : '';
  const options: FormatOptions = {
    exposeDetails: config.exposeErrorDetails,
    hideSuggestions: config.env === 'production',
    onInternal: (err) => log.error({ err }, `internal error${suffix}`),
    onUnavailable: (err) => log.warn({ error: (err as Error)?.message }, `database unavailable${suffix}`),
  };
  const format = (e: GraphQLError) => formatError(e.toJSON(), e, options);
  return {
    formatError: (formatted, error) => formatError(formatted, error, options),
    format,
    reformatted: (e) => {
      const f = format(e);
      return new GraphQLError(f.message, { nodes: e.nodes, extensions: f.extensions });
    },
    withFormattedErrors: (r) => ({
      ...r,
      errors: r.errors!.map((e) =>
        e instanceof GraphQLError ? format(isVariableError(e) ? new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } }) : e) : e,
      ) as unknown as GraphQLError[],
    }),
  };
}

/** Apollo's error settings over HTTP: its formatError is errorFormatter's; in production no schema names in errors. */
export function apolloErrorSettings(config: Config, log: Logger) {
  return {
    formatError: errorFormatter(config, log).formatError,
    hideSchemaDetailsFromClientErrors: config.env === 'production',
    includeStacktraceInErrorResponses: false,
  };
}

/** A variable that did not coerce to its type (graphql-js gives it no code): bad input, as Apollo answers it over HTTP. */
const isVariableError = (e: GraphQLError) => !e.extensions?.code && e.nodes?.length === 1 && e.nodes[0].kind === Kind.VARIABLE_DEFINITION && /^Variable "\$/.test(e.message);

/**
 * The limits that keep one workspace from taking an instance's shared capacity, as the client errors
 * they are: too many rows read (QUERY_TOO_COMPLEX), a statement past its time (QUERY_TIMEOUT). Null
 * for anything else. (No connection of the workspace's share free in time is SERVICE_UNAVAILABLE, as
 * when the pool has none: isDatabaseUnavailable counts it.)
 */
export function tenantLimitError(err: unknown): AppError | null {
  if (err instanceof RowLimitExceeded) return new AppError('QUERY_TOO_COMPLEX', err.message);
  if (isStatementTimeout(err)) {
    return new AppError('QUERY_TIMEOUT', 'A statement of this request ran past its time limit and was stopped; narrow the filter or ask for smaller pages');
  }
  return null;
}

export function flattenValidation(errors: ClassValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors ?? []) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) out.push({ field, message });
    if (e.children?.length) out.push(...flattenValidation(e.children, field));
  }
  return out;
}
