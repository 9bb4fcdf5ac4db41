import type { IncomingMessage, Server } from 'node:http';
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, GraphQLError, type GraphQLSchema, Kind, NoSchemaIntrospectionCustomRule, parse, specifiedRules, validate } from 'graphql';
import { WebSocketServer } from 'ws';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { TenantTransaction } from '../db/tenant-transaction';
import type { Logger } from '../logger';
import { authenticate } from '../modules/auth/authenticate';
import type { Viewer } from '../modules/auth/viewer';
import type { ChangeEvent } from '../modules/events/change-event';
import type { EventBus } from '../modules/realtime/event-bus';
import type { RealtimeService } from '../modules/realtime/realtime.service';
import { RequestContext } from './context';
import { type CostLimiter, costKey } from './cost-limiter';
import { formatError } from './errors';
import { subscribeShared } from './shared-execution';
import { nextMessageWriter, resultJson, serializedOnce, serveGraphqlWs } from './ws-transport';
import { assertCost, assertNoNul, limitRules, queryCost } from './limits';

type ConnectionExtra = {
  viewer?: Viewer;
  /** The key connections are counted under: the API key, or the user. */
  credential?: string;
  /** Each operation's context, to end its transaction when it completes. */
  operations?: Map<string, RequestContext>;
  stopWatching?: () => void;
  /** The client's address (from the upgrade request), for the per-address limits of signing up and in. */
  clientAddress?: string | null;
};

export interface WebSocketDeps {
  ds: DataSource;
  config: Config;
  log: Logger;
  bus: EventBus;
  realtime: RealtimeService;
  costs: CostLimiter;
  /** The client's address of an upgrade request, as HTTP requests' is read (TRUST_PROXY). */
  clientAddress: (request: IncomingMessage) => string | null;
}

const CLOSE_FORBIDDEN = 4403;
const CLOSE_TOO_MANY = 4429;

/**
 * graphql-ws on the HTTP server's /graphql path. It runs outside Apollo, so the same limits, error
 * formatting and per-operation transaction are applied here. Credentials are checked once, on connect;
 * a socket is closed (4403) when they end: at the access token's `exp` or the key's `expiresAt`, and
 * when the key is revoked, the session ends or the user changes (see watchCredential).
 */
