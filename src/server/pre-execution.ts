import {
  type DocumentNode,
  getOperationAST,
  GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  type OperationTypeNode,
  parse,
  specifiedRules,
  validate,
  type ValidationRule,
} from 'graphql';
import type { Config } from '../kernel/config';
import type { TenantTransaction } from '../db/tenant-transaction';
import type { Viewer } from '../kernel/viewer';
import { type CostLimiter, type CostReport, costKey } from './cost-limiter';
import { assertCost, assertNoNul, limitRules, queryCost } from './limits';

/**
 * What an operation passes before it runs, over each transport: HTTP (Apollo), WebSocket
 * (graphql-ws) and Server-Sent Events (graphql-sse).
 *
 * 1. It parses, within MAX_QUERY_TOKENS, and validates: graphql-js' rules, the limit rules (depth,
 *    aliases, directives), and in production no introspection. Over HTTP Apollo does this itself,
 *    with the settings of apolloOperationSettings; WebSocket and SSE run outside Apollo and do it
 *    in checkOperation with operationRules, the same rules.
 * 2. Then, over every transport, checkResolvedOperation: no NUL or lone surrogate in its text or
 *    variables, within MAX_QUERY_COST, charged to the viewer's cost bucket. Over HTTP requestPlugin
 *    calls it once Apollo has resolved the operation.
 */

/** Apollo's share of step 1 over HTTP: what it parses and validates with. */
export function apolloOperationSettings(config: Config) {
  return {
    parseOptions: { maxTokens: config.limits.tokens },
    validationRules: limitRules(config.limits),
    // Off in production: Apollo then refuses introspection in validation, with a rule of its own.
    introspection: config.env !== 'production',
  };
}

/** The validation rules of an operation, as Apollo applies them over HTTP (no introspection in production). */
export function operationRules(config: Config): ValidationRule[] {
  return [...specifiedRules, ...limitRules(config.limits), ...(config.env === 'production' ? [NoSchemaIntrospectionCustomRule] : [])];
}

/** An operation once parsed and validated. */
interface ResolvedOperation {
  document: DocumentNode;
  /** The document's text (over HTTP also when only its hash was sent: a persisted query). */
  source: string;
  variables: Record<string, unknown>;
  operationName?: string | null;
}

/**
 * Step 2, over every transport: no NUL or lone surrogate in the operation's variables or text, its
 * cost within MAX_QUERY_COST, and that cost charged to the viewer's bucket before anything runs
 * (nothing without a viewer: signing up and in have limits of their own). Throws the error to
 * answer with (its code: BAD_USER_INPUT, QUERY_TOO_COMPLEX, RATE_LIMITED); returns what was charged.
 */
export async function checkResolvedOperation(
  checks: { schema: GraphQLSchema; config: Config; costs: CostLimiter },
  viewer: Viewer | null,
  op: ResolvedOperation,
  tx?: TenantTransaction | null,
): Promise<CostReport | undefined> {
  const { schema, config, costs } = checks;
  assertNoNul(op.variables);
  assertNoNul(op.source, 'query');
  const cost = queryCost(schema, op.document, op.variables, op.operationName, config.limits.cost);
  assertCost(cost, config.limits.cost);
  if (!viewer || !costs.enabled) return undefined;
  return costs.charge(costKey(viewer), Math.max(1, cost ?? 1), tx);
}

interface OperationRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

interface CheckedOperation {
  document: DocumentNode;
  variables: Record<string, unknown>;
  operation: OperationTypeNode | null;
}

interface OperationChecks {
  schema: GraphQLSchema;
  config: Config;
  costs: CostLimiter;
  rules: readonly ValidationRule[];
  /** Formats an error as the client will see it (errorFormatter().reformatted). */
  reformatted: (e: GraphQLError) => GraphQLError;
}

/**
 * Both steps, for a transport that runs outside Apollo (WebSocket, SSE): the operation parses (within
 * MAX_QUERY_TOKENS), is of a type the transport serves (`allow`), validates (the depth, alias and
 * directive limits among the rules), then passes checkResolvedOperation. Returns the parsed
 * operation, or the errors to answer with, formatted, each with its code.
 */
export async function checkOperation(
  checks: OperationChecks,
  viewer: Viewer,
  request: OperationRequest,
  allow?: { types: readonly OperationTypeNode[]; refusal: string },
): Promise<CheckedOperation | { errors: GraphQLError[] }> {
  const { schema, config, rules, reformatted } = checks;
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
    return {
      errors: [
        new GraphQLError('The document has no operation of that name: set operationName to one of its operations', { extensions: { code: 'BAD_REQUEST' } }),
      ],
    };
  }
  const variables = (request.variables ?? {}) as Record<string, unknown>;
  try {
    await checkResolvedOperation(checks, viewer, { document, source: request.query, variables, operationName: request.operationName });
  } catch (err) {
    return {
      errors: [err instanceof GraphQLError ? reformatted(err) : reformatted(new GraphQLError('Internal server error', { originalError: err as Error }))],
    };
  }
  return { document, variables, operation };
}
