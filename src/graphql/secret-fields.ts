import { BREAK, type DocumentNode, type GraphQLSchema, TypeInfo, visit, visitWithTypeInfo } from 'graphql';
import { Extensions } from 'type-graphql';

/**
 * Marks a field whose value is a credential (an API key's secret, a signing secret, a token): shown
 * in its answer and never kept anywhere else, an idempotent replay's stored answer included.
 */
export const SecretField = () => Extensions({ secret: true });

/** True when the document selects a secret field anywhere (under any alias, in any fragment). */
export function selectsSecret(schema: GraphQLSchema, document: DocumentNode): boolean {
  const info = new TypeInfo(schema);
  let found = false;
  visit(
    document,
    visitWithTypeInfo(info, {
      Field() {
        if (!info.getFieldDef()?.extensions?.secret) return undefined;
        found = true;
        return BREAK;
      },
    }),
  );
  return found;
}
