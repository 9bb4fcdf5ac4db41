import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { includeAccount } from '../accounts/account.descriptor';
import { includeContact } from '../contacts/contact.descriptor';
import { includeLead } from '../leads/lead.descriptor';
import { includeOpportunity } from '../opportunities/opportunity.descriptor';
import type { Loaded } from '../../data/loaders';
import { Account } from '../accounts/account.entity';
import { CrudResolver } from '../common/crud.resolver';
import { Contact } from '../contacts/contact.entity';
import { Lead } from '../leads/lead.entity';
import { Opportunity } from '../opportunities/opportunity.entity';
import { Activity } from './activity.entity';
import type { ActivityService } from './activity.service';
import { ActivityConnection, ActivityFilter, ActivityOrder, CreateActivityInput, UpdateActivityInput, UpsertActivityInput } from './activity.types';

const Base = CrudResolver({
  name: 'Activity',
  plural: 'activities',
  entity: Activity,
  connection: ActivityConnection,
  filter: ActivityFilter,
  order: ActivityOrder,
  createInput: CreateActivityInput,
  updateInput: UpdateActivityInput,
  upsertInput: UpsertActivityInput,
  owned: true,
  includes: { account: includeAccount(), contact: includeContact(), lead: includeLead(), opportunity: includeOpportunity() },
});

@Resolver(() => Activity)
export class ActivityResolver extends Base {
  constructor(protected readonly service: ActivityService) {
    super();
  }

  @Authorized('WRITE')
  @Mutation(() => Activity, { description: 'Marks a task (or any open activity) completed: `activity.completed`.' })
  completeTask(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The activity id.' }) id: string): Promise<Activity> {
    return this.service.complete(ctx.auth, id);
  }

  @FieldResolver(() => Account, { nullable: true, description: 'The account it concerns.' })
  account(@Root() a: Activity, @Ctx() ctx: RequestContext): Loaded<Account | null> | null {
    return a.accountId ? ctx.loaders.account.get(a.accountId) : null;
  }

  @FieldResolver(() => Contact, { nullable: true, description: 'The contact it concerns.' })
  contact(@Root() a: Activity, @Ctx() ctx: RequestContext): Loaded<Contact | null> | null {
    return a.contactId ? ctx.loaders.contact.get(a.contactId) : null;
  }

  @FieldResolver(() => Lead, { nullable: true, description: 'The lead it concerns.' })
  lead(@Root() a: Activity, @Ctx() ctx: RequestContext): Loaded<Lead | null> | null {
    return a.leadId ? ctx.loaders.lead.get(a.leadId) : null;
  }

  @FieldResolver(() => Opportunity, { nullable: true, description: 'The opportunity it concerns.' })
  opportunity(@Root() a: Activity, @Ctx() ctx: RequestContext): Loaded<Opportunity | null> | null {
    return a.opportunityId ? ctx.loaders.opportunity.get(a.opportunityId) : null;
  }
}
