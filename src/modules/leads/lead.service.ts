import type { ServiceContext } from '../../data/context';
import { SortDirection } from '../../data/connection';
import { EntityType } from '../../graphql/enums';
import { CrudService } from '../common/crud.service';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import { type Lead, LeadStatus } from './lead.entity';
import { leadUpsert } from './lead.upsert';
import { LEAD_SPEC, LEAD_STORE } from './lead.descriptor';
import type { CreateLeadInput, UpdateLeadInput } from './lead.types';

export class LeadService extends CrudService<Lead> {
  constructor(customFields: CustomFieldService) {
    super(
      {
        store: LEAD_STORE,
        spec: LEAD_SPEC,
        defaultOrder: [{ field: 'CREATED_AT', direction: SortDirection.DESC }],
        owned: true,
        customFields: EntityType.LEAD,
        upsert: leadUpsert(),
      },
      customFields,
    );
  }

  create(ctx: ServiceContext, input: CreateLeadInput): Promise<Lead> {
    return this.createOne(ctx, input);
  }

  update(ctx: ServiceContext, id: string, input: UpdateLeadInput, expectedVersion?: number | null): Promise<Lead> {
    return this.updateOne(ctx, id, input, expectedVersion);
  }

  /** Locks a lead for the conversion (which owns the rest of the rules). */
  lockForConversion(ctx: ServiceContext, id: string): Promise<Lead> {
    return this.lock(ctx, id);
  }

  /** Marks a locked lead CONVERTED with links to what it became, recording `lead.converted`. */
  async markConverted(ctx: ServiceContext, lead: Lead, links: { accountId: string; contactId: string; opportunityId: string | null }): Promise<Lead> {
    const patch = {
      status: LeadStatus.CONVERTED,
      convertedAt: new Date(),
      convertedAccountId: links.accountId,
      convertedContactId: links.contactId,
      convertedOpportunityId: links.opportunityId,
    };
    return (await this.patchLocked(ctx, lead, patch, null, 'lead.converted')).record;
  }
}
