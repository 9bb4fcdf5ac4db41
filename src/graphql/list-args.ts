import { ArgsType, Field, Int } from 'type-graphql';

/** The paging arguments every list takes; each list adds its own `filter` and `orderBy`. */
@ArgsType()
export class ListArgs {
  @Field(() => Int, { nullable: true, description: 'Page size from the start or from `after` (default 50, at most 1000).' }) first?: number;
  @Field({ nullable: true, description: 'Return records after this cursor.' }) after?: string;
  @Field(() => Int, { nullable: true, description: 'Page size from the end or from `before` (at most 1000).' }) last?: number;
  @Field({ nullable: true, description: 'Return records before this cursor.' }) before?: string;
  @Field({ nullable: true, defaultValue: false, description: 'Include soft-deleted records.' }) includeDeleted?: boolean;
}
