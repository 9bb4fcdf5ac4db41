import 'reflect-metadata';
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchemaSync, type ContainerType } from 'type-graphql';
import { RESOLVERS } from '../modules';
import { authChecker } from './auth-checker';
import { callFieldResolversDirectly } from './direct-resolvers';
import { DateTimeScalar } from './scalars';

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
  return schema;
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
