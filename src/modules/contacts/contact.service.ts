import type { ServiceContext } from '../../data/context';
import { EntityType } from '../../graphql/enums';
import { CrudService } from '../common/crud.service';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import type { Contact } from './contact.entity';
import { contactUpsert } from './contact.upsert';
import { ACTIVITY_STORE } from '../activities/activity.descriptor';
import { mergeRecords } from '../common/merge';
import { LEAD_STORE } from '../leads/lead.descriptor';
import { OPPORTUNITY_STORE } from '../opportunities/opportunity.descriptor';
import { CONTACT_SPEC, CONTACT_STORE } from './contact.descriptor';
import type { CreateContactInput, UpdateContactInput } from './contact.types';

export class ContactService extends CrudService<Contact> {
  constructor(customFields: CustomFieldService) {
    super(
      {
        store: CONTACT_STORE,
        spec: CONTACT_SPEC,
        defaultOrder: [{ field: 'LAST_NAME' }, { field: 'FIRST_NAME' }],
        owned: true,
        references: { accountId: { table: 'account', label: 'account' } },
        customFields: EntityType.CONTACT,
        upsert: contactUpsert(),
      },
      customFields,
    );
  }

  /** Merges up to 9 contacts into a survivor: deals (as primary contact) and activities move to it. */
  merge(ctx: ServiceContext, survivorId: string, mergedIds: string[]): Promise<Contact> {
    return mergeRecords(
      ctx,
      {
        store: CONTACT_STORE,
        fillFields: ['firstName', 'email', 'phone', 'title', 'accountId', 'ownerId'],
        relations: [
          { store: OPPORTUNITY_STORE, field: 'primaryContactId' },
          { store: ACTIVITY_STORE, field: 'contactId' },
          { store: LEAD_STORE, field: 'convertedContactId' },
        ],
      },
      survivorId,
      mergedIds,
    );
  }

  create(ctx: ServiceContext, input: CreateContactInput): Promise<Contact> {
    return this.createOne(ctx, input);
  }

  update(ctx: ServiceContext, id: string, input: UpdateContactInput, expectedVersion?: number | null): Promise<Contact> {
    return this.updateOne(ctx, id, input, expectedVersion);
  }
}
