import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  type DocumentNode,
  execute,
  type ExecutionResult,
  getNamedType,
  getVariableValues,
  GraphQLError,
  GraphQLScalarType,
  GraphQLSchema,
  isInputObjectType,
  Kind,
  typeFromAST,
  visit,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

interface CompiledExecutionOptions {
  /** Operations whose compiled code is kept (least recently used dropped first). */
  maxOperations?: number;
  /** Told how each operation ran (metrics). */
  onExecute?: (mode: 'compiled' | 'interpreted' | 'uncompilable') => void;
}

/**
 * Queries and mutations executed by code compiled per operation (graphql-jit) instead of graphql-js's
 * interpreter, which walks the document and re-reads the schema for every field of every row: on a
 * page of 500 deals with their account, owner, stage and pipeline that walk was most of the server's
 * time. An operation is compiled the second time it is seen (a one-off query is not worth compiling)
 * and kept in a bounded cache; one that fails to compile runs on graphql-js, as every operation did.
 *
 * Apollo Server takes a custom executor only through its gateway interface, which is what this is:
 * it hands Apollo the schema once and executes each request after Apollo parsed and validated it and
 * ran the plugins (cost, idempotency, the transaction) exactly as before.
 */
export function compiledExecution(schema: GraphQLSchema, options: CompiledExecutionOptions = {}): GatewayInterface {
  const compileSchema = withCoercedVariables(schema);
  const operations = new LRUCache<string, Operation>({ max: options.maxOperations ?? 500 });
  const executor: GatewayExecutor = async (request) => {
    const key = `${request.queryHash}\0${request.operationName ?? ''}`;
    let op = operations.get(key);
    if (!op) operations.set(key, (op = { uses: 0 }));
    if (++op.uses === 2) op.compiled = compile(compileSchema, request.document, request.operationName);
    const variableValues = request.request.variables ?? {};
    options.onExecute?.(op.compiled ? 'compiled' : op.compiled === null ? 'uncompilable' : 'interpreted');
    if (!op.compiled)
      return (await execute({
        schema,
        document: request.document,
        operationName: request.operationName,
        contextValue: request.context,
        variableValues,
      })) as ExecutionResult;
    // Every variable is checked by graphql-js first: the same rules and messages as the interpreter.
    const coerced = getVariableValues(schema, request.operation.variableDefinitions ?? [], variableValues, { maxErrors: 50 });
    if (coerced.errors) return { errors: coerced.errors };
    const result = (await op.compiled.query.query(undefined, request.context, op.compiled.variables(variableValues, coerced.coerced))) as ExecutionResult;
    return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
  };
  let onSchema: Parameters<GatewayInterface['onSchemaLoadOrUpdate']>[0] | null = null;
  return {
    onSchemaLoadOrUpdate(callback) {
      onSchema = callback;
      return () => (onSchema = null);
    },
    async load() {
      onSchema?.({ apiSchema: schema, coreSupergraphSdl: '' });
      return { executor };
    },
    async stop() {
      operations.clear();
    },
  };
}

interface Operation {
  uses: number;
  compiled?: Compiled | null;
}

interface Compiled {
  query: CompiledQuery;
  /** The variables the compiled query takes: as sent, except those passed already coerced. */
  variables(sent: Record<string, unknown>, coerced: Record<string, unknown>): Record<string, unknown>;
}

/**
 * graphql-jit generates the coercion of each variable by unrolling its input type, and an input that
 * contains itself (a filter's `and`, `or`, `not`) unrolls without end. The operations it compiles
 * therefore declare every variable of an input object type as this scalar, which takes the value
 * graphql-js already coerced as it is; the schema it compiles against is the API's with that one type
 * added (same types, same resolvers), and the API's own schema is unchanged. Variables of scalar and
 * enum types keep their types (graphql-jit checks those of @include and @skip) and are coerced by it.
 */
const COERCED = new GraphQLScalarType({ name: 'TrellisCoercedVariable', parseValue: (value) => value, serialize: (value) => value });

function withCoercedVariables(schema: GraphQLSchema): GraphQLSchema {
  const config = schema.toConfig();
  return new GraphQLSchema({ ...config, types: [...config.types, COERCED] });
}

function compile(schema: GraphQLSchema, document: DocumentNode, operationName: string | null): Compiled | null {
  const passed: string[] = [];
  const withPassedVariables = visit(document, {
    VariableDefinition: (node) => {
      const type = typeFromAST(schema, node.type);
      if (!type || !isInputObjectType(getNamedType(type))) return undefined;
      passed.push(node.variable.name.value);
      return { ...node, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: COERCED.name } }, defaultValue: undefined };
    },
  });
  let query: CompiledQuery | ExecutionResult;
  try {
    query = compileQuery(schema, withPassedVariables, operationName ?? undefined);
  } catch {
    return null;
  }
  if (!isCompiledQuery(query)) return null;
  return {
    query,
    variables(sent, coerced) {
      if (!passed.length) return sent;
      const out = { ...sent };
      for (const name of passed) {
        if (name in coerced) out[name] = coerced[name];
        else delete out[name];
      }
      return out;
    },
  };
}

/**
 * graphql-jit's errors are GraphQLErrors by prototype only: `extensions` is undefined when the thrown
 * error had none (Apollo reads `extensions.code` and fails). Rebuilt as graphql-js builds them, from
 * the same message, path and original error; the locations are copied over.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const rebuilt = new GraphQLError(error.message, { path: error.path, originalError: error.originalError, extensions: error.extensions });
  return Object.assign(rebuilt, { locations: error.locations });
}
