import { Arg, Authorized, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import type { SearchService } from './search.service';
import { SearchableType, SearchHit, SearchRecord } from './search.types';

@Resolver(() => SearchHit)
export class SearchResolver {
  constructor(private readonly service: SearchService) {}

  @Authorized('READ')
  @Query(() => [SearchHit], { description: 'Ranked search across accounts, contacts, leads and opportunities; ignores case and accents, tolerates a typo.' })
  search(
    @Ctx() ctx: RequestContext,
    @Arg('query', { description: 'What to look for (2 to 200 characters).' }) query: string,
    @Arg('types', () => [SearchableType], { nullable: true, description: 'Only these kinds of records.' }) types?: SearchableType[],
    @Arg('first', () => Int, { nullable: true, description: 'How many hits (default 20, at most 100).' }) first?: number,
  ): Promise<SearchHit[]> {
    return this.service.search(ctx.auth, query, types, first);
  }

  @FieldResolver(() => SearchRecord, { description: 'The record.' })
  async record(@Root() hit: SearchHit, @Ctx() ctx: RequestContext): Promise<typeof SearchRecord> {
    return (await ctx.loaders[hit.type].load(hit.id))!;
  }
}
