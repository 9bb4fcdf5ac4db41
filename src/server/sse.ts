import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { type ExecutionResult, GraphQLError, type GraphQLFormattedError, type GraphQLSchema, OperationTypeNode, type validate } from 'graphql';
import { createHandler, type Request as SseRequest, type OperationArgs, isAsyncIterable } from 'graphql-sse';
import { isDatabaseUnavailable } from '../db/unavailable';
import { authenticate, type Authentication } from '../modules/auth/authenticate';
import type { Viewer } from '../kernel/viewer';
import type { RequestContext } from '../data/context';
import { unavailableAnswer, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../kernel/errors';
import { errorFormatter } from './error-format';
import { checkOperation, operationRules } from './pre-execution';
import { subscribeShared } from './shared-execution';
import { commitEvent, credentialOf, type CredentialEnd, type LiveTransportDeps, operationContext, untilCredentialEnds } from './transport-shared';
import { guarded, type Stream } from './sse-operation';
import { headerOf, answer, capped, refuse } from './sse-http';

/** Where subscriptions are served over Server-Sent Events: under /graphql, so that a proxy that routes /graphql routes this too. */
export const SSE_PATH = '/graphql/stream';

/** What graphql-sse's callbacks get of the request (its `context`). */
interface RequestState {
  /** Null only for the internal request that frees an unconnected reservation (see freeReservation). */
  stream: Stream | null;
  /** The reservation token the request names: graphql-sse's "authenticate" answer. */
  token: string | null;
  /** Single connection mode: refusals of an operation are HTTP answers, not events. */
  single: boolean;
  viewer: Viewer | null;
  clientAddress: string | null;
}

const TOKEN_HEADER = 'x-graphql-event-stream-token';
/** How long a stream whose credential ended may take to deliver its last results before it is cut. */
const END_GRACE_MS = 5_000;

const ONLY_SUBSCRIPTIONS = {
  types: [OperationTypeNode.SUBSCRIPTION],
  refusal: `Only subscriptions are served at ${SSE_PATH}: send queries and mutations to /graphql (HTTP POST)`,
};

/**
 * GraphQL subscriptions over Server-Sent Events (the graphql-sse protocol, its server handler) at
 * /graphql/stream, for clients and proxies where a WebSocket is awkward. Both of the protocol's
 * modes: distinct connections (each subscription is a POST answered with its own event stream, what
 * graphql-sse's client does by default) and single connection (a reservation made with PUT, one
 * event stream, operations POSTed to it and stopped with DELETE).
 *
 * The same rules as over WebSocket (ws.ts), through the pieces both share (transport-shared.ts, pre-execution.ts):
 * every request carries `Authorization: Bearer <access token or API key>`; streams count against
 * WS_MAX_CONNECTIONS_PER_CREDENTIAL together with WebSockets; a reservation runs at most
 * WS_MAX_SUBSCRIPTIONS_PER_CONNECTION operations; operations pass the same validation, cost and
 * NUL checks and are charged to the same bucket; a stream ends (its operations' last result is a
 * FORBIDDEN error) when its credential expires, is revoked or changes. The resolvers, with their
 * `after` cursors and event visibility, are the same ones: only the delivery differs.
 *
 * graphql-sse's request handler is used through a small adapter of ours (serve) rather than its
 * Express one, for three things the latter does not do: a code on each of the handler's own refusals,
 * keep-alive comments at WS_KEEPALIVE_MS, and flow control. The handler pulls each operation's
 * results as fast as they come and queues their messages without bound; here an operation waits
 * while its response has a megabyte unsent (guarded), so that a client that stops reading is held
 * back and then cut off by the subscription's own queue limit (SUBSCRIPTION_MAX_QUEUE), as over WebSocket.
 */
export function attachSse(schema: GraphQLSchema, deps: LiveTransportDeps) {
  const { ds, config, log, bus, realtime, costs, connections } = deps;
  const rules = operationRules(config);
  const { reformatted, withFormattedErrors } = errorFormatter(config, log, 'sse');
  const checks = { schema, config, costs, rules, reformatted };
  const streams = new Set<Stream>();
  const reservations = new Map<string, Stream>();

  const handler = createHandler<Request, RequestState>({
    schema,
    // checkOperation (onSubscribe) has validated with the limit rules; graphql-sse would validate again.
    validate: (() => []) as unknown as typeof validate,
    // Never reached (onSubscribe refuses other operations); kept closed all the same.
    execute: () => ({ errors: [new GraphQLError(ONLY_SUBSCRIPTIONS.refusal, { extensions: { code: 'BAD_REQUEST' } })] }),
    subscribe: (args) => subscribeShared(args),
    // The credential was checked before the handler (handle); this is the reservation token, or null: distinct mode.
    authenticate: (req) => req.context.token,
    onSubscribe: async (req, params) => {
      const state = req.context;
      const viewer = state.viewer!;
      const checked = await checkOperation(
        checks,
        viewer,
        { query: params.query, variables: params.variables, operationName: params.operationName },
        ONLY_SUBSCRIPTIONS,
      );
      if ('errors' in checked)
        return refusal(
          state,
          checked.errors.map((e) => e.toJSON()),
        );
      const contextValue = operationContext(ds, config, log, realtime, viewer, state.clientAddress);
      return {
        schema,
        document: checked.document,
        variableValues: checked.variables,
        operationName: params.operationName,
        contextValue,
      } as unknown as OperationArgs;
    },
    onOperation: async (ctx, req, _args, result) => {
      const context = ctx as unknown as RequestContext;
      // Done subscribing: each event gets a transaction of its own (perEvent), ended in onNext.
      await context.tx?.commit();
      if (!isAsyncIterable(result)) return undefined;
      return guarded(result as AsyncIterable<ExecutionResult>, req.context.stream!, context);
    },
    // Not async: called for every event and subscriber, and most events need no commit.
    onNext: (ctx, _req, result) => {
      const r = result as ExecutionResult;
      const answer = r.errors?.length ? withFormattedErrors(r) : r;
      const committed = ctx ? commitEvent(ctx as unknown as RequestContext, log) : undefined;
      return committed ? committed.then(() => answer) : answer;
    },
    onComplete: async (ctx) => {
      await (ctx as unknown as RequestContext | undefined)?.tx?.rollback().catch(() => undefined);
    },
  });

  /**
   * A refused operation: over a distinct connection, one `next` event with the errors, then
   * `complete` (the protocol: a client that asked for an event stream gets its errors as events);
   * in single connection mode, an HTTP answer to the operation's request.
   */
  function refusal(state: RequestState, errors: GraphQLFormattedError[]) {
    if (state.single) {
      const code = errors[0]?.extensions?.code;
      const status = code === 'RATE_LIMITED' ? 429 : code === 'SERVICE_UNAVAILABLE' ? 503 : code === 'INTERNAL_SERVER_ERROR' ? 500 : 400;
      return [JSON.stringify({ errors }), { status, statusText: 'Refused', headers: { 'content-type': 'application/json; charset=utf-8' } }] as const;
    }
    return (async function* () {
      yield { errors } as unknown as ExecutionResult;
    })();
  }

  /** Opens a stream for the credential (a distinct connection, or a reservation); false when it holds its maximum of connections. */
  function openStream(auth: Authentication, token: string | null): Stream | null {
    const viewer = auth.viewer!;
    const credential = credentialOf(viewer);
    if (!connections.acquire(credential)) return null;
    const stream: Stream = {
      viewer,
      credential,
      token,
      res: null,
      events: null,
      operations: new Set(),
      starting: 0,
      ended: null,
      closed: false,
      stop: () => undefined,
      openedAt: Date.now(),
    };
    stream.stop = untilCredentialEnds(bus, auth, (why) => endStream(stream, why));
    streams.add(stream);
    if (token) {
      reservations.set(token, stream);
      // A reservation whose event stream does not connect in time is let go, as a WebSocket without connection_init.
      const deadline = setTimeout(() => stream.res || closeStream(stream), config.ws.initTimeoutMs);
      deadline.unref();
      const stopWatching = stream.stop;
      stream.stop = () => (clearTimeout(deadline), stopWatching());
    }
    return stream;
  }

  /** Frees what a stream holds (once): its connection, its watchers, its reservation, its events. */
  function closeStream(stream: Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    stream.stop();
    streams.delete(stream);
    connections.release(stream.credential);
    if (stream.token) {
      reservations.delete(stream.token);
      if (!stream.res) void freeReservation(stream.token);
    }
    void stream.events?.return(undefined).catch(() => undefined);
    log.info(
      {
        transport: 'sse',
        mode: stream.token ? 'single' : 'distinct',
        workspaceId: stream.viewer.workspaceId,
        apiKeyId: stream.viewer.apiKeyId ?? undefined,
        userId: stream.viewer.userId ?? undefined,
        durationMs: Date.now() - stream.openedAt,
      },
      'sse stream closed',
    );
  }

  /**
   * graphql-sse keeps a reservation until its event stream has connected and ended; one that never
   * connects it would keep for ever. Connecting to it here (an internal request through the
   * handler) and ending that at once lets it go.
   */
  async function freeReservation(token: string): Promise<void> {
    try {
      const [body] = await handler({
        method: 'GET',
        url: SSE_PATH,
        headers: { get: (key) => (key === 'accept' ? 'text/event-stream' : null) },
        body: null,
        raw: null as unknown as Request,
        context: { stream: null, token, single: true, viewer: null, clientAddress: null },
      });
      if (body && typeof body !== 'string') await body.return(undefined);
    } catch (err) {
      log.warn({ error: (err as Error).message }, 'sse reservation not freed');
    }
  }

  /**
   * The credential ended: each operation gets a FORBIDDEN error as its last result and completes,
   * then the stream ends (the client may subscribe again, with new credentials and `after`).
   */
  function endStream(stream: Stream, why: CredentialEnd): void {
    stream.ended = {
      message: why === 'expired' ? 'Forbidden: credentials expired' : 'Forbidden: credentials changed (revoked, signed out or given another role)',
      extensions: { code: 'FORBIDDEN', reason: why === 'expired' ? 'CREDENTIALS_EXPIRED' : 'CREDENTIALS_CHANGED' },
    };
    const res = stream.res;
    if (!res) return closeStream(stream);
    const ending = [...stream.operations].map((op) => (op.end(stream.ended!), op.finished));
    // Once each has delivered its error, and graphql-sse has queued its `complete` (in the same turn).
    void Promise.all(ending).then(() => setImmediate(() => void stream.events?.return(undefined).catch(() => undefined)));
    // A client that does not read its last results is not waited for.
    setTimeout(() => res.writableFinished || res.destroy(), END_GRACE_MS).unref();
  }

  /**
   * Runs one request through graphql-sse's handler and writes its answer: an event stream (each
   * message written at once; flow control is guarded's), or a plain answer, given a code if it is a
   * refusal of the handler's own.
   */
  async function serve(req: Request, res: Response, state: RequestState, wantsEvents: boolean): Promise<void> {
    const request: SseRequest<Request, RequestState> = {
      method: req.method,
      url: req.url,
      headers: {
        // graphql-sse compares Accept as a whole; the mode was decided here already (handle).
        get: (key) => (key === 'accept' ? (wantsEvents ? 'text/event-stream' : '*/*') : headerOf(req, key)),
      },
      // Parsed (within MAX_BODY_BYTES) by express.json; graphql-sse would read the raw body without a limit.
      body: () => (req.body as Record<string, unknown> | undefined) ?? null,
      raw: req,
      context: state,
    };
    const [body, init] = await handler(request);
    if (!body || typeof body === 'string') return answer(res, init, body);
    const stream = state.stream!;
    stream.events = body;
    if (stream.closed || res.destroyed) {
      await body.return(undefined);
      return;
    }
    res.writeHead(init.status, { ...init.headers, 'x-accel-buffering': 'no' });
    // Many operations of one reservation may wait for this response to drain at once.
    res.setMaxListeners(config.ws.maxSubscriptionsPerConnection + 10);
    // A comment now and then, so that proxies do not cut an idle stream (graphql-sse's own comes every 12 s).
    const keepAlive = setInterval(() => res.writableEnded || res.destroyed || res.write(':\n\n'), config.ws.keepAliveMs);
    try {
      for await (const message of body) {
        if (res.writableEnded || res.destroyed) break;
        res.write(capped(message, config.limits.responseBytes));
      }
    } catch (err) {
      log.error({ err }, 'sse stream failed');
    } finally {
      clearInterval(keepAlive);
      if (!res.writableEnded && !res.destroyed) res.end();
    }
  }

  /**
   * A request to /graphql/stream: its mode (the protocol's, read from the method, Accept and the
   * reservation token), its credential, the connection limit, then graphql-sse.
   */
  async function handle(req: Request, res: Response): Promise<void> {
    // A client that leaves while its credential is checked must not leave a stream behind.
    let gone = false;
    res.once('close', () => (gone = true));
    const wantsEvents = /\btext\/event-stream\b/i.test(headerOf(req, 'accept') ?? '');
    const token = headerOf(req, TOKEN_HEADER) || (typeof req.query.token === 'string' ? req.query.token : '') || null;
    const method = req.method;
    if (method !== 'GET' && method !== 'POST' && method !== 'PUT' && method !== 'DELETE') {
      return refuse(res, 405, 'BAD_REQUEST', `${method} is not served here: subscribe with POST (or GET) and Accept: text/event-stream`, {
        allow: 'GET, POST, PUT, DELETE',
      });
    }
    if (method === 'DELETE' && !token)
      return refuse(res, 400, 'BAD_REQUEST', `DELETE stops an operation of a reservation: name it with the ${TOKEN_HEADER} header`);
    if (!wantsEvents && !token && method !== 'PUT') {
      return refuse(
        res,
        406,
        'BAD_REQUEST',
        `${SSE_PATH} serves GraphQL subscriptions over Server-Sent Events (the graphql-sse protocol): ask for an event stream (Accept: text/event-stream). Queries and mutations go to /graphql`,
      );
    }
    const header = headerOf(req, 'authorization');
    if (!header) {
      return refuse(res, 401, 'UNAUTHENTICATED', 'Authentication required: send Authorization: Bearer <access token or API key>', {
        'www-authenticate': 'Bearer',
      });
    }
    // The database out here is answered 503 SERVICE_UNAVAILABLE (see the router below).
    const auth = await authenticate(ds, config.jwtSecret, header);
    await auth.tx?.rollback().catch(() => undefined);
    if (gone) return;
    if (!auth.viewer)
      return refuse(res, 401, 'UNAUTHENTICATED', auth.error?.message ?? 'Invalid credentials', { 'www-authenticate': 'Bearer error="invalid_token"' });
    const viewer = auth.viewer;
    const state: RequestState = { stream: null, token, single: !!token, viewer, clientAddress: req.ip ?? null };
    const tooMany = () =>
      refuse(res, 429, 'RATE_LIMITED', `Too many connections for this credential (at most ${connections.max}, WebSockets and event streams together)`);

    if (method === 'PUT') {
      // Single connection mode: a reservation, which holds a connection from now on.
      const reserved = randomUUID();
      const stream = openStream(auth, reserved);
      if (!stream) return tooMany();
      return serve(req, res, { ...state, stream, token: reserved, single: true }, false);
    }
    if (!token) {
      // Distinct connections mode: this request's own stream, for its one operation.
      const stream = openStream(auth, null);
      if (!stream) return tooMany();
      stream.res = res;
      res.once('close', () => closeStream(stream));
      return serve(req, res, { ...state, stream }, true);
    }
    // A reservation's requests: only with the credential that made it (to anyone else it does not exist).
    const stream = reservations.get(token);
    if (!stream || stream.credential !== credentialOf(viewer) || stream.viewer.workspaceId !== viewer.workspaceId) {
      return refuse(res, 404, 'NOT_FOUND', 'No reservation with this token for these credentials: make one with PUT');
    }
    state.stream = stream;
    if (wantsEvents) {
      if (stream.res) return refuse(res, 409, 'CONFLICT', "This reservation's event stream is open already");
      stream.res = res;
      res.once('close', () => closeStream(stream));
      return serve(req, res, state, true);
    }
    if (method === 'DELETE') return serve(req, res, state, false);
    if (!stream.res) return refuse(res, 409, 'CONFLICT', "Open the reservation's event stream (GET with Accept: text/event-stream) before sending operations");
    if (stream.operations.size + stream.starting >= config.ws.maxSubscriptionsPerConnection) {
      return refuse(res, 429, 'RATE_LIMITED', `At most ${config.ws.maxSubscriptionsPerConnection} operations at once on one stream`);
    }
    stream.starting++;
    try {
      await serve(req, res, state, false);
    } finally {
      stream.starting--;
    }
  }

  const router: Router = express.Router();
  router.use(express.json({ limit: config.limits.bodyBytes }));
  router.use((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        log.error({ err }, 'sse request failed');
        return void res.destroy();
      }
      // The database out (checking credentials, charging the cost, committing): retryable, as over HTTP.
      if (isDatabaseUnavailable(err)) {
        log.warn({ error: (err as Error).message }, 'database unavailable (sse)');
        return refuse(res, 503, 'SERVICE_UNAVAILABLE', unavailableAnswer().message, { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) });
      }
      log.error({ err }, 'sse request failed');
      // Nothing of the failure reaches the client: its code, no message, no stack.
      refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    });
  });

  return {
    router,
    /** Open event streams and reservations. */
    get streams() {
      return streams.size;
    },
    /** Ends every stream (shutdown): clients reconnect, to another instance, and resume with `after`. */
    async close() {
      for (const stream of [...streams]) {
        if (stream.res && !stream.res.writableEnded) void stream.events?.return(undefined).catch(() => undefined);
        closeStream(stream);
      }
    },
  };
}