export function attachWebSocket(server: Server, schema: GraphQLSchema, deps: WebSocketDeps) {
  const { ds, config, log, bus, realtime, costs, clientAddress } = deps;
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: config.limits.bodyBytes });
  // As Apollo does over HTTP: no introspection in production.
  const rules = [...specifiedRules, ...limitRules(config.limits), ...(config.env === 'production' ? [NoSchemaIntrospectionCustomRule] : [])];
  const format = (e: GraphQLError) =>
    formatError(e.toJSON(), e, {
      exposeDetails: config.exposeErrorDetails,
      hideSuggestions: config.env === 'production',
      onInternal: (err) => log.error({ err }, 'internal error (ws)'),
      onUnavailable: (err) => log.warn({ error: (err as Error)?.message }, 'database unavailable (ws)'),
    });
  const withFormattedErrors = (r: ExecutionResult) => ({ ...r, errors: r.errors!.map((e) => format(isVariableError(e) ? new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } }) : e)) });
  /** A result as onNext answers it, as JSON (for results written past graphql-ws, see shared-execution.ts). */
  const answerJson = (r: ExecutionResult) => (r.errors?.length ? JSON.stringify(withFormattedErrors(r)) : resultJson(r));
  const perCredential = new Map<string, number>();
  let open = 0;

  const cleanup = serveGraphqlWs<ConnectionExtra>(
    {
      schema,
      subscribe: subscribeShared,
      connectionInitWaitTimeout: config.ws.initTimeoutMs,
      onConnect: async (ctx) => {
        const extra = ctx.extra;
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (typeof header !== 'string' || !header) {
          extra.socket.close(4401, 'Unauthorized');
          return false;
        }
        const auth = await authenticate(ds, config.jwtSecret, header);
        await auth.tx?.rollback();
        if (!auth.viewer) return false; // 4403 Forbidden
        const viewer = auth.viewer;
        const credential = viewer.apiKeyId ?? viewer.userId ?? '';
        const count = perCredential.get(credential) ?? 0;
        if (count >= config.ws.maxConnectionsPerCredential) {
          extra.socket.close(CLOSE_TOO_MANY, `Too many connections for this credential (at most ${config.ws.maxConnectionsPerCredential})`);
          return false;
        }
        perCredential.set(credential, count + 1);
        open++;
        const stopWatching = watchCredential(bus, viewer, auth.sessionId, () => extra.socket.close(CLOSE_FORBIDDEN, 'Forbidden: credentials changed'));
        const stopTimer = auth.expiresInMs === null ? noop : at(auth.expiresInMs, () => extra.socket.close(CLOSE_FORBIDDEN, 'Forbidden: credentials expired'));
        Object.assign(extra, {
          viewer,
          credential,
          clientAddress: clientAddress(extra.request),
          operations: new Map(),
          stopWatching: () => (stopWatching(), stopTimer()),
        });
        return true;
      },
      onClose: (ctx) => {
        const extra = ctx.extra;
        extra.stopWatching?.();
        if (extra.credential === undefined) return;
        open--;
        const left = (perCredential.get(extra.credential) ?? 1) - 1;
        if (left > 0) perCredential.set(extra.credential, left);
        else perCredential.delete(extra.credential);
      },
      onSubscribe: async (ctx, id, payload) => {
        // graphql-ws (6.x) has registered this operation's id before calling onSubscribe: the count
        // includes it, so `>` lets exactly the limit run (test/ws-subscription-limit.test.ts).
        if (Object.keys(ctx.subscriptions).length > config.ws.maxSubscriptionsPerConnection) {
          return [new GraphQLError(`At most ${config.ws.maxSubscriptionsPerConnection} operations at once on one connection`, { extensions: { code: 'RATE_LIMITED' } })];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: config.limits.tokens });
        } catch (err) {
          return [new GraphQLError((err as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
        }
        const errors = validate(schema, document, rules).map((e) =>
          e.extensions?.code ? e : new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
        );
        // Formatted like every other error (in production: no "Did you mean" naming schema members).
        if (errors.length) return errors.map((e) => reformat(format(e), e));
        const variables = (payload.variables ?? {}) as Record<string, unknown>;
        try {
          assertNoNul(variables);
          assertNoNul(payload.query, 'query');
          const cost = queryCost(schema, document, variables, payload.operationName, config.limits.cost);
          assertCost(cost, config.limits.cost);
          if (costs.enabled) await costs.charge(costKey(ctx.extra.viewer!), Math.max(1, cost ?? 1));
        } catch (err) {
          return [err as GraphQLError];
        }
        const extra = ctx.extra;
        const viewer = extra.viewer!;
        const contextValue = new RequestContext(randomUUID(), ds, config, log, viewer, new TenantTransaction(ds, viewer.workspaceId), null);
        contextValue.realtime = realtime;
        contextValue.clientAddress = extra.clientAddress ?? null;
        const writer = nextMessageWriter(extra, id, config.limits.responseBytes);
        contextValue.directOutput = { congested: writer.congested, send: (result) => writer.write(answerJson(result)) };
        extra.operations!.set(id, contextValue);
        return { schema, document, variableValues: variables, operationName: payload.operationName, contextValue };
      },
      onOperation: async (_ctx, _id, _payload, args: ExecutionArgs) => {
        // A query or mutation is done once it has its result; a subscription is done subscribing.
        // Each of its events gets a transaction of its own (see perEvent), ended in onNext.
        await (args.contextValue as RequestContext).tx?.commit();
        return undefined;
      },
      // Not async: called for every event and subscriber, and most events need no commit.
      onNext: (_ctx, _id, _payload, args, result) => {
        const r = result as ExecutionResult;
        const answer = (r.errors?.length ? withFormattedErrors(r) : serializedOnce(r)) as ExecutionResult;
        const tx = (args.contextValue as RequestContext).tx;
        if (!tx || tx.untouched) return answer;
        return tx
          .commit()
          .catch((err) => log.error({ err }, 'subscription event commit failed'))
          .then(() => answer);
      },
      onComplete: async (ctx, id) => {
        const operations = ctx.extra.operations;
        await operations?.get(id)?.tx?.rollback().catch(() => undefined);
        operations?.delete(id);
      },
    },
    wss,
    config.ws.keepAliveMs,
    (err) => log.error({ err }, 'websocket error'),
    config.limits.responseBytes,
  );
  return {
    wss,
    /** Open, authenticated WebSocket connections. */
    get connections() {
      return open;
    },
    async close() {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A variable that did not coerce to its type (graphql-js gives it no code): bad input, as Apollo answers it over HTTP. */
const isVariableError = (e: GraphQLError) => !e.extensions?.code && e.nodes?.length === 1 && e.nodes[0].kind === Kind.VARIABLE_DEFINITION && /^Variable "\$/.test(e.message);

const reformat = (f: ReturnType<typeof formatError>, e: GraphQLError) => new GraphQLError(f.message, { nodes: e.nodes, extensions: f.extensions });

/**
 * Calls `revoked` when the connection's credential stops being what it was at connect time: its API
 * key revoked; its user deactivated, deleted or given another role, their sessions revoked (a
 * password change), or its own session ended (log-out, a replayed refresh token). These are events
 * of the log, so a change made through any instance reaches the sockets of every instance.
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
