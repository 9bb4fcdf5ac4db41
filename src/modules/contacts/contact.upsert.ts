import { CreateContactInput, UpdateContactInput, UpsertContactInput } from './contact.types';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../../data/upsert';
import { ownerRule, resolveRefs } from '../../data/upsert-refs';
import { normEmail, trimOrNull } from '../../data/values';
import type { Contact } from './contact.entity';
import { CONTACT_STORE } from './contact.descriptor';

export function contactUpsert(): UpsertConfig<Contact, UpsertContactInput> {
  return {
    store: CONTACT_STORE,
    owned: true,
    customFields: EntityType.CONTACT,
    required: ['lastName'],
    match: {
      [MatchOn.EXTERNAL_ID]: externalIdMatch(),
      [MatchOn.EMAIL]: { sql: 'lower(t.email)', field: 'email', key: (i) => i.email },
    },
    async prepare(ctx, inputs) {
      const refs = await resolveRefs(ctx, inputs, [
        ownerRule(),
        {
          target: 'accountId',
          table: 'account',
          label: 'account',
          byId: (i) => i.accountId,
          byKey: ['accountExternalId', 'external_id', false, (i) => i.accountExternalId],
        },
      ]);
      return inputs.map((i, n) => {
        const r = refs[n];
        if (Array.isArray(r)) return r;
        const prepared: Prepared = {
          values: { ...contactValues(i), accountId: r.accountId, ownerId: r.ownerId },
        };
        return prepared;
      });
    },
  };
}

/** A contact input's values, normalised: the same for a single write and an upsert. */
const contactValues = (i: CreateContactInput | UpdateContactInput) => ({
  firstName: trimOrNull(i.firstName),
  lastName: i.lastName?.trim(),
  email: normEmail(i.email),
  phone: trimOrNull(i.phone),
  title: trimOrNull(i.title),
  accountId: i.accountId,
  externalId: trimOrNull(i.externalId),
  ownerId: i.ownerId,
  customFields: i.customFields,
});
