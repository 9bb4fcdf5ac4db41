import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { latestActivities } from '../activities/activity.descriptor';
import type { Loaded } from '../../data/loaders';
import { Account } from '../accounts/account.entity';
import { Activity } from '../activities/activity.entity';
import { CrudResolver } from '../common/crud.resolver';
import { Contact } from '../contacts/contact.entity';
import { Opportunity } from '../opportunities/opportunity.entity';
import type { LeadConversionService } from './lead-conversion.service';
import { Lead } from './lead.entity';
import type { LeadService } from './lead.service';
import { ConvertLeadInput, CreateLeadInput, LeadConnection, LeadConversion, LeadFilter, LeadOrder, UpdateLeadInput, UpsertLeadInput } from './lead.types';

const Base = CrudResolver({
  name: 'Lead',
  plural: 'leads',
  entity: Lead,
  connection: LeadConnection,
  filter: LeadFilter,
  order: LeadOrder,
  createInput: CreateLeadInput,
  updateInput: UpdateLeadInput,
  upsertInput: UpsertLeadInput,
  owned: true,
  includes: { activities: latestActivities('lead') },
});

@Resolver(() => Lead)
export class LeadResolver extends Base {
  constructor(
    protected readonly service: LeadService,
    private readonly conversion: LeadConversionService,
  ) {
    super();
  }

  @Authorized('WRITE')
  @Mutation(() => LeadConversion, {
    description:
      'Converts a lead into an account (new or existing), a contact and optionally an opportunity, in one transaction. Converting twice is CONFLICT.',
  })
  convertLead(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { description: 'The lead id.' }) id: string,
    @Arg('input', () => ConvertLeadInput, { nullable: true, description: 'What to create or link (default: a new account and contact, no opportunity).' })
    input?: ConvertLeadInput,
  ): Promise<LeadConversion> {
    // An explicit null is the same as leaving it out.
    return this.conversion.convert(ctx.auth, id, input ?? undefined);
  }

  @FieldResolver(() => Account, { nullable: true, description: 'The account the lead was converted into.' })
  convertedAccount(@Root() lead: Lead, @Ctx() ctx: RequestContext): Loaded<Account | null> | null {
    return lead.convertedAccountId ? ctx.loaders.account.get(lead.convertedAccountId) : null;
  }

  @FieldResolver(() => Contact, { nullable: true, description: 'The contact the lead was converted into.' })
  convertedContact(@Root() lead: Lead, @Ctx() ctx: RequestContext): Loaded<Contact | null> | null {
    return lead.convertedContactId ? ctx.loaders.contact.get(lead.convertedContactId) : null;
  }

  @FieldResolver(() => Opportunity, { nullable: true, description: 'The opportunity created at conversion.' })
  convertedOpportunity(@Root() lead: Lead, @Ctx() ctx: RequestContext): Loaded<Opportunity | null> | null {
    return lead.convertedOpportunityId ? ctx.loaders.opportunity.get(lead.convertedOpportunityId) : null;
  }

  @FieldResolver(() => [Activity], { description: 'The latest activities with the lead, newest first.' })
  activities(
    @Root() lead: Lead,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { defaultValue: 10, description: 'How many (at most 100).' }) first: number,
  ): Loaded<Activity[]> {
    return ctx.loaders.latestActivities('lead', first).get(lead.id);
  }
}
