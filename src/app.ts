import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { type FormattedExecutionResult, GraphQLError, type GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import type { Config } from './kernel/config';
import { pendingMigrations } from './db/data-source';
import { databaseProbe } from './db/health';
import { PG_INSUFFICIENT_PRIVILEGE, pgError } from './db/pg-errors';
import { isDatabaseUnavailable } from './db/unavailable';
import { RequestContext } from './graphql/context';
import { formatError, serviceUnavailable, unavailableAnswer, UNAVAILABLE_RETRY_AFTER_SECONDS } from './graphql/errors';
import { costKey } from './graphql/cost-limiter';
import { assertCost, assertNoNul, limitRules, queryCost } from './graphql/limits';
import { compiledExecution } from './graphql/compiled-execution';
import { buildSchema } from './graphql/schema';
import { attachSse, SSE_PATH } from './graphql/sse';
import { CredentialConnections } from './graphql/transport-shared';
import { attachWebSocket } from './graphql/ws';
import { explorerRouter, type ExplorerOptions } from './explorer';
import { selectsSecret } from './graphql/secret-fields';
import type { Logger } from './kernel/logger';
import { authenticate } from './modules/auth/authenticate';
import { createResolverContainer, RESOLVERS, type Services } from './modules';
import { intakeRouter } from './modules/intake/intake.routes';
import { openStreams } from './modules/realtime/live-stream';

export interface App {
  server: Server;
  schema: GraphQLSchema;
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish, closes WebSockets and the event bus. The database pool stays open. */
  close(): Promise<void>;
}

export interface AppOptions {
  /** The GraphiQL explorer's settings (it is served when config.explorer is on). */
  explorer?: ExplorerOptions;
  /** What /metrics serves, when not this instance's own registry (a cluster worker serves every worker's). */
  metrics?: () => Promise<string>;
}

export async function createApp(ds: DataSource, config: Config, log: Logger, services: Services, options: AppOptions = {}): Promise<App> {
  const schema = buildSchema(createResolverContainer(services));
  services.nodes.assertCovers(schema, RESOLVERS);
  const app = express();
  app.disable('x-powered-by');
  // Express hashes every body it sends for an ETag; GraphQL answers are POSTed and never revalidated, and a 300 KB page hashed per request is wasted work.
  app.set('etag', false);
  // req.ip (per-address limits, logs) believes X-Forwarded-For only from the proxies configured.
  app.set('trust proxy', config.trustProxy);
  const server = createServer(app);
  await services.eventBus.start();
  services.webhooks.start();
  services.automation.engine.start();
  services.rollupCompactor.start();
  // A WebSocket's upgrade request never passes through Express: its address is read by Express's own
  // req.ip (on a view of that request), so that TRUST_PROXY applies to it exactly as to HTTP.
  const clientAddress = (req: IncomingMessage): string | null =>
    (Object.create(app.request, { headers: { value: req.headers }, socket: { value: req.socket } }) as express.Request).ip ?? null;
  // WebSockets and SSE streams count together against WS_MAX_CONNECTIONS_PER_CREDENTIAL.
  const connections = new CredentialConnections(config.ws.maxConnectionsPerCredential);
  const live = { ds, config, log, bus: services.eventBus, realtime: services.realtime, costs: services.costLimiter, connections };
  const ws = attachWebSocket(server, schema, { ...live, clientAddress });
  const sse = attachSse(schema, live);
  let shuttingDown = false;

  const apollo = new ApolloServer<RequestContext>({
    gateway: compiledExecution(schema, { onExecute: (mode) => services.metrics.execution(mode) }),
    // main.ts owns shutdown. Apollo's own handler would race it: a second stop() during a first
    // waits on a barrier Apollo resolves only on failure (5.5.1), so whoever comes second never returns.
    stopOnTerminationSignals: false,
    introspection: config.env !== 'production',
    hideSchemaDetailsFromClientErrors: config.env === 'production',
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    // Automatic persisted queries (Apollo's APQ): a client sends a document's sha256 instead of the
    // document, and the document once when this instance does not know the hash yet. The cache holds
    // documents, never data, and is shared by every workspace: a document is only text (values belong
    // in variables), and whoever sends its hash runs it with their own credentials, under every check
    // a full request gets (validation, cost, depth, rate limit). A document is kept only once it has
    // parsed, validated and passed the cost check (Apollo stores it after didResolveOperation), so a
    // document refused once is never runnable by hash. Anyone may register one, credentials or not
    // (signUp and logIn are sent that way too), and a document's hash tells whoever sends it whether
    // someone sent that exact text: documents with literal values should pass them as variables.
    // Bounded (least recently used dropped) so registrations cost at most that memory; no TTL: a
    // dropped hash costs its client one round trip (PERSISTED_QUERY_NOT_FOUND, then the document).
    // Per instance: behind a load balancer each instance learns a hash on its own, the same way.
    persistedQueries: config.persistedQueriesCacheBytes > 0 ? { cache: new InMemoryLRUCache<string>({ maxSize: config.persistedQueriesCacheBytes }), ttl: null } : false,
    // GET requests (queries only: Apollo answers a mutation over GET 405) must not be simple CORS
    // requests: they need a non-simple content-type (Apollo Client sends application/json) or an
    // `apollo-require-preflight` / `x-apollo-operation-name` header, else 400 BAD_REQUEST.
    csrfPrevention: true,
    parseOptions: { maxTokens: config.limits.tokens },
    validationRules: limitRules(config.limits),
    formatError: (formatted, error) =>
      formatError(formatted, error, {
        exposeDetails: config.exposeErrorDetails,
        hideSuggestions: config.env === 'production',
        onInternal: (err) => log.error({ err }, 'internal error'),
        onUnavailable: (err) => log.warn({ error: (err as Error)?.message }, 'database unavailable'),
      }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      requestPlugin(schema, config, log, services),
      { async serverWillStart() { return { async drainServer() { await Promise.all([ws.close(), sse.close()]); } }; } },
    ],
  });
  await apollo.start();

  // Alive, and its database with it: a server whose database is gone answers every request 503, and
  // says so here too (the log has the cause). /readyz adds the migrations check.
  const database = databaseProbe(ds);
  app.get('/healthz', async (_req, res) => {
    const db = await database();
    if (!db.ok) return void res.status(503).json({ status: 'database unreachable', error: config.exposeErrorDetails ? db.error : undefined });
    res.json({ status: 'ok' });
  });
  services.metrics.watch(ds, services.workerDs, { connections: () => ws.connections, sseStreams: () => sse.streams, subscriptions: openStreams });
  // Prometheus scrapes this; it says nothing about any workspace (counts only). Put it behind the
  // network's own access control in production, as usual for /metrics.
  app.get('/metrics', async (_req, res) => {
    const read = options.metrics ?? (() => services.metrics.registry.metrics());
    const text = await read().catch((err: Error) => {
      log.warn({ error: err.message }, 'metrics unavailable');
      return null;
    });
    if (text === null) return void res.status(503).send('metrics unavailable\n');
    res.set('content-type', services.metrics.registry.contentType).send(text);
  });

  // Ready: the database answers and has every migration this code has (an instance of a newer
  // version started before `npm run trellis -- migrate` ran takes no traffic until it has).
  app.get('/readyz', async (_req, res) => {
    if (shuttingDown) return void res.status(503).json({ status: 'shutting down' });
    let pending: string[];
    try {
      pending = await pendingMigrations(ds);
    } catch (err) {
      // The service role may read the migrations table from the migration that grants it on: before, that one is pending.
      if (pgError(err).code === PG_INSUFFICIENT_PRIVILEGE) return void res.status(503).json({ status: 'pending migrations' });
      return void res.status(503).json({ status: 'database unreachable' });
    }
    if (pending.length) return void res.status(503).json({ status: 'pending migrations', pending });
    res.json({ status: 'ready' });
  });

  // Subscriptions over Server-Sent Events (graphql-sse), under /graphql: before the explorer and Apollo, which would take its requests.
  app.use(SSE_PATH, sse.router);
  // Before Apollo: it answers browsers (GET asking for HTML) and passes everything else on.
  if (config.explorer) app.use(explorerRouter(options.explorer));
  app.use(
    '/graphql',
    noStore,
    capResponses(config.limits.responseBytes),
    express.json({ limit: config.limits.bodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 100)) || randomUUID();
        // The database unreachable while checking credentials: 503 SERVICE_UNAVAILABLE with Retry-After.
        const auth = await authenticate(ds, config.jwtSecret, req.headers.authorization, services.apiKeyCache).catch((err) => {
          throw isDatabaseUnavailable(err) ? serviceUnavailable() : err;
        });
        // Normally committed in willSendResponse; this returns the connection if Apollo answered early.
        res.on('close', () => void auth.tx?.rollback().catch(() => undefined));
        const context = new RequestContext(requestId, ds, config, log.child({ requestId }), auth.viewer, auth.tx, auth.error);
        context.clientAddress = req.ip ?? null;
        return context;
      },
    }),
  );
  app.use('/intake', intakeRouter(services.intake, ds, config.intake, log));
  // The root, opened by someone who left /graphql off the printed address: a browser goes to the
  // explorer; anything else, there or at any unknown path, gets a JSON answer saying where the API is.
  app.get('/', (req, res, next) => (config.explorer && req.accepts(['application/json', 'text/html']) === 'text/html' ? res.redirect(302, '/graphql') : next()));
  app.use((req, res) => void res.status(404).json({ error: { code: 'NOT_FOUND', message: `nothing at ${req.method} ${req.path.slice(0, 200)}: GraphQL is served at /graphql` } }));
  app.use(bodyErrors);

  return {
    server,
    schema,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      }),
    async close() {
      shuttingDown = true;
      await apollo.stop();
      await services.automation.engine.stop();
      await services.rollupCompactor.stop();
      await services.webhooks.stop();
      await services.costLimiter.stop();
      services.automation.mailer.close();
      await services.eventBus.stop();
    },
  };
}

