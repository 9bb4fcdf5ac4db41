import 'reflect-metadata';
import { type GraphQLSchema, isInterfaceType, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchemaSync, type ContainerType } from 'type-graphql';
import { RESOLVERS } from './services';
import { authChecker } from './auth-checker';
import { callFieldResolversDirectly } from './direct-resolvers';
import { DateTimeScalar } from '../graphql/scalars';
import { objectTypeNames } from '../kernel/type-graphql-internals';

/** The schema, from the resolver classes; `container` hands type-graphql the wired resolver instances. */
export function buildSchema(container?: ContainerType): GraphQLSchema {
  const schema = buildSchemaSync({
    resolvers: [...RESOLVERS] as unknown as [Function, ...Function[]],
    container: container ?? { get: () => undefined },
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: { forbidUnknownValues: false, validationError: { target: false, value: false } },
    emitSchemaFile: false,
    // Subscriptions bring their own sources (RealtimeService); type-graphql's topic pub/sub is unused.
    pubSub: NO_TOPICS,
  });
  if (container) callFieldResolversDirectly(schema, container);
  resolveNodesByClass(schema);
  return schema;
}

/**
 * `Node`'s concrete type, read from the record's class, synchronously. type-graphql's default looks
 * only at the types that name Node in their own `implements` (the records implement it through
 * Record), and it wraps a resolveType of ours in an async function, which graphql-jit does not await
 * (compiled execution would fail on every `node`). Every value `node` returns is an entity instance.
 */
function resolveNodesByClass(schema: GraphQLSchema): void {
  const node = schema.getType('Node');
  if (!isInterfaceType(node)) return;
  const possible = new Set(schema.getPossibleTypes(node).map((t) => t.name));
  const names = new Map([...objectTypeNames()].filter(([, name]) => possible.has(name)));
  node.resolveType = (value) => names.get((value as object | null)?.constructor as Function);
}

const NO_TOPICS = {
  publish() {
    throw new Error('topic pub/sub is not used: subscriptions read the event bus');
  },
  subscribe(): never {
    throw new Error('topic pub/sub is not used: subscriptions read the event bus');
  },
};

/** The SDL committed as schema/schema.graphql: sorted, so that it diffs cleanly. */
export function printSdl(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
