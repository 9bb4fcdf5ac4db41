import type { Server } from 'node:http';
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, GraphQLError, type GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { TenantTransaction } from '../db/tenant-transaction';
import type { Logger } from '../logger';
import { authenticate } from '../modules/auth/authenticate';
import type { Viewer } from '../modules/auth/viewer';
import { RequestContext } from './context';
import { formatError } from './errors';
import { assertCost, assertNoNul, limitRules, queryCost } from './limits';

type ConnectionExtra = { viewer?: Viewer } & Record<string, unknown>;

/**
 * graphql-ws on the HTTP server's /graphql path. It runs outside Apollo, so the same limits, error
 * formatting and per-operation transaction are applied here. Credentials are checked once, on connect.
 */
export function attachWebSocket(server: Server, schema: GraphQLSchema, ds: DataSource, config: Config, log: Logger) {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: config.limits.bodyBytes });
  const rules = [...specifiedRules, ...limitRules(config.limits)];
  const format = (e: GraphQLError) =>
    formatError(e.toJSON(), e, { exposeDetails: config.env === 'development', hideSuggestions: config.env === 'production', onInternal: (err) => log.error({ err }, 'internal error (ws)') });

  const cleanup = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema,
      connectionInitWaitTimeout: 10_000,
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (typeof header !== 'string' || !header) {
          ctx.extra.socket.close(4401, 'Unauthorized');
          return false;
        }
        const auth = await authenticate(ds, config.jwtSecret, header);
        await auth.tx?.rollback();
        if (!auth.viewer) return false; // 4403 Forbidden
        (ctx.extra as ConnectionExtra).viewer = auth.viewer;
        return true;
      },
      onSubscribe: (ctx, _id, payload) => {
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: config.limits.tokens });
        } catch (err) {
          return [new GraphQLError((err as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
        }
        const errors = validate(schema, document, rules).map((e) =>
          e.extensions?.code ? e : new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
        );
        if (errors.length) return errors;
        const variables = (payload.variables ?? {}) as Record<string, unknown>;
        try {
          assertNoNul(variables);
          assertNoNul(payload.query, 'query');
          assertCost(queryCost(schema, document, variables, payload.operationName), config.limits.cost);
        } catch (err) {
          return [err as GraphQLError];
        }
        const viewer = (ctx.extra as ConnectionExtra).viewer!;
        const contextValue = new RequestContext(randomUUID(), ds, config, log, viewer, new TenantTransaction(ds, viewer.workspaceId), null);
        return { schema, document, variableValues: variables, operationName: payload.operationName, contextValue };
      },
      onOperation: async (_ctx, _id, _payload, args: ExecutionArgs, result) => {
        // A query or mutation is done once it has its result; a subscription manages its own transactions.
        if (!(Symbol.asyncIterator in Object(result))) await (args.contextValue as RequestContext).tx?.commit();
        return undefined;
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        const r = result as ExecutionResult;
        if (!r.errors?.length) return undefined;
        return { ...r, errors: r.errors.map((e) => format(e)) } as unknown as ExecutionResult;
      },
    },
    wss,
  );
  return {
    wss,
    async close() {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
