import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { type DocumentNode, GraphQLError, type GraphQLSchema, type ValidationContext, type ValidationRule } from 'graphql';
import { type ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import type { Config } from '../config';
import { DEFAULT_PAGE_SIZE } from './connection';

const tooComplex = (message: string) => new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } });

// Armor's rules throw a generic error; report ours instead, with the stable code.
const reject = (ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(tooComplex(err.message.replace(/^Syntax Error: /, '')));
const common = { propagateOnRejection: false, onReject: [reject], exposeLimits: true };

/** NUL cannot be stored in PostgreSQL text: a string holding one is refused before it reaches SQL. */
export function assertNoNul(value: unknown, path = 'variables'): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new GraphQLError(`${path} holds a NUL character`, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => assertNoNul(v, `${path}[${i}]`));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertNoNul(v, `${path}.${k}`);
  }
}

/**
 * Validation rules that bound a document's shape. They run for HTTP and for graphql-ws alike,
 * since graphql-ws does not pass through Apollo's validation.
 */
export function limitRules(limits: Config['limits']): ValidationRule[] {
  return [
    maxDepthRule({ ...common, n: limits.depth }) as unknown as ValidationRule,
    maxAliasesRule({ ...common, n: limits.aliases }) as unknown as ValidationRule,
    maxDirectivesRule({ ...common, n: limits.directives }) as unknown as ValidationRule,
  ];
}

/**
 * A list field costs its page size times what each item selects (GitHub's and Shopify's model), so
 * a connection nested in a connection is priced as the rows it may fetch.
 */
const pageSizeEstimator: ComplexityEstimator = ({ args, childComplexity, field }) => {
  const size = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : undefined;
  if (size !== undefined) return 1 + Math.max(1, childComplexity) * Math.max(size, 1);
  if (field.type.toString().endsWith('Connection!') || field.type.toString().endsWith('Connection')) {
    return 1 + Math.max(1, childComplexity) * DEFAULT_PAGE_SIZE;
  }
  return undefined;
};

/**
 * The cost of an operation, or undefined when its variables do not fit their types: execution then
 * rejects them with a proper BAD_USER_INPUT, which is better than failing here.
 */
export function queryCost(schema: GraphQLSchema, query: DocumentNode, variables: Record<string, unknown>, operationName?: string | null): number | undefined {
  try {
    return computeCost(schema, query, variables, operationName);
  } catch {
    return undefined;
  }
}

function computeCost(schema: GraphQLSchema, query: DocumentNode, variables: Record<string, unknown>, operationName?: string | null): number {
  return getComplexity({
    schema,
    query,
    variables,
    operationName: operationName ?? undefined,
    estimators: [pageSizeEstimator, simpleEstimator({ defaultComplexity: 1 })],
  });
}

export function assertCost(cost: number | undefined, max: number): void {
  if (cost !== undefined && cost > max) throw tooComplex(`Query cost ${cost} exceeds the limit of ${max}`);
}