/**
 * Per request: the cost limit before execution, the transaction's end after it, and one log line.
 * The transaction commits even when some fields failed: each mutation ran in its own savepoint,
 * so what failed is already undone and what succeeded must stay.
 */
function requestPlugin(schema: GraphQLSchema, config: Config, log: Logger, services: Services): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      let replay: FormattedExecutionResult | undefined;
      return {
        async didResolveOperation({ document, source, request, operationName, operation, contextValue }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError(`Subscriptions are not served over HTTP POST: open a WebSocket to this same /graphql path (the graphql-ws protocol, graphql-transport-ws) and subscribe there, or subscribe over Server-Sent Events at ${SSE_PATH} (the graphql-sse protocol)`, {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          assertNoNul(request.variables ?? {});
          // `source` is the document's text also when only its hash was sent (a persisted query).
          assertNoNul(source, 'query');
          const cost = queryCost(schema, document, request.variables ?? {}, operationName, config.limits.cost);
          assertCost(cost, config.limits.cost);
          // Charged to the caller's bucket before anything runs; signing up and in have limits of their own.
          if (contextValue.viewer && services.costLimiter.enabled) contextValue.cost = await services.costLimiter.charge(costKey(contextValue.viewer), Math.max(1, cost ?? 1), contextValue.tx);
          // A mutation sent with an Idempotency-Key runs once; a retry gets the stored response.
          const key = request.http?.headers.get('idempotency-key');
          if (key && operation?.operation === 'mutation' && contextValue.viewer && contextValue.tx) {
            // The document's text, however it came (a retry by hash is the same request as the first with the text).
            const body = { query: source, variables: request.variables ?? {}, operationName: request.operationName ?? null };
            const claim = await services.idempotency.claim(contextValue.tx, contextValue.viewer, key, body, selectsSecret(schema, document));
            if (claim.kind === 'first') contextValue.idempotent = claim.request;
            else replay = claim.response;
          }
        },
        async responseForOperation() {
          if (!replay) return null;
          return { http: { status: undefined, headers: new HeaderMap([['idempotent-replayed', 'true']]) }, body: { kind: 'single', singleResult: replay } };
        },
        async willSendResponse({ contextValue, response, operationName, errors }) {
          const tx = contextValue.tx;
          if (tx) {
            try {
              if (contextValue.idempotent && response.body.kind === 'single') await services.idempotency.store(tx, contextValue.idempotent, response.body.singleResult);
              await tx.commit();
            } catch (err) {
              const unavailable = isDatabaseUnavailable(err);
              if (unavailable) log.warn({ error: (err as Error).message, requestId: contextValue.requestId }, 'commit failed: database unavailable');
              else log.error({ err, requestId: contextValue.requestId }, 'commit failed');
              if (response.body.kind === 'single') {
                response.body.singleResult = {
                  errors: [unavailable ? unavailableAnswer() : { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
                };
              }
            }
          }
          // The database was out (any field, the commit): the whole answer is a retryable 503.
          const answered = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          if (answered?.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) {
            response.http.status = 503;
            response.http.headers.set('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
          }
          if (contextValue.cost && response.body.kind === 'single') {
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, cost: contextValue.cost };
          }
          const v = contextValue.viewer;
          const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
          // The codes the client got (a database error is SERVICE_UNAVAILABLE there, whatever it was raised as).
          const codes = (answered ?? errors)?.map((e) => (e.extensions?.code as string) ?? 'INTERNAL_SERVER_ERROR');
          services.metrics.request(operationName, codes?.[0] ?? 'ok', durationMs / 1000);
          log.info(
            {
              requestId: contextValue.requestId,
              operation: operationName ?? null,
              durationMs,
              workspaceId: v?.workspaceId,
              userId: v?.kind === 'USER' ? v.userId : undefined,
              apiKeyId: v?.apiKeyId ?? undefined,
              errors: codes,
            },
            'graphql request',
          );
        },
      };
    },
  };
}

/**
 * No answer larger than MAX_RESPONSE_BYTES leaves: the cost model prices a request before it runs,
 * and this is the wall behind it (a page of large text fields can still add up). The client gets
 * QUERY_TOO_COMPLEX instead (a mutation's writes stand: only its answer is withheld).
 */
function capResponses(maxBytes: number): RequestHandler {
  return (_req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      if (typeof body === 'string' && body.length * 3 > maxBytes && Buffer.byteLength(body) > maxBytes) {
        const message = `The response is larger than ${maxBytes} bytes (MAX_RESPONSE_BYTES); select fewer fields or ask for smaller pages`;
        res.status(200).type('application/json');
        return send(JSON.stringify({ errors: [{ message, extensions: { code: 'QUERY_TOO_COMPLEX' } }] }));
      }
      return send(body);
    };
    next();
  };
}

/**
 * No cache keeps a GraphQL answer: each is one credential's view of one workspace's data, now. POST
 * answers are not cached anyway; GET answers (a persisted query sent by hash) would be, heuristically,
 * by a browser or a shared proxy, and a proxy would hand one user's answer to another. The explorer's
 * page (GET asking for HTML, answered before this) sets the same itself.
 */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('cache-control', 'no-store');
  next();
};

/** Body-parser failures (too large, malformed JSON) answered in GraphQL's shape, without a stack. */
const bodyErrors: ErrorRequestHandler = (err, _req, res, next) => {
  if (res.headersSent) return next(err);
  const e = err as { status?: number; type?: string };
  const status = e.status && e.status >= 400 && e.status < 500 ? e.status : 500;
  const message =
    e.type === 'entity.too.large' ? 'Request body too large' : e.type === 'entity.parse.failed' ? 'Malformed JSON body' : status === 500 ? 'Internal server error' : 'Bad request';
  const code = status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT';
  res.status(status).json({ errors: [new GraphQLError(message, { extensions: { code } }).toJSON()] });
};
