import {
  buildSchema as schemaFromSdl,
  type GraphQLNamedType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
} from 'graphql';
import { buildSchema } from '../src/server/schema';

/**
 * Every element of the public schema that has no description, as `Type`, `Type.field`,
 * `Type.field(arg)` or `Enum.VALUE`. The explorer and generated clients show these descriptions, so
 * an undocumented element is a gap in the API's documentation.
 */
export function undocumented(schema: GraphQLSchema): string[] {
  // type-graphql builds the root types itself and offers no decorator to describe them; their
  // fields (each query, mutation and subscription) carry the documentation and are checked.
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(Boolean));
  const missing: string[] = [];
  const check = (description: string | null | undefined, path: string) => {
    if (!description?.trim()) missing.push(path);
  };
  for (const type of Object.values(schema.getTypeMap()) as GraphQLNamedType[]) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    if (!roots.has(type as never)) check(type.description, type.name);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        check(field.description, `${type.name}.${field.name}`);
        for (const arg of 'args' in field ? field.args : []) check(arg.description, `${type.name}.${field.name}(${arg.name})`);
      }
    }
    if (isEnumType(type)) for (const value of type.getValues()) check(value.description, `${type.name}.${value.name}`);
  }
  return missing.sort();
}

describe('a self-documenting schema', () => {
  it('describes every type, field, argument, input field and enum value', () => {
    expect(undocumented(buildSchema())).toEqual([]);
  });

  it('notices what is missing (the check itself)', () => {
    const schema = schemaFromSdl(`
      "Documented." type Query { "Documented." a(x: Int, "Documented." y: Int): Thing, b: Int }
      type Thing { "Documented." id: ID }
      "Documented." input In { f: Int }
      "Documented." enum Color { "Documented." RED GREEN }
      extend type Query { c(i: In, k: Color): Int }
    `);
    expect(undocumented(schema)).toEqual(['Color.GREEN', 'In.f', 'Query.a(x)', 'Query.b', 'Query.c', 'Query.c(i)', 'Query.c(k)', 'Thing']);
  });
});
