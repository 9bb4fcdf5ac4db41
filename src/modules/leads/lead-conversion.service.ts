import type { ServiceContext } from '../../data/context';
import { conflict } from '../../kernel/errors';
import type { AccountService } from '../accounts/account.service';
import type { ActivityService } from '../activities/activity.service';
import type { ContactService } from '../contacts/contact.service';
import type { OpportunityService } from '../opportunities/opportunity.service';
import { LeadStatus } from './lead.entity';
import type { LeadService } from './lead.service';
import type { ConvertLeadInput, LeadConversion } from './lead.types';

/**
 * convertLead: in one savepoint of the request's transaction, the lead becomes an account (new or
 * existing), a contact and optionally an opportunity; its activities follow; `lead.converted`.
 */
export class LeadConversionService {
  constructor(
    private readonly leads: LeadService,
    private readonly accounts: AccountService,
    private readonly contacts: ContactService,
    private readonly opportunities: OpportunityService,
    private readonly activities: ActivityService,
  ) {}

  async convert(ctx: ServiceContext, id: string, input: ConvertLeadInput = {}): Promise<LeadConversion> {
    return ctx.tx.savepoint(async () => {
      const lead = await this.leads.lockForConversion(ctx, id);
      if (lead.status === LeadStatus.CONVERTED) throw conflict('This lead is already converted');
      if (lead.deletedAt) throw conflict('This lead is deleted: restore it first');
      const ownerId = lead.ownerId ?? undefined;
      const account = input.accountId
        ? await this.accounts.get(ctx, input.accountId)
        : await this.accounts.create(ctx, { name: lead.company ?? [lead.firstName, lead.lastName].filter(Boolean).join(' '), ownerId });
      if (account.deletedAt) throw conflict('The account is deleted: restore it first');
      const contact = await this.contacts.create(ctx, {
        firstName: lead.firstName ?? undefined,
        lastName: lead.lastName,
        email: lead.email ?? undefined,
        phone: lead.phone ?? undefined,
        title: lead.title ?? undefined,
        accountId: account.id,
        ownerId,
      });
      const opportunity = input.opportunity
        ? await this.opportunities.create(ctx, { ...input.opportunity, accountId: account.id, primaryContactId: contact.id, ownerId })
        : null;
      await this.activities.moveFromLead(ctx, lead.id, { accountId: account.id, contactId: contact.id, opportunityId: opportunity?.id ?? null });
      const converted = await this.leads.markConverted(ctx, lead, { accountId: account.id, contactId: contact.id, opportunityId: opportunity?.id ?? null });
      return { lead: converted, account, contact, opportunity };
    });
  }
}
