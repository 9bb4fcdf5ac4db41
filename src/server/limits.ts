import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type DocumentNode,
  Kind,
  type TypeNode,
  type GraphQLField,
  GraphQLError,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isLeafType,
  isListType,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { type ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import type { Config } from '../kernel/config';
import { DEFAULT_PAGE_SIZE } from '../data/connection';
import { filterSize } from '../data/filter';
import { MAX_CHILDREN } from '../data/loaders';
import { LIST_CAP, LIST_SIZE_ARG } from '../graphql/list-cost';

const tooComplex = (message: string) => new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } });

// Armor's rules throw a generic error; report ours instead, with the stable code.
const reject = (ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(tooComplex(err.message.replace(/^Syntax Error: /, '')));
const common = { propagateOnRejection: false, onReject: [reject], exposeLimits: true };

/** Half of a UTF-16 surrogate pair without the other half: no Unicode character at all. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** How deep variables may nest: far beyond any real input, well short of what recursion survives. */
const MAX_NESTING = 1000;

/**
 * NUL cannot be stored in PostgreSQL text, and a lone surrogate is no character (PostgreSQL's JSON
 * refuses it): a string holding either is refused before it reaches SQL. So are values nested more
 * than 1000 levels deep (JSON fields take any shape, and the code that reads them recurses). The walk
 * itself is iterative: a hostile depth cannot overflow its stack.
 */
export function assertNoNul(value: unknown, path = 'variables'): void {
  // The common case, nothing wrong, is checked without building a path for every node (a large
  // input would otherwise cost as many strings as it has nodes); the paths are made only to say where.
  if (firstProblem(value, false, path) === null) return;
  const problem = firstProblem(value, true, path)!;
  throw new GraphQLError(problem, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
}

function firstProblem(value: unknown, withPaths: boolean, path: string): string | null {
  const pending: [unknown, string, number][] = [[value, path, 0]];
  while (pending.length) {
    const [v, at, depth] = pending.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return `${at} holds a NUL character`;
      if (LONE_SURROGATE.test(v)) return `${at} holds a lone surrogate (not valid Unicode)`;
    } else if (v && typeof v === 'object') {
      if (depth >= MAX_NESTING) return `${path} is nested more than ${MAX_NESTING} levels deep`;
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) pending.push([v[i], withPaths ? `${at}[${i}]` : at, depth + 1]);
      else for (const k in v) pending.push([(v as Record<string, unknown>)[k], withPaths ? `${at}.${k}` : at, depth + 1]);
    }
  }
  return null;
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
 * Lists that are values inside their parent's row or result (an event's changed fields, a rule's
 * actions, amounts per currency, a batch's per-input results), not rows read for it: their length
 * is bounded by the parent they are part of, which the parent's own price and the response byte cap
 * already cover, so they cost what they select once. A connection's `edges` and `nodes` are its page,
 * priced on the connection field.
 */
const VALUE_LISTS = new Set([
  'ActivityFeedItem.changes',
  'ChangeEvent.changes',
  'Event.changes',
  'ChangeFeed.events',
  'AutomationRule.actions',
  'AutomationRun.actions',
  'AutomationTestResult.actions',
  'BatchItemResult.errors',
  'BatchResult.results',
  'ImportJob.errors',
  'ForecastPoint.amounts',
  'ForecastPoint.weightedAmounts',
  'ForecastPoint.wonAmounts',
  'PipelineSummary.stages',
  'PipelineSummary.totals',
  'RevenuePoint.amounts',
  'StageSummary.amounts',
  'StageSummary.weightedAmounts',
  'WinRatePoint.lostAmounts',
  'WinRatePoint.wonAmounts',
]);

/** What a list field of objects may return at most, when no `first`/`last` says it: its cap, 1 for a value list. */
function listCap(parent: string, field: GraphQLField<unknown, unknown>): number {
  const coordinate = `${parent}.${field.name}`;
  // Introspection (`__Type.fields`, ...) lists the schema, whose size is ours, not the client's data.
  if (VALUE_LISTS.has(coordinate) || parent.endsWith('Connection') || parent.startsWith('__')) return 1;
  const declared = field.extensions?.[LIST_CAP];
  return typeof declared === 'number' ? declared : MAX_CHILDREN;
}

/** How many items a list field of objects is priced at: its cap, or fewer when an argument says how many (LIST_SIZE_ARG). */
function listSize(parent: string, field: GraphQLField<unknown, unknown>, args: Record<string, unknown>): number {
  const cap = listCap(parent, field);
  const sizeArg = field.extensions?.[LIST_SIZE_ARG];
  const given = typeof sizeArg === 'string' ? args[sizeArg] : undefined;
  return Array.isArray(given) ? Math.max(1, Math.min(given.length, cap)) : cap;
}

/**
 * What each node of a filter argument costs (an operator, a list value, an and/or item, a relation):
 * a node can be a subquery per row, and coercing and checking a large input is work before any SQL.
 * A filter of 1000 ids costs 5 000; one of 20 000 `or` items is refused outright.
 */
const FILTER_NODE_COST = 5;

/**
 * A list field costs how many items it may return times what each item selects (GitHub's and
 * Shopify's model): a connection its page size, a relation list (`Account.contacts`) the most rows its
 * loader reads. No list is free: a chain of relation lists is priced as the rows it may expand to,
 * even when few rows exist today, because tomorrow they may.
 */
const pageSizeEstimator: ComplexityEstimator = ({ args, childComplexity, field, type }) => {
  // A filter costs every node it holds: `or` of 20 000 empty relation filters is not one condition.
  const filter = args.filter ? FILTER_NODE_COST * filterSize(args.filter) : 0;
  const size = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : undefined;
  if (size !== undefined) return 1 + filter + Math.max(1, childComplexity) * Math.max(size, 1);
  const nullable = getNullableType(field.type);
  if (nullable.toString().endsWith('Connection')) return 1 + filter + Math.max(1, childComplexity) * DEFAULT_PAGE_SIZE;
  if (isListType(nullable) && !isLeafType(getNamedType(nullable))) return 1 + filter + Math.max(1, childComplexity) * listSize(type.name, field, args);
  return filter ? 1 + filter + childComplexity : undefined;
};

/**
 * The cost of an operation, or undefined when its variables do not fit their types: execution then
 * rejects them with a proper BAD_USER_INPUT, which is better than failing here. QUERY_TOO_COMPLEX
 * when it has more fields than the estimator will visit (10 000, fragments expanded).
 */
export function queryCost(
  schema: GraphQLSchema,
  query: DocumentNode,
  variables: Record<string, unknown>,
  operationName?: string | null,
  max = Infinity,
): number | undefined {
  // A filter variable is priced on its raw JSON first: coercing a 20 000-item `or` to its input type
  // alone takes a fifth of a second of the event loop, which a refusal should not cost.
  const filters = rawFilterCost(query, variables, operationName);
  if (filters > max) throw tooComplex(`Query cost ${filters} exceeds the limit of ${max}`);
  try {
    return computeCost(schema, query, variables, operationName);
  } catch (err) {
    // Too many fields to price (fragments spread over and over): refused, not let through unpriced.
    if (err instanceof GraphQLError && /maximum allowed number of nodes/.test(err.message))
      throw tooComplex('Query too complex: too many fields once its fragments are expanded');
    return undefined;
  }
}

/** What the filter-typed variables of the operation cost at least (FILTER_NODE_COST per raw node). */
function rawFilterCost(query: DocumentNode, variables: Record<string, unknown>, operationName?: string | null): number {
  let cost = 0;
  for (const def of query.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION || (operationName && def.name?.value !== operationName)) continue;
    for (const v of def.variableDefinitions ?? []) {
      if (namedTypeOf(v.type).endsWith('Filter') && variables[v.variable.name.value] != null)
        cost += FILTER_NODE_COST * filterSize(variables[v.variable.name.value]);
    }
  }
  return cost;
}

function namedTypeOf(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type);
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
