import type { IncomingMessage, Server } from 'node:http';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { WebSocketServer } from 'ws';
import { authenticate } from '../modules/auth/authenticate';
import type { Viewer } from '../kernel/viewer';
import type { RequestContext } from '../data/context';
import { errorFormatter } from './error-format';
import { operationsRunning, resultJson, serializedOnce } from './graphql-ws-internals';
import { checkOperation, operationRules } from './pre-execution';
import { subscribeShared } from './shared-execution';
import { commitEvent, credentialOf, type LiveTransportDeps, operationContext, untilCredentialEnds } from './transport-shared';
import { nextMessageWriter, serveGraphqlWs, type WsServerOptions } from './ws-transport';

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

interface WebSocketDeps extends LiveTransportDeps {
  /** The client's address of an upgrade request, as HTTP requests' is read (TRUST_PROXY). */
  clientAddress: (request: IncomingMessage) => string | null;
}

const CLOSE_FORBIDDEN = 4403;
const CLOSE_TOO_MANY = 4429;

/**
 * graphql-ws on the HTTP server's /graphql path. It runs outside Apollo, so the same limits, error
 * formatting and per-operation transaction are applied here. Credentials are checked once, on connect;
 * a socket is closed (4403) when they end: at the access token's `exp` or the key's `expiresAt`, and
 * when the key is revoked, the session ends or the user changes (see untilCredentialEnds).
 */
export function attachWebSocket(server: Server, schema: GraphQLSchema, deps: WebSocketDeps) {
  const { config, log } = deps;
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: config.limits.bodyBytes });
  const open = { connections: 0 };
  const cleanup = serveGraphqlWs<ConnectionExtra>(
    {
      schema,
      subscribe: subscribeShared,
      connectionInitWaitTimeout: config.ws.initTimeoutMs,
      ...connectionHooks(deps, open),
      ...operationHooks(schema, deps),
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
      return open.connections;
    },
    async close() {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

type Hooks = WsServerOptions<ConnectionExtra>;

/**
 * A connection's credential: checked once, on connect (4401 without one, 4403 when it is refused,
 * 4429 past the connections the credential may hold), counted in `open` while the connection lasts,
 * and watched: the socket is closed (4403) when it ends.
 */
function connectionHooks(deps: WebSocketDeps, open: { connections: number }): Pick<Hooks, 'onConnect' | 'onClose'> {
  const { ds, config, bus, connections, clientAddress } = deps;
  return {
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
      const credential = credentialOf(viewer);
      if (!connections.acquire(credential)) {
        extra.socket.close(CLOSE_TOO_MANY, `Too many connections for this credential (at most ${connections.max})`);
        return false;
      }
      open.connections++;
      const stopWatching = untilCredentialEnds(bus, auth, (why) =>
        extra.socket.close(CLOSE_FORBIDDEN, why === 'expired' ? 'Forbidden: credentials expired' : 'Forbidden: credentials changed'),
      );
      Object.assign(extra, { viewer, credential, clientAddress: clientAddress(extra.request), operations: new Map(), stopWatching });
      return true;
    },
    onClose: (ctx) => {
      const extra = ctx.extra;
      extra.stopWatching?.();
      if (extra.credential === undefined) return;
      open.connections--;
      connections.release(extra.credential);
    },
  };
}

/**
 * Each operation of a connection: at most WS_MAX_SUBSCRIPTIONS_PER_CONNECTION at once, checked as
 * over HTTP (pre-execution.ts), run in a transaction of its own, its results formatted as over HTTP
 * (errorFormatter) and, for a subscription, written past graphql-ws when they can be (shared-execution.ts).
 */
function operationHooks(schema: GraphQLSchema, deps: WebSocketDeps): Pick<Hooks, 'onSubscribe' | 'onOperation' | 'onNext' | 'onComplete'> {
  const { ds, config, log, realtime, costs } = deps;
  const { reformatted, withFormattedErrors } = errorFormatter(config, log, 'ws');
  const checks = { schema, config, costs, rules: operationRules(config), reformatted };
  /** A result as onNext answers it, as JSON (for results written past graphql-ws, see shared-execution.ts). */
  const answerJson = (r: ExecutionResult) => (r.errors?.length ? JSON.stringify(withFormattedErrors(r)) : resultJson(r));
  return {
    onSubscribe: async (ctx, id, payload) => {
      // The count includes this operation (test/ws-subscription-limit.test.ts): `>` lets exactly the limit run.
      if (operationsRunning(ctx) > config.ws.maxSubscriptionsPerConnection) {
        return [
          new GraphQLError(`At most ${config.ws.maxSubscriptionsPerConnection} operations at once on one connection`, { extensions: { code: 'RATE_LIMITED' } }),
        ];
      }
      const extra = ctx.extra;
      const viewer = extra.viewer!;
      const checked = await checkOperation(checks, viewer, payload);
      if ('errors' in checked) return checked.errors;
      const contextValue = operationContext(ds, config, log, realtime, viewer, extra.clientAddress ?? null);
      const writer = nextMessageWriter(extra, id, config.limits.responseBytes);
      contextValue.directOutput = { congested: writer.congested, send: (result) => writer.write(answerJson(result)) };
      extra.operations!.set(id, contextValue);
      return { schema, document: checked.document, variableValues: checked.variables, operationName: payload.operationName, contextValue };
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
      const committed = commitEvent(args.contextValue as RequestContext, log);
      return committed ? committed.then(() => answer) : answer;
    },
    onComplete: async (ctx, id) => {
      const operations = ctx.extra.operations;
      await operations
        ?.get(id)
        ?.tx?.rollback()
        .catch(() => undefined);
      operations?.delete(id);
    },
  };
}
