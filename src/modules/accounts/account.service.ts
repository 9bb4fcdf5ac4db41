import type { ServiceContext } from '../../data/context';
import { EntityType } from '../../graphql/enums';
import { CrudService } from '../common/crud.service';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import type { WorkspaceService } from '../workspaces/workspace.service';
import type { Account } from './account.entity';
import { ACCOUNT_SPEC, ACCOUNT_STORE } from './account.descriptor';
import { accountUpsert } from './account.upsert';
import { ACTIVITY_STORE } from '../activities/activity.descriptor';
import { mergeRecords } from '../common/merge';
import { CONTACT_STORE } from '../contacts/contact.descriptor';
import { LEAD_STORE } from '../leads/lead.descriptor';
import { OPPORTUNITY_STORE } from '../opportunities/opportunity.descriptor';
import type { CreateAccountInput, UpdateAccountInput } from './account.types';

export class AccountService extends CrudService<Account> {
  constructor(customFields: CustomFieldService, workspaces: WorkspaceService) {
    super(
      {
        store: ACCOUNT_STORE,
        spec: ACCOUNT_SPEC,
        defaultOrder: [{ field: 'NAME' }],
        owned: true,
        customFields: EntityType.ACCOUNT,
        upsert: accountUpsert(workspaces),
      },
      customFields,
    );
  }

  /** Merges up to 9 accounts into a survivor: contacts, deals and activities move to it. */
  merge(ctx: ServiceContext, survivorId: string, mergedIds: string[]): Promise<Account> {
    return mergeRecords(
      ctx,
      {
        store: ACCOUNT_STORE,
        fillFields: [
          'domain',
          'industry',
          'type',
          'employees',
          'annualRevenueAmount',
          'annualRevenueCurrency',
          'phone',
          'website',
          'address',
          'country',
          'ownerId',
        ],
        relations: [
          { store: CONTACT_STORE, field: 'accountId' },
          { store: OPPORTUNITY_STORE, field: 'accountId' },
          { store: ACTIVITY_STORE, field: 'accountId' },
          { store: LEAD_STORE, field: 'convertedAccountId' },
        ],
      },
      survivorId,
      mergedIds,
    );
  }

  create(ctx: ServiceContext, input: CreateAccountInput): Promise<Account> {
    return this.createOne(ctx, input);
  }

  update(ctx: ServiceContext, id: string, input: UpdateAccountInput, expectedVersion?: number | null): Promise<Account> {
    return this.updateOne(ctx, id, input, expectedVersion);
  }
}
