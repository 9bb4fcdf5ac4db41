import { IsEmail, IsOptional } from 'class-validator';
import { UpdateLeadInput } from './lead.types';
import { Field, InputType } from 'type-graphql';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../../data/upsert';
import { ownerRule, resolveRefs } from '../../data/upsert-refs';
import { normEmail, trimOrNull } from '../../data/values';
import { type Lead, LeadStatus } from './lead.entity';
import { LEAD_STORE } from './lead.descriptor';

@InputType({ description: 'A lead to create or update, matched by externalId or email; omitted fields stay as they are.' })
export class UpsertLeadInput extends UpdateLeadInput {
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
}

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
          values: {
            externalId: trimOrNull(i.externalId),
            firstName: trimOrNull(i.firstName),
            lastName: i.lastName?.trim(),
            email: normEmail(i.email),
            phone: trimOrNull(i.phone),
            company: trimOrNull(i.company),
            title: trimOrNull(i.title),
            status: i.status,
            source: i.source,
            ownerId: r.ownerId,
            customFields: i.customFields,
          },
        };
        return prepared;
      });
    },
  };
}
