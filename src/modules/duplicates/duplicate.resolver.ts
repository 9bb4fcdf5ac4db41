import { Arg, Authorized, Ctx, Field, FieldResolver, Float, ID, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { EntityType } from '../../graphql/enums';
import { SearchRecord } from '../search/search.types';
import type { DuplicateService } from './duplicate.service';

@ObjectType({ description: 'A record that is likely the same as another, with why.' })
class DuplicateCandidate {
  @Field(() => EntityType, { description: 'The kind of record.' }) type: EntityType;
  @Field(() => ID, { description: 'The record id.' }) id: string;
  @Field(() => Float, { description: 'How likely: 1 per exact match (domain, email, phone) plus the name similarity.' }) score: number;
  @Field(() => [String], { description: 'Why: `same domain`, `same email`, `same phone`, `same name`, `similar name`.' }) reasons: string[];
}

@Resolver(() => DuplicateCandidate)
export class DuplicateResolver {
  constructor(private readonly service: DuplicateService) {}

  @Authorized('READ')
  @Query(() => [DuplicateCandidate], { description: 'Likely duplicates of an account, contact or lead, best first (at most 20).' })
  duplicates(
    @Ctx() ctx: RequestContext,
    @Arg('entityType', () => EntityType, { description: 'ACCOUNT, CONTACT or LEAD.' }) entityType: EntityType,
    @Arg('id', () => ID, { description: 'The record to find duplicates of.' }) id: string,
  ): Promise<DuplicateCandidate[]> {
    return this.service.find(ctx.auth, entityType, id);
  }

  @FieldResolver(() => SearchRecord, { description: 'The record.' })
  async record(@Root() c: DuplicateCandidate, @Ctx() ctx: RequestContext): Promise<typeof SearchRecord> {
    const loader = c.type === EntityType.ACCOUNT ? ctx.loaders.account : c.type === EntityType.CONTACT ? ctx.loaders.contact : ctx.loaders.lead;
    return (await loader.load(c.id))!;
  }
}
