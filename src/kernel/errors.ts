import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { ValidationError as ClassValidationError } from 'class-validator';

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
export const unavailableAnswer = (): GraphQLFormattedError => ({
  message: UNAVAILABLE_MESSAGE,
  extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS },
});
/** The database cannot be reached: retryable; over HTTP a 503 with Retry-After. */
export const serviceUnavailable = () =>
  new AppError('SERVICE_UNAVAILABLE', UNAVAILABLE_MESSAGE, {
    retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
    http: { status: 503, headers: new Map([['retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS)]]) },
  });

export function flattenValidation(errors: ClassValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors ?? []) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) out.push({ field, message });
    if (e.children?.length) out.push(...flattenValidation(e.children, field));
  }
  return out;
}
