import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import type { Config } from '../kernel/config';
import { pendingMigrations } from '../db/data-source';
import { databaseProbe } from '../db/health';
import { PG_INSUFFICIENT_PRIVILEGE, pgError } from '../db/pg-errors';
import { isDatabaseUnavailable } from '../db/unavailable';
import { createApollo } from './apollo';
import { RequestContext } from '../data/context';
import { serviceUnavailable } from '../kernel/errors';
import { buildSchema } from './schema';
import { attachSse, SSE_PATH } from './sse';
import { CredentialConnections } from './transport-shared';
import { attachWebSocket } from './ws';
import { explorerRouter, type ExplorerOptions } from './explorer/index';
import type { Logger } from '../kernel/logger';
import { authenticate } from '../modules/auth/authenticate';
import { createResolverContainer, RESOLVERS, type Services } from './services';
import { intakeRouter } from '../modules/intake/intake.routes';
import { openStreams } from '../modules/realtime/live-stream';

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

/** What the app's parts are made from. */
interface AppDeps {
  ds: DataSource;
  config: Config;
  log: Logger;
  services: Services;
}

export async function createApp(ds: DataSource, config: Config, log: Logger, services: Services, options: AppOptions = {}): Promise<App> {
  const deps: AppDeps = { ds, config, log, services };
  const schema = buildSchema(createResolverContainer(services));
  services.nodes.assertCovers(schema, RESOLVERS);
  const app = expressApp(config);
  const server = createServer(app);
  await startBackgroundWork(services);
  const live = attachLiveTransports(server, app, schema, deps);
  let shuttingDown = false;

  const apollo = createApollo(schema, server, config, log, services, live.close);
  await apollo.start();

  serveProbes(app, deps, options, () => shuttingDown);
  services.metrics.watch(ds, services.workerDs, { connections: () => live.ws.connections, sseStreams: () => live.sse.streams, subscriptions: openStreams });
  serveApi(app, apollo, live.sse.router, deps, options);

  return {
    server,
    schema,
    listen: (port, host) => listen(server, port, host),
    async close() {
      shuttingDown = true;
      await apollo.stop();
      await stopBackgroundWork(services);
    },
  };
}

function expressApp(config: Config): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Express hashes every body it sends for an ETag; GraphQL answers are POSTed and never revalidated, and a 300 KB page hashed per request is wasted work.
  app.set('etag', false);
  // req.ip (per-address limits, logs) believes X-Forwarded-For only from the proxies configured.
  app.set('trust proxy', config.trustProxy);
  return app;
}

/** The event bus and the workers that run beside requests. */
async function startBackgroundWork(services: Services): Promise<void> {
  await services.eventBus.start();
  services.webhooks.start();
  services.automation.engine.start();
  services.rollupCompactor.start();
}

/** After the last request (Apollo stopped): the workers, then the event bus. */
async function stopBackgroundWork(services: Services): Promise<void> {
  await services.automation.engine.stop();
  await services.rollupCompactor.stop();
  await services.webhooks.stop();
  await services.costLimiter.stop();
  services.automation.mailer.close();
  await services.eventBus.stop();
}

/** Subscriptions: graphql-ws on /graphql and graphql-sse at SSE_PATH. */
function attachLiveTransports(server: Server, app: express.Express, schema: GraphQLSchema, { ds, config, log, services }: AppDeps) {
  // A WebSocket's upgrade request never passes through Express: its address is read by Express's own
  // req.ip (on a view of that request), so that TRUST_PROXY applies to it exactly as to HTTP.
  const clientAddress = (req: IncomingMessage): string | null =>
    (Object.create(app.request, { headers: { value: req.headers }, socket: { value: req.socket } }) as express.Request).ip ?? null;
  // WebSockets and SSE streams count together against WS_MAX_CONNECTIONS_PER_CREDENTIAL.
  const connections = new CredentialConnections(config.ws.maxConnectionsPerCredential);
  const live = { ds, config, log, bus: services.eventBus, realtime: services.realtime, costs: services.costLimiter, connections };
  const ws = attachWebSocket(server, schema, { ...live, clientAddress });
  const sse = attachSse(schema, live);
  return {
    ws,
    sse,
    close: async () => {
      await Promise.all([ws.close(), sse.close()]);
    },
  };
}

/** /healthz, /metrics and /readyz. */
function serveProbes(app: express.Express, { ds, config, log, services }: AppDeps, options: AppOptions, shuttingDown: () => boolean): void {
  // Alive, and its database with it: a server whose database is gone answers every request 503, and
  // says so here too (the log has the cause). /readyz adds the migrations check.
  const database = databaseProbe(ds);
  app.get('/healthz', async (_req, res) => {
    const db = await database();
    if (!db.ok) return void res.status(503).json({ status: 'database unreachable', error: config.exposeErrorDetails ? db.error : undefined });
    res.json({ status: 'ok' });
  });
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
    if (shuttingDown()) return void res.status(503).json({ status: 'shutting down' });
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
}

/** GraphQL (SSE, the explorer, Apollo), intake forms, and the answers to everything else. */
function serveApi(app: express.Express, apollo: ApolloServer<RequestContext>, sseRouter: express.Router, deps: AppDeps, options: AppOptions): void {
  const { ds, config, log, services } = deps;
  // Subscriptions over Server-Sent Events (graphql-sse), under /graphql: before the explorer and Apollo, which would take its requests.
  app.use(SSE_PATH, sseRouter);
  // Before Apollo: it answers browsers (GET asking for HTML) and passes everything else on.
  if (config.explorer) app.use(explorerRouter(options.explorer));
  app.use(
    '/graphql',
    noStore,
    capResponses(config.limits.responseBytes),
    express.json({ limit: config.limits.bodyBytes }),
    expressMiddleware(apollo, { context: ({ req, res }) => requestContext(req, res, deps) }),
  );
  app.use('/intake', intakeRouter(services.intake, ds, config.intake, log));
  // The root, opened by someone who left /graphql off the printed address: a browser goes to the
  // explorer; anything else, there or at any unknown path, gets a JSON answer saying where the API is.
  app.get('/', (req, res, next) =>
    config.explorer && req.accepts(['application/json', 'text/html']) === 'text/html' ? res.redirect(302, '/graphql') : next(),
  );
  app.use(
    (req, res) =>
      void res.status(404).json({ error: { code: 'NOT_FOUND', message: `nothing at ${req.method} ${req.path.slice(0, 200)}: GraphQL is served at /graphql` } }),
  );
  app.use(bodyErrors);
}

/** An HTTP request's context: its id, its credential (checked here) and transaction, the client's address. */
async function requestContext(req: express.Request, res: express.Response, { ds, config, log, services }: AppDeps): Promise<RequestContext> {
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
}

function listen(server: Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
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
    e.type === 'entity.too.large'
      ? 'Request body too large'
      : e.type === 'entity.parse.failed'
        ? 'Malformed JSON body'
        : status === 500
          ? 'Internal server error'
          : 'Bad request';
  const code = status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT';
  res.status(status).json({ errors: [new GraphQLError(message, { extensions: { code } }).toJSON()] });
};
