import type { Server } from 'node:http';
import {
  ApolloServer,
  type ApolloServerPlugin,
  type GraphQLRequestContextDidResolveOperation,
  type GraphQLRequestContextWillSendResponse,
  type GraphQLResponse,
  HeaderMap,
} from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { type FormattedExecutionResult, GraphQLError, type GraphQLSchema } from 'graphql';
import type { Config } from '../kernel/config';
import { isDatabaseUnavailable } from '../db/unavailable';
import type { Logger } from '../kernel/logger';
import type { Services } from './services';
import { compiledExecution } from './compiled-execution';
import type { RequestContext } from '../data/context';
import { unavailableAnswer, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../kernel/errors';
import { apolloErrorSettings } from './error-format';
import { apolloOperationSettings, checkResolvedOperation } from './pre-execution';
import { selectsSecret } from '../graphql/secret-fields';
import { SSE_PATH } from './sse';

/** GraphQL over HTTP: Apollo, with the checks and error formatter every transport shares; `drainLive` ends the WebSockets and SSE streams at shutdown. */
export function createApollo(
  schema: GraphQLSchema,
  server: Server,
  config: Config,
  log: Logger,
  services: Services,
  drainLive: () => Promise<void>,
): ApolloServer<RequestContext> {
  return new ApolloServer<RequestContext>({
    gateway: compiledExecution(schema, { onExecute: (mode) => services.metrics.execution(mode) }),
    // main.ts owns shutdown. Apollo's own handler would race it: a second stop() during a first
    // waits on a barrier Apollo resolves only on failure (5.5.1), so whoever comes second never returns.
    stopOnTerminationSignals: false,
    ...apolloOperationSettings(config),
    ...apolloErrorSettings(config, log),
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
    persistedQueries:
      config.persistedQueriesCacheBytes > 0 ? { cache: new InMemoryLRUCache<string>({ maxSize: config.persistedQueriesCacheBytes }), ttl: null } : false,
    // GET requests (queries only: Apollo answers a mutation over GET 405) must not be simple CORS
    // requests: they need a non-simple content-type (Apollo Client sends application/json) or an
    // `apollo-require-preflight` / `x-apollo-operation-name` header, else 400 BAD_REQUEST.
    csrfPrevention: true,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      requestPlugin(schema, config, log, services),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await drainLive();
            },
          };
        },
      },
    ],
  });
}

/**
 * Per request: the checks before execution, the transaction's end after it, and one log line.
 * The transaction commits even when some fields failed: each mutation ran in its own savepoint,
 * so what failed is already undone and what succeeded must stay.
 */
function requestPlugin(schema: GraphQLSchema, config: Config, log: Logger, services: Services): ApolloServerPlugin<RequestContext> {
  const checks = { schema, config, costs: services.costLimiter };
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      let replay: FormattedExecutionResult | undefined;
      return {
        async didResolveOperation(request) {
          const { document, source, operationName, operation, contextValue } = request;
          if (operation?.operation === 'subscription') throw subscriptionsNotOverHttp();
          const variables = request.request.variables ?? {};
          // `source` is the document's text also when only its hash was sent (a persisted query).
          contextValue.cost = await checkResolvedOperation(checks, contextValue.viewer, { document, source, variables, operationName }, contextValue.tx);
          replay = await claimIdempotency(request, schema, services);
        },
        async responseForOperation() {
          if (!replay) return null;
          return { http: { status: undefined, headers: new HeaderMap([['idempotent-replayed', 'true']]) }, body: { kind: 'single', singleResult: replay } };
        },
        async willSendResponse(request) {
          const { contextValue, response } = request;
          await commitRequest(contextValue, response, services, log);
          // The database was out (any field, the commit): the whole answer is a retryable 503.
          const answered = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          if (answered?.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) {
            response.http.status = 503;
            response.http.headers.set('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
          }
          if (contextValue.cost && response.body.kind === 'single') {
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, cost: contextValue.cost };
          }
          // The codes the client got (a database error is SERVICE_UNAVAILABLE there, whatever it was raised as).
          const codes = (answered ?? request.errors)?.map((e) => (e.extensions?.code as string) ?? 'INTERNAL_SERVER_ERROR');
          logRequest(request, codes, Number(process.hrtime.bigint() - started) / 1e6, services, log);
        },
      };
    },
  };
}

const subscriptionsNotOverHttp = () =>
  new GraphQLError(
    `Subscriptions are not served over HTTP POST: open a WebSocket to this same /graphql path (the graphql-ws protocol, graphql-transport-ws) and subscribe there, or subscribe over Server-Sent Events at ${SSE_PATH} (the graphql-sse protocol)`,
    {
      extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
    },
  );

/** A mutation sent with an Idempotency-Key runs once: the stored response of a retry (undefined for the first request, which is claimed). */
async function claimIdempotency(
  request: GraphQLRequestContextDidResolveOperation<RequestContext>,
  schema: GraphQLSchema,
  services: Services,
): Promise<FormattedExecutionResult | undefined> {
  const { document, source, operation, contextValue } = request;
  const key = request.request.http?.headers.get('idempotency-key');
  if (!key || operation?.operation !== 'mutation' || !contextValue.viewer || !contextValue.tx) return undefined;
  // The document's text, however it came (a retry by hash is the same request as the first with the text).
  const body = { query: source, variables: request.request.variables ?? {}, operationName: request.request.operationName ?? null };
  const claim = await services.idempotency.claim(contextValue.tx, contextValue.viewer, key, body, selectsSecret(schema, document));
  if (claim.kind === 'first') contextValue.idempotent = claim.request;
  else return claim.response;
  return undefined;
}

/** Ends the request's transaction (storing an idempotent mutation's response first); a failed commit replaces the answer. */
async function commitRequest(contextValue: RequestContext, response: GraphQLResponse, services: Services, log: Logger): Promise<void> {
  const tx = contextValue.tx;
  if (!tx) return;
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

/** The request's metrics and its log line. */
function logRequest(
  request: GraphQLRequestContextWillSendResponse<RequestContext>,
  codes: string[] | undefined,
  durationMs: number,
  services: Services,
  log: Logger,
): void {
  const { contextValue, operationName } = request;
  const v = contextValue.viewer;
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
}
