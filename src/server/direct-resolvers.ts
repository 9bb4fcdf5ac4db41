import { type GraphQLField, type GraphQLFieldResolver, type GraphQLSchema, isObjectType } from 'graphql';
import type { ContainerType } from 'type-graphql';
import {
  type FieldResolverDeclaration,
  fieldResolverDeclarations,
  objectTypeNames,
  resolverClasses as allResolverClasses,
} from '../kernel/type-graphql-internals';

type Getter = (root: unknown, context: unknown, info: unknown) => unknown;
type Instance = Record<string, (...args: unknown[]) => unknown>;

/**
 * type-graphql wraps every field resolver in a generic handler that, per call, looks the resolver
 * instance up, sorts and maps the parameter metadata and runs the middleware chain; a getter on an
 * entity (`Opportunity.amount`) goes through the same. For a relation read on each row of a
 * 1000-row page that wrapper is most of the field's cost. A field resolver that takes only the
 * parent, the context and/or the info, with no middleware and no @Authorized, is called directly:
 * the same arguments, the same result. Anything else (arguments to validate, roles, a parent that is
 * not an instance of its class, which type-graphql would convert) keeps type-graphql's handler.
 * Returns how many fields it rewired.
 */
export function callFieldResolversDirectly(schema: GraphQLSchema, container: ContainerType): number {
  const declarations = fieldResolverDeclarations();
  const typeNames = objectTypeNames();
  const resolverClasses = allResolverClasses();
  const fieldOf = (decl: FieldResolverDeclaration): GraphQLField<unknown, unknown> | undefined => {
    const type = decl.objectClass ? schema.getType(typeNames.get(decl.objectClass) ?? '') : undefined;
    return isObjectType(type) ? type.getFields()[decl.field] : undefined;
  };
  // A field claimed by two definitions is left alone: which one type-graphql wired is its business.
  const claims = new Map<unknown, number>();
  for (const decl of declarations) {
    const field = fieldOf(decl);
    claims.set(field, (claims.get(field) ?? 0) + 1);
  }

  let rewired = 0;
  for (const decl of declarations) {
    const objectClass = decl.objectClass;
    if (!objectClass || decl.guarded) continue;
    const field = fieldOf(decl);
    if (!field?.resolve || claims.get(field) !== 1) continue;
    const getters = paramGetters(decl, objectClass);
    if (!getters) continue;
    const call = decl.on === 'entity' ? onParent(decl.method) : onResolver(decl, resolverClasses, container);
    if (!call) continue;
    field.resolve = direct(call, getters, objectClass, field.resolve);
    rewired++;
  }
  return rewired;
}

/** How each parameter is read, in order; null when one is anything but the parent, context or info. */
function paramGetters(decl: FieldResolverDeclaration, objectClass: Function): Getter[] | null {
  const getters: Getter[] = [];
  for (const [i, p] of decl.params.entries()) {
    if (p.index !== i) return null;
    if (p.kind === 'root' && !p.property && (p.type === undefined || p.type === objectClass)) getters.push((root) => root);
    else if (p.kind === 'context' && !p.property) getters.push((_root, context) => context);
    else if (p.kind === 'info') getters.push((_root, _context, info) => info);
    else return null;
  }
  return getters.length <= 3 ? getters : null;
}

type Call = (root: unknown, args: unknown[]) => unknown;

/** A getter or method of the entity itself. */
function onParent(name: string): Call {
  return (root, args) => {
    const member = (root as Instance)[name];
    return typeof member === 'function' ? member.apply(root, args) : member;
  };
}

/**
 * A method of the resolver instance. A method declared on an abstract base resolver (a factory's,
 * shared by several entities) belongs to the one registered class that extends it.
 */
function onResolver(decl: FieldResolverDeclaration, resolverClasses: Function[], container: ContainerType): Call | null {
  const owners = [decl.declaredOn, ...resolverClasses.filter((c) => c.prototype instanceof decl.declaredOn)];
  const instances: Instance[] = [];
  for (const owner of owners) {
    try {
      const found = container.get(owner, undefined as never) as Instance | undefined;
      if (found && typeof (found as { then?: unknown }).then !== 'function') instances.push(found);
    } catch {
      // not registered (an abstract class)
    }
  }
  const instance = instances.length === 1 ? instances[0] : undefined;
  const method = instance?.[decl.method];
  return typeof method === 'function' ? (_root, args) => method.apply(instance, args) : null;
}

function direct(call: Call, getters: Getter[], objectClass: Function, handler: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  const [g0, g1, g2] = getters;
  const read: (root: unknown, context: unknown, info: unknown) => unknown[] =
    getters.length === 0
      ? () => []
      : getters.length === 1
        ? (r, c, i) => [g0(r, c, i)]
        : getters.length === 2
          ? (r, c, i) => [g0(r, c, i), g1(r, c, i)]
          : (r, c, i) => [g0(r, c, i), g1(r, c, i), g2(r, c, i)];
  return (root, args, context, info) => (root instanceof objectClass ? call(root, read(root, context, info)) : handler(root, args, context, info));
}
