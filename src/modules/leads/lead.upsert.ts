import { IsEmail, IsOptional, IsUUID, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { JSONScalar } from '../../graphql/scalars';
import { MatchOn } from '../common/batch.types';
import { EntityType } from '../common/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../common/upsert';
import { ownerRule, resolveRefs } from '../common/upsert-refs';
import { normEmail, trimOrNull } from '../common/values';
import { type Lead, LeadSource, LeadStatus } from './lead.entity';
import { LEAD_STORE } from './lead.spec';

@InputType({ description: 'A lead to create or update, matched by externalId or email; omitted fields stay as they are.' })
export class UpsertLeadInput {
  @Field({ nullable: true, description: 'The id in your system (the usual match key).' }) @IsOptional() @Length(1, 200) externalId?: string;
  @Field(() => String, { nullable: true, description: 'The first name.' }) @IsOptional() @MaxLength(200) firstName?: string | null;
  @Field({ nullable: true, description: 'The last name (required to create).' }) @IsOptional() @Length(1, 200) lastName?: string;
  @Field(() => String, { nullable: true, description: 'The email (the match key for matchOn: EMAIL).' }) @IsOptional() @IsEmail() @MaxLength(320) email?: string | null;
  @Field(() => String, { nullable: true, description: 'The phone number.' }) @IsOptional() @MaxLength(50) phone?: string | null;
  @Field(() => String, { nullable: true, description: 'The company.' }) @IsOptional() @MaxLength(300) company?: string | null;
  @Field(() => String, { nullable: true, description: 'The job title.' }) @IsOptional() @MaxLength(200) title?: string | null;
  @Field(() => LeadStatus, { nullable: true, description: 'The status (not CONVERTED; default NEW).' }) @IsOptional() status?: LeadStatus;
  @Field(() => LeadSource, { nullable: true, description: 'Where the lead came from.' }) @IsOptional() source?: LeadSource | null;
  @Field(() => ID, { nullable: true, description: 'The owner, by id.' }) @IsOptional() @IsUUID() ownerId?: string | null;
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values to set; a null value removes one.' }) @IsOptional() customFields?: Record<string, unknown>;
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
