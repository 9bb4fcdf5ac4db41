import { Field, ID, InterfaceType } from 'type-graphql';

/**
 * Relay's global object identification: every stored record is a Node, and `node(id)` fetches any
 * of them again by its id alone. The id is the record's own UUID, as it always was (no opaque
 * `base64("Account:<uuid>")` ids): UUIDs are already unique across every kind and every workspace,
 * so nothing any client stored changes, and `node` finds the kind itself (see modules/nodes).
 *
 * Its type is resolved in graphql/schema.ts (a synchronous resolveType, which compiled execution
 * needs: graphql-jit does not await the async one type-graphql would wrap around ours).
 */
@InterfaceType('Node', { description: 'A record that `node(id)` fetches again by its id alone (Relay global object identification).' })
export abstract class Node {
  @Field(() => ID, { description: 'The record id: a UUID, unique across every kind of record and every workspace.' })
  id: string;
}
