import type { IncomingMessage, Server } from 'node:http';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { WebSocketServer } from 'ws';
import { authenticate } from '../modules/auth/authenticate';
import type { Viewer } from '../modules/auth/viewer';
import type { RequestContext } from './context';
import { subscribeShared } from './shared-execution';
import { checkOperation, commitEvent, credentialOf, errorFormatting, type LiveTransportDeps, operationContext, operationRules, untilCredentialEnds } from './transport-shared';
import { nextMessageWriter, resultJson, serializedOnce, serveGraphqlWs } from './ws-transport';

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

export interface WebSocketDeps extends LiveTransportDeps {
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
  const { ds, config, log, bus, realtime, costs, connections, clientAddress } = deps;
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: config.limits.bodyBytes });
  const rules = operationRules(config);
  const { reformatted, withFormattedErrors } = errorFormatting(config, log, 'ws');
  /** A result as onNext answers it, as JSON (for results written past graphql-ws, see shared-execution.ts). */
  const answerJson = (r: ExecutionResult) => (r.errors?.length ? JSON.stringify(withFormattedErrors(r)) : resultJson(r));
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
        const credential = credentialOf(viewer);
        if (!connections.acquire(credential)) {
          extra.socket.close(CLOSE_TOO_MANY, `Too many connections for this credential (at most ${connections.max})`);
          return false;
        }
        open++;
        const stopWatching = untilCredentialEnds(bus, auth, (why) => extra.socket.close(CLOSE_FORBIDDEN, why === 'expired' ? 'Forbidden: credentials expired' : 'Forbidden: credentials changed'));
        Object.assign(extra, { viewer, credential, clientAddress: clientAddress(extra.request), operations: new Map(), stopWatching });
        return true;
      },
      onClose: (ctx) => {
        const extra = ctx.extra;
        extra.stopWatching?.();
        if (extra.credential === undefined) return;
        open--;
        connections.release(extra.credential);
      },
      onSubscribe: async (ctx, id, payload) => {
        // graphql-ws (6.x) has registered this operation's id before calling onSubscribe: the count
        // includes it, so `>` lets exactly the limit run (test/ws-subscription-limit.test.ts).
        if (Object.keys(ctx.subscriptions).length > config.ws.maxSubscriptionsPerConnection) {
          return [new GraphQLError(`At most ${config.ws.maxSubscriptionsPerConnection} operations at once on one connection`, { extensions: { code: 'RATE_LIMITED' } })];
        }
        const extra = ctx.extra;
        const viewer = extra.viewer!;
        const checked = await checkOperation({ schema, config, costs, rules, reformatted }, viewer, payload);
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
