import { coerceInputValue, type GraphQLSchema, isInputObjectType } from 'graphql';
import { badInput, type FieldError } from '../kernel/errors';

/**
 * A filter given as JSON (a webhook endpoint's, an automation rule's), checked and converted exactly
 * as if it had been sent as the entity's typed filter argument (`OpportunityFilter`, ...): the same
 * operators, value types and enum values, and the same BAD_USER_INPUT when something does not fit.
 */
export function coerceFilter(schema: GraphQLSchema, typeName: string, value: unknown, field: string): Record<string, unknown> {
  const type = schema.getType(typeName);
  if (!isInputObjectType(type)) throw new Error(`no filter input type ${typeName}`);
  const errors: FieldError[] = [];
  const coerced = coerceInputValue(value, type, (path, _invalid, error) => {
    if (errors.length < 20) errors.push({ field: [field, ...path].join('.'), message: error.message });
  });
  if (errors.length) throw badInput(errors);
  return JSON.parse(JSON.stringify(coerced)) as Record<string, unknown>;
}
