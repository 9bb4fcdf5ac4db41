import { randomUUID } from 'node:crypto';
import {
  type DocumentNode,
  type ExecutionResult,
  getOperationAST,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type OperationTypeNode,
  parse,
  specifiedRules,
  validate,
  type ValidationRule,
} from 'graphql';
import type { DataSource } from 'typeorm';
import type { Config } from '../kernel/config';
import { TenantTransaction } from '../db/tenant-transaction';
import type { Logger } from '../kernel/logger';
import type { Authentication } from '../modules/auth/authenticate';
import type { Viewer } from '../modules/auth/viewer';
import type { ChangeEvent } from '../modules/events/change-event';
import type { EventBus } from '../modules/realtime/event-bus';
import type { RealtimeService } from '../modules/realtime/realtime.service';
import { RequestContext } from './context';
import { type CostLimiter, costKey } from './cost-limiter';
import { formatError } from './errors';
import { assertCost, assertNoNul, limitRules, queryCost } from './limits';

/** What a subscription transport (WebSocket, SSE) needs from the server. */
export interface LiveTransportDeps {
  ds: DataSource;
  config: Config;
  log: Logger;
  bus: EventBus;
  realtime: RealtimeService;
  costs: CostLimiter;
  /** Connections per credential, one count for WebSockets and SSE streams together (WS_MAX_CONNECTIONS_PER_CREDENTIAL). */
  connections: CredentialConnections;
}

/**
 * What the two subscription transports, graphql-ws (ws.ts) and graphql-sse (sse.ts), share. Both
 * run outside Apollo, so each applies here what Apollo's pipeline and requestPlugin apply over HTTP:
 * the validation and cost limits, error formatting, a transaction per operation; and both hold a
 * long-lived connection, so both count connections per credential and end them with the credential.
 */

/** The key connections are counted under: the API key, or the user. */
export const credentialOf = (viewer: Viewer): string => viewer.apiKeyId ?? viewer.userId ?? '';

/**
 * Open connections per credential on this instance, WebSockets and SSE streams together
 * (WS_MAX_CONNECTIONS_PER_CREDENTIAL): a client does not get twice the connections by using both.
 */
export class CredentialConnections {
  private readonly counts = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Takes a connection for `credential`; false (and nothing taken) when it holds `max` already. */
  acquire(credential: string): boolean {
    const count = this.counts.get(credential) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(credential, count + 1);
    return true;
  }

  release(credential: string): void {
    const left = (this.counts.get(credential) ?? 1) - 1;
    if (left > 0) this.counts.set(credential, left);
    else this.counts.delete(credential);
  }
}

/** Why a connection ends with its credential: revoked or changed (a log-out, a new role), or past its expiry. */
export type CredentialEnd = 'changed' | 'expired';

/**
 * Calls `ended` once when the connection's credential stops being valid: at the access token's
 * `exp` or the key's `expiresAt`, or when it stops being what it was at connect time (watchCredential).
 * Returns the cancel.
 */
export function untilCredentialEnds(bus: EventBus, auth: Authentication, ended: (why: CredentialEnd) => void): () => void {
  let done = false;
  const end = (why: CredentialEnd) => {
    if (done) return;
    done = true;
    stop();
    ended(why);
  };
  const stopWatching = watchCredential(bus, auth.viewer!, auth.sessionId, () => end('changed'));
  const stopTimer = auth.expiresInMs === null ? noop : at(auth.expiresInMs, () => end('expired'));
  const stop = () => (stopWatching(), stopTimer());
  return () => {
    done = true;
    stop();
  };
}

/**
 * Calls `revoked` when the connection's credential stops being what it was at connect time: its API
 * key revoked; its user deactivated, deleted or given another role, their sessions revoked (a
 * password change), or its own session ended (log-out, a replayed refresh token). These are events
 * of the log, so a change made through any instance reaches the connections of every instance.
 */
function watchCredential(bus: EventBus, viewer: Viewer, sessionId: string | null, revoked: () => void): () => void {
  // A token that names no session (issued before sessions were named) ends with any of its user's.
  const ownSession = (e: ChangeEvent) => sessionId === null || (e.data as { sessionId?: string } | null)?.sessionId === sessionId;
  const affects = (e: ChangeEvent) =>
    viewer.kind === 'API_KEY'
      ? e.entityType === 'api_key' && e.entityId === viewer.apiKeyId && e.type === 'api_key.revoked'
      : e.entityType === 'user' &&
        e.entityId === viewer.userId &&
        (e.type === 'user.deactivated' ||
          e.type === 'user.deleted' ||
          e.type === 'user.sessions_revoked' ||
          ((e.type === 'user.logged_out' || e.type === 'user.refresh_token_reused') && ownSession(e)) ||
          // Not user.created: under load the bus may see a user's creation after that user has connected.
          (e.type === 'user.updated' && e.changes.some((c) => c.field === 'role' || c.field === 'active')));
  return bus.subscribe(viewer.workspaceId, (events) => {
    if (events.some(affects)) revoked();
  });
}

const noop = () => undefined;
/** The longest delay a Node timer takes (about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fn` once `ms` have passed (however long that is); returns the cancel. */
function at(ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const wait = (left: number) => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? wait(left - MAX_TIMER_MS) : fn()), Math.max(0, Math.min(left, MAX_TIMER_MS)));
    timer.unref();
  };
  wait(ms);
  return () => clearTimeout(timer);
}

/** The validation rules of an operation, as Apollo applies them over HTTP (no introspection in production). */
export function operationRules(config: Config): ValidationRule[] {
  return [...specifiedRules, ...limitRules(config.limits), ...(config.env === 'production' ? [NoSchemaIntrospectionCustomRule] : [])];
}

