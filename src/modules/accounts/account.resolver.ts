import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { latestActivities } from '../activities/activity.descriptor';
import type { Loaded } from '../../data/loaders';
import { Activity } from '../activities/activity.entity';
import { CrudResolver } from '../common/crud.resolver';
import { Contact } from '../contacts/contact.entity';
import { Opportunity } from '../opportunities/opportunity.entity';
import { Account } from './account.entity';
import type { AccountService } from './account.service';
import { AccountConnection, AccountFilter, AccountOrder, CreateAccountInput, UpdateAccountInput, UpsertAccountInput } from './account.types';

const Base = CrudResolver({
  name: 'Account',
  plural: 'accounts',
  entity: Account,
  connection: AccountConnection,
  filter: AccountFilter,
  order: AccountOrder,
  createInput: CreateAccountInput,
  updateInput: UpdateAccountInput,
  upsertInput: UpsertAccountInput,
  owned: true,
  includes: { activities: latestActivities('account') },
});

@Resolver(() => Account)
export class AccountResolver extends Base {
  constructor(protected readonly service: AccountService) {
    super();
  }

  @Authorized('WRITE')
  @Mutation(() => Account, {
    description:
      'Merges up to 9 duplicates into the survivor: what pointed at them points at it, its empty fields are filled from them, and they are soft-deleted with a link to it (`account.merged`).',
  })
  mergeAccounts(
    @Ctx() ctx: RequestContext,
    @Arg('survivorId', () => ID, { description: 'The record that stays.' }) survivorId: string,
    @Arg('mergedIds', () => [ID], { description: 'The duplicates that go (1 to 9).' }) mergedIds: string[],
  ): Promise<Account> {
    return this.service.merge(ctx.auth, survivorId, mergedIds);
  }

  @FieldResolver(() => Account, { nullable: true, description: 'The record this one was merged into.' })
  mergedInto(@Root() r: Account, @Ctx() ctx: RequestContext): Loaded<Account | null> | null {
    return r.mergedIntoId ? ctx.loaders.account.get(r.mergedIntoId) : null;
  }

  @FieldResolver(() => [Contact], { description: 'The contacts at the account (at most 500; use `contacts(filter: { accountId })` to page).' })
  contacts(@Root() account: Account, @Ctx() ctx: RequestContext): Loaded<Contact[]> {
    return ctx.loaders.contactsOfAccount.get(account.id);
  }

  @FieldResolver(() => [Opportunity], { description: 'The opportunities of the account (at most 500; use `opportunities(filter: { accountId })` to page).' })
  opportunities(@Root() account: Account, @Ctx() ctx: RequestContext): Loaded<Opportunity[]> {
    return ctx.loaders.opportunitiesOfAccount.get(account.id);
  }

  @FieldResolver(() => [Activity], { description: 'The latest activities about the account, newest first.' })
  activities(
    @Root() account: Account,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { defaultValue: 10, description: 'How many (at most 100).' }) first: number,
  ): Loaded<Activity[]> {
    return ctx.loaders.latestActivities('account', first).get(account.id);
  }
}
