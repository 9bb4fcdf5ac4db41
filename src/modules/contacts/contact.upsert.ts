import { IsEmail, IsOptional, Length } from 'class-validator';
import { UpdateContactInput } from './contact.types';
import { Field, InputType } from 'type-graphql';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../../data/upsert';
import { ownerRule, resolveRefs } from '../../data/upsert-refs';
import { normEmail, trimOrNull } from '../../data/values';
import type { Contact } from './contact.entity';
import { CONTACT_STORE } from './contact.descriptor';

@InputType({ description: 'A contact to create or update, matched by externalId or email; omitted fields stay as they are.' })
export class UpsertContactInput extends UpdateContactInput {
  @Field(() => String, { nullable: true, description: 'The account, by its externalId.' }) @IsOptional() @Length(1, 200) accountExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
}

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
          values: {
            externalId: trimOrNull(i.externalId),
            firstName: trimOrNull(i.firstName),
            lastName: i.lastName?.trim(),
            email: normEmail(i.email),
            phone: trimOrNull(i.phone),
            title: trimOrNull(i.title),
            accountId: r.accountId,
            ownerId: r.ownerId,
            customFields: i.customFields,
          },
        };
        return prepared;
      });
    },
  };
}
