import { CreateLeadInput, UpdateLeadInput, UpsertLeadInput } from './lead.types';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../../data/upsert';
import { ownerRule, resolveRefs } from '../../data/upsert-refs';
import { normEmail, trimOrNull } from '../../data/values';
import { type Lead, LeadStatus } from './lead.entity';
import { LEAD_STORE } from './lead.descriptor';

export function leadUpsert(): UpsertConfig<Lead, UpsertLeadInput> {
  return {
    store: LEAD_STORE,
    owned: true,
    customFields: EntityType.LEAD,
    required: ['lastName'],
    match: {
      [MatchOn.EXTERNAL_ID]: externalIdMatch(),
      [MatchOn.EMAIL]: { sql: 'lower(t.email)', field: 'email', key: (i) => i.email },
    },
    async prepare(ctx, inputs) {
      const refs = await resolveRefs(ctx, inputs, [ownerRule()]);
      return inputs.map((i, n) => {
        const r = refs[n];
        if (Array.isArray(r)) return r;
        if (i.status === LeadStatus.CONVERTED) return [{ field: 'status', message: 'a lead becomes CONVERTED through convertLead' }];
        const prepared: Prepared = {
          createDefaults: { status: LeadStatus.NEW },
          values: { ...leadValues(i), status: i.status, ownerId: r.ownerId },
        };
        return prepared;
      });
    },
  };
}

/** A lead input's values, normalised: the same for a single write and an upsert (the status has rules of its own). */
const leadValues = (i: CreateLeadInput | UpdateLeadInput) => ({
  firstName: trimOrNull(i.firstName),
  lastName: i.lastName?.trim(),
  email: normEmail(i.email),
  phone: trimOrNull(i.phone),
  company: trimOrNull(i.company),
  title: trimOrNull(i.title),
  source: i.source,
  externalId: trimOrNull(i.externalId),
  ownerId: i.ownerId,
  customFields: i.customFields,
});