/** Errors shaped as over HTTP (formatError): codes kept, internal errors masked and logged. */
export function errorFormatting(config: Config, log: Logger, transport: string) {
  const format = (e: GraphQLError): GraphQLFormattedError =>
    formatError(e.toJSON(), e, {
      exposeDetails: config.exposeErrorDetails,
      hideSuggestions: config.env === 'production',
      onInternal: (err) => log.error({ err }, `internal error (${transport})`),
      onUnavailable: (err) => log.warn({ error: (err as Error)?.message }, `database unavailable (${transport})`),
    });
  /** A formatted error as a GraphQLError again (graphql-ws wants those): the same JSON. */
  const reformatted = (e: GraphQLError) => {
    const f = format(e);
    return new GraphQLError(f.message, { nodes: e.nodes, extensions: f.extensions });
  };
  /**
   * A result with each of its errors formatted (a variable that did not coerce is bad input, as Apollo
   * answers it). An error that is no GraphQLError was formatted already (a refusal made by the transport).
   */
  const withFormattedErrors = (r: ExecutionResult): ExecutionResult => ({
    ...r,
    errors: r.errors!.map((e) =>
      e instanceof GraphQLError ? format(isVariableError(e) ? new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } }) : e) : e,
    ) as unknown as GraphQLError[],
  });
  return { format, reformatted, withFormattedErrors };
}

/** A variable that did not coerce to its type (graphql-js gives it no code): bad input, as Apollo answers it over HTTP. */
const isVariableError = (e: GraphQLError) => !e.extensions?.code && e.nodes?.length === 1 && e.nodes[0].kind === Kind.VARIABLE_DEFINITION && /^Variable "\$/.test(e.message);

export interface OperationRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

export interface CheckedOperation {
  document: DocumentNode;
  variables: Record<string, unknown>;
  operation: OperationTypeNode | null;
}

export interface OperationChecks {
  schema: GraphQLSchema;
  config: Config;
  costs: CostLimiter;
  rules: readonly ValidationRule[];
  /** Formats an error as the client will see it (errorFormatting().reformatted). */
  reformatted: (e: GraphQLError) => GraphQLError;
}

/**
 * What an operation passes before it runs, over either transport, as requestPlugin applies it over
 * HTTP: it parses (within MAX_QUERY_TOKENS), is of a type the transport serves (`allow`), validates
 * (the depth, alias and directive limits among the rules), holds no NUL or lone surrogate, is within
 * MAX_QUERY_COST, and is charged to the viewer's cost bucket. Returns the parsed operation, or the
 * errors to answer with, formatted, each with its code.
 */
export async function checkOperation(
  checks: OperationChecks,
  viewer: Viewer,
  request: OperationRequest,
  allow?: { types: readonly OperationTypeNode[]; refusal: string },
): Promise<CheckedOperation | { errors: GraphQLError[] }> {
  const { schema, config, costs, rules, reformatted } = checks;
  let document: DocumentNode;
  try {
    document = parse(request.query, { maxTokens: config.limits.tokens });
  } catch (err) {
    return { errors: [new GraphQLError((err as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
  }
  // Before validation: an operation this transport does not serve costs no more work than that.
  const operation = getOperationAST(document, request.operationName)?.operation ?? null;
  if (allow && operation && !allow.types.includes(operation)) {
    return { errors: [new GraphQLError(allow.refusal, { extensions: { code: 'BAD_REQUEST' } })] };
  }
  const invalid = validate(schema, document, rules).map((e) =>
    e.extensions?.code ? e : new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
  );
  // Formatted like every other error (in production: no "Did you mean" naming schema members).
  if (invalid.length) return { errors: invalid.map(reformatted) };
  if (allow && !operation) {
    return { errors: [new GraphQLError('The document has no operation of that name: set operationName to one of its operations', { extensions: { code: 'BAD_REQUEST' } })] };
  }
  const variables = (request.variables ?? {}) as Record<string, unknown>;
  try {
    assertNoNul(variables);
    assertNoNul(request.query, 'query');
    const cost = queryCost(schema, document, variables, request.operationName, config.limits.cost);
    assertCost(cost, config.limits.cost);
    if (costs.enabled) await costs.charge(costKey(viewer), Math.max(1, cost ?? 1));
  } catch (err) {
    return { errors: [err instanceof GraphQLError ? reformatted(err) : reformatted(new GraphQLError('Internal server error', { originalError: err as Error }))] };
  }
  return { document, variables, operation };
}

/**
 * The context of one operation of a long-lived connection: its own transaction (committed once it
 * has subscribed, then one per event: see perEvent), the instance's event sources, the client's address.
 */
export function operationContext(ds: DataSource, config: Config, log: Logger, realtime: RealtimeService, viewer: Viewer, clientAddress: string | null): RequestContext {
  const context = new RequestContext(randomUUID(), ds, config, log, viewer, new TenantTransaction(ds, viewer.workspaceId), null);
  context.realtime = realtime;
  context.clientAddress = clientAddress;
  return context;
}

/**
 * Commits what an event's execution for this one subscriber read or wrote (most events need
 * nothing: their result is shared, see shared-execution.ts). Not async: it runs for every event and
 * subscriber; undefined when there is nothing to wait for.
 */
export function commitEvent(context: RequestContext, log: Logger): Promise<void> | undefined {
  const tx = context.tx;
  if (!tx || tx.untouched) return undefined;
  return tx.commit().catch((err) => log.error({ err }, 'subscription event commit failed'));
}
