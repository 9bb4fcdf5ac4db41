import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { includeAccount } from '../accounts/account.descriptor';
import { latestActivities } from '../activities/activity.descriptor';
import type { Loaded } from '../../data/loaders';
import { Account } from '../accounts/account.entity';
import { Activity } from '../activities/activity.entity';
import { CrudResolver } from '../common/crud.resolver';
import { Contact } from './contact.entity';
import type { ContactService } from './contact.service';
import { ContactConnection, ContactFilter, ContactOrder, CreateContactInput, UpdateContactInput, UpsertContactInput } from './contact.types';

const Base = CrudResolver({
  name: 'Contact',
  plural: 'contacts',
  entity: Contact,
  connection: ContactConnection,
  filter: ContactFilter,
  order: ContactOrder,
  createInput: CreateContactInput,
  updateInput: UpdateContactInput,
  upsertInput: UpsertContactInput,
  owned: true,
  includes: { account: includeAccount(), activities: latestActivities('contact') },
});

@Resolver(() => Contact)
export class ContactResolver extends Base {
  constructor(protected readonly service: ContactService) {
    super();
  }

  @Authorized('WRITE')
  @Mutation(() => Contact, {
    description:
      'Merges up to 9 duplicates into the survivor: what pointed at them points at it, its empty fields are filled from them, and they are soft-deleted with a link to it (`contact.merged`).',
  })
  mergeContacts(
    @Ctx() ctx: RequestContext,
    @Arg('survivorId', () => ID, { description: 'The record that stays.' }) survivorId: string,
    @Arg('mergedIds', () => [ID], { description: 'The duplicates that go (1 to 9).' }) mergedIds: string[],
  ): Promise<Contact> {
    return this.service.merge(ctx.auth, survivorId, mergedIds);
  }

  @FieldResolver(() => Contact, { nullable: true, description: 'The record this one was merged into.' })
  mergedInto(@Root() r: Contact, @Ctx() ctx: RequestContext): Loaded<Contact | null> | null {
    return r.mergedIntoId ? ctx.loaders.contact.get(r.mergedIntoId) : null;
  }

  @FieldResolver(() => Account, { nullable: true, description: 'The account the contact works at.' })
  account(@Root() contact: Contact, @Ctx() ctx: RequestContext): Loaded<Account | null> | null {
    return contact.accountId ? ctx.loaders.account.get(contact.accountId) : null;
  }

  @FieldResolver(() => [Activity], { description: 'The latest activities with the contact, newest first.' })
  activities(
    @Root() contact: Contact,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { defaultValue: 10, description: 'How many (at most 100).' }) first: number,
  ): Loaded<Activity[]> {
    return ctx.loaders.latestActivities('contact', first).get(contact.id);
  }
}
