import { type ExecutionResult, GraphQLError, type GraphQLFormattedError, Kind } from 'graphql';
import type { ValidationError as ClassValidationError } from 'class-validator';
import { ArgumentValidationError } from 'type-graphql';
import { isStatementTimeout, RowLimitExceeded } from '../db/tenant-transaction';
import { isDatabaseUnavailable } from '../db/unavailable';
import type { Config } from '../kernel/config';
import { AppError, ErrorCode, flattenValidation, unavailableAnswer } from '../kernel/errors';
import type { Logger } from '../kernel/logger';

// How every transport (HTTP, WebSocket, SSE) turns an error into what the client sees: one formatter.
// Codes Apollo gives to errors it raises itself before execution; they pass through unchanged.
const APOLLO_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

// Apollo's refusals of a malformed persisted query (APQ), raised with an HTTP status but no code.
const APQ_PROTOCOL_ERRORS = new Set(['provided sha does not match query', 'Unsupported persisted query version']);

const GRAPHQL_JS_INPUT_ERROR = /^(Argument "[^"]+" (of (required|non-null) type|has invalid value)|Too many errors processing variables)/;

interface FormatOptions {
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
function formatError(formatted: GraphQLFormattedError, error: unknown, opts: FormatOptions): GraphQLFormattedError {
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
interface ErrorFormatter {
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
        e instanceof GraphQLError
          ? format(isVariableError(e) ? new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } }) : e)
          : e,
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
const isVariableError = (e: GraphQLError) =>
  !e.extensions?.code && e.nodes?.length === 1 && e.nodes[0].kind === Kind.VARIABLE_DEFINITION && /^Variable "\$/.test(e.message);

/**
 * The limits that keep one workspace from taking an instance's shared capacity, as the client errors
 * they are: too many rows read (QUERY_TOO_COMPLEX), a statement past its time (QUERY_TIMEOUT). Null
 * for anything else. (No connection of the workspace's share free in time is SERVICE_UNAVAILABLE, as
 * when the pool has none: isDatabaseUnavailable counts it.)
 */
function tenantLimitError(err: unknown): AppError | null {
  if (err instanceof RowLimitExceeded) return new AppError('QUERY_TOO_COMPLEX', err.message);
  if (isStatementTimeout(err)) {
    return new AppError('QUERY_TIMEOUT', 'A statement of this request ran past its time limit and was stopped; narrow the filter or ask for smaller pages');
  }
  return null;
}
