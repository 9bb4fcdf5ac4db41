import { Arg, Authorized, Ctx, Extensions, ID, Query, Resolver } from 'type-graphql';
import { isUuid } from '../../db/tenant-transaction';
import type { RequestContext } from '../../data/context';
import { badField, badInput } from '../../kernel/errors';
import { Node } from '../../graphql/node';
import type { NodeResult, NodeService } from './node.service';
import { LIST_CAP, LIST_SIZE_ARG } from '../../graphql/list-cost';

/** The most ids one `nodes` call takes. */
const MAX_NODES = 100;

const NOT_AN_ID = 'is not a Trellis id (a UUID)';

/**
 * Relay's root fields. An id that is no UUID cannot be any record's: BAD_USER_INPUT, naming it (a
 * client sending another system's ids, or Relay-style base64 ids, learns so at once). A well-formed
 * id of no record the caller may see is null; an id of a record its kind's lookup refuses to the
 * caller gets that lookup's error (FORBIDDEN) in place of the record.
 */
@Resolver()
export class NodeResolver {
  constructor(private readonly service: NodeService) {}

  @Authorized()
  @Query(() => Node, {
    nullable: true,
    description:
      "Any record by its id alone (Relay): the same record, under the same rules, as its kind's own lookup. Null when no record the caller may see has that id (another workspace's, a deleted webhook endpoint, another user's notification); the lookup's error (FORBIDDEN) when it refuses the caller; BAD_USER_INPUT when the id is no UUID.",
  })
  async node(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The record id (a UUID).' }) id: string): Promise<object | null> {
    if (!isUuid(id)) throw badField('id', NOT_AN_ID);
    const [found] = await this.service.find(ctx, [id]);
    if (found instanceof Error) throw found;
    return found;
  }

  @Authorized()
  @Query(() => [Node], {
    nullable: 'items',
    description: `Records by id (Relay), at most ${MAX_NODES}: one entry per id, in the same order, each as \`node(id)\` answers it (null, or null with its error).`,
  })
  @Extensions({ [LIST_CAP]: MAX_NODES, [LIST_SIZE_ARG]: 'ids' })
  async nodes(
    @Ctx() ctx: RequestContext,
    @Arg('ids', () => [ID], { description: `Record ids (UUIDs), at most ${MAX_NODES}; repeats allowed.` }) ids: string[],
  ): Promise<NodeResult[]> {
    if (ids.length > MAX_NODES) throw badField('ids', `at most ${MAX_NODES} ids at a time (${ids.length} given)`);
    const malformed = ids.flatMap((id, i) => (isUuid(id) ? [] : [{ field: `ids[${i}]`, message: NOT_AN_ID }]));
    if (malformed.length) throw badInput(malformed);
    return this.service.find(ctx, ids);
  }
}
