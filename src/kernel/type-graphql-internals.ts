import { getMetadataStorage } from 'type-graphql';

/**
 * What Trellis reads of type-graphql's metadata storage: its record of the decorators, which is no
 * public API (type-graphql 2.0's MetadataStorage, on `global.TypeGraphQLMetadataStorage`). This is
 * the only module that reads it; the rest of the code asks the functions below.
 *
 * What is relied on, and pinned by test/type-graphql-internals.test.ts so that an upgrade that
 * changes it fails there, by name, rather than quietly (fields no longer called directly, every
 * column read again, `node(id)` checking no roles):
 * - `objectTypes` holds each @ObjectType class (`target`) with its GraphQL `name`;
 * - `fieldResolvers` holds each @FieldResolver (kind "external", `target` its resolver class) and
 *   each getter or method of an entity with @Field (kind "internal", `target` the entity); building
 *   a schema fills in, on these same records, `getObjectType`, `params`, `roles` and `middlewares`;
 * - the storage keeps what an abstract base resolver declares on that base class: building a schema
 *   maps it to the class that extends it on a copy of the storage, not here;
 * - `params` are `{ index, kind: "root" | "context" | "info" | ..., propertyName, getType }`;
 * - `resolverClasses` and `queries` (`schemaName`, `target`, `roles` of @Authorized) likewise.
 */

type Storage = ReturnType<typeof getMetadataStorage>;
type FieldResolverMetadata = Storage['fieldResolvers'][number];
type ParamMetadata = NonNullable<FieldResolverMetadata['params']>[number];

/** A field whose value code computes: an entity's getter or method with @Field, or a resolver class's @FieldResolver. */
export interface FieldResolverDeclaration {
  /** The GraphQL field's name. */
  field: string;
  /** The class of the object type it is a field of; undefined until a schema has been built. */
  objectClass: Function | undefined;
  /** Where the code is: on the entity itself, or on a resolver class. */
  on: 'entity' | 'resolver';
  /** The getter's or method's name. */
  method: string;
  /** The class declaring it: the entity, the resolver class, or an abstract base of a resolver class (a factory's). */
  declaredOn: Function;
  /** @Authorized (with roles or without) or @UseMiddleware applies to it. */
  guarded: boolean;
  /** Its parameters, sorted by index. */
  params: ParamDeclaration[];
}

/** A parameter of a field resolver: the parent (@Root), the context (@Ctx), the info (@Info), or anything else (arguments, custom decorators). */
type ParamDeclaration =
  | { index: number; kind: 'root'; property: string | undefined; type: unknown }
  | { index: number; kind: 'context'; property: string | undefined }
  | { index: number; kind: 'info' }
  | { index: number; kind: 'other' };

/** The GraphQL name of each @ObjectType class. */
export function objectTypeNames(): Map<Function, string> {
  return new Map(getMetadataStorage().objectTypes.map((t) => [t.target, t.name]));
}

/** The GraphQL name of an @ObjectType class; undefined for any other class. */
export function objectTypeName(cls: Function): string | undefined {
  return getMetadataStorage().objectTypes.find((t) => t.target === cls)?.name;
}

/** Every field resolver declared in this process (of the schema's resolvers and of any others loaded). */
export function fieldResolverDeclarations(): FieldResolverDeclaration[] {
  return getMetadataStorage().fieldResolvers.map((meta) => ({
    field: meta.schemaName,
    objectClass: meta.getObjectType?.() as Function | undefined,
    on: meta.kind === 'internal' ? 'entity' : 'resolver',
    method: meta.methodName,
    declaredOn: meta.target,
    guarded: !!meta.roles || !!meta.middlewares?.length,
    params: [...(meta.params ?? [])].sort((a, b) => a.index - b.index).map(paramDeclaration),
  }));
}

function paramDeclaration(p: ParamMetadata): ParamDeclaration {
  if (p.kind === 'root') return { index: p.index, kind: 'root', property: p.propertyName, type: p.getType?.() };
  if (p.kind === 'context') return { index: p.index, kind: 'context', property: p.propertyName };
  if (p.kind === 'info') return { index: p.index, kind: 'info' };
  return { index: p.index, kind: 'other' };
}

/** Every class with @Resolver, abstract bases included. */
export function resolverClasses(): Function[] {
  return getMetadataStorage().resolverClasses.map((r) => r.target);
}

/**
 * The @Authorized roles of each declaration of the root query `name` on one of `resolvers` or on a
 * base class of one (undefined where it has no @Authorized). A process that loaded the modules twice,
 * as test runners do, holds the metadata of both: only those of `resolvers` count.
 */
export function queryRoles(name: string, resolvers: readonly Function[]): (readonly string[] | undefined)[] {
  return getMetadataStorage()
    .queries.filter((q) => q.schemaName === name && resolvers.some((r) => r === q.target || r.prototype instanceof q.target))
    .map((q) => q.roles as string[] | undefined);
}
