import { IsEmail, IsOptional, Length } from 'class-validator';
import { UpdateActivityInput } from './activity.types';
import { Field, InputType } from 'type-graphql';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../../data/upsert';
import { ownerRule, resolveRefs } from '../../data/upsert-refs';
import { trimOrNull } from '../../data/values';
import { type Activity, ActivityStatus, ActivityType } from './activity.entity';
import { ACTIVITY_STORE } from './activity.descriptor';

@InputType({ description: 'An activity to create or update, matched by externalId; omitted fields stay as they are.' })
export class UpsertActivityInput extends UpdateActivityInput {
  @Field(() => ActivityType, { nullable: true, description: 'CALL, EMAIL, MEETING, NOTE or TASK (required to create).' }) @IsOptional() type?: ActivityType;
  @Field(() => Date, { nullable: true, description: 'When it was completed.' }) @IsOptional() completedAt?: Date | null;
  @Field(() => String, { nullable: true, description: 'The account, by its externalId.' }) @IsOptional() @Length(1, 200) accountExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The contact, by its externalId.' }) @IsOptional() @Length(1, 200) contactExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The lead, by its externalId.' }) @IsOptional() @Length(1, 200) leadExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The opportunity, by its externalId.' }) @IsOptional() @Length(1, 200) opportunityExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
}

/** A reference by id or by the other record's externalId. */
const related = (
  target: 'accountId' | 'contactId' | 'leadId' | 'opportunityId',
  table: string,
  field: 'accountExternalId' | 'contactExternalId' | 'leadExternalId' | 'opportunityExternalId',
) => ({
  target,
  table,
  label: table,
  byId: (i: UpsertActivityInput) => i[target],
  byKey: [field, 'external_id', false, (i: UpsertActivityInput) => i[field]] as [string, string, boolean, (i: UpsertActivityInput) => string | undefined],
});

export function activityUpsert(): UpsertConfig<Activity, UpsertActivityInput> {
  return {
    store: ACTIVITY_STORE,
    owned: true,
    customFields: EntityType.ACTIVITY,
    required: ['type', 'subject'],
    match: { [MatchOn.EXTERNAL_ID]: externalIdMatch() },
    async prepare(ctx, inputs) {
      const refs = await resolveRefs(ctx, inputs, [
        ownerRule(),
        related('accountId', 'account', 'accountExternalId'),
        related('contactId', 'contact', 'contactExternalId'),
        related('leadId', 'lead', 'leadExternalId'),
        related('opportunityId', 'opportunity', 'opportunityExternalId'),
      ]);
      return inputs.map((i, n) => {
        const r = refs[n];
        if (Array.isArray(r)) return r;
        const open = i.type === ActivityType.TASK || (i.dueAt && i.dueAt.getTime() > Date.now());
        const status = i.status ?? (i.completedAt ? ActivityStatus.COMPLETED : undefined);
        const prepared: Prepared = {
          createDefaults: { status: open ? ActivityStatus.OPEN : ActivityStatus.COMPLETED, completedAt: open ? null : (i.completedAt ?? new Date()) },
          values: {
            externalId: trimOrNull(i.externalId),
            type: i.type,
            subject: i.subject?.trim(),
            body: i.body,
            status,
            dueAt: i.dueAt,
            completedAt: i.completedAt,
            durationSeconds: i.durationSeconds,
            outcome: trimOrNull(i.outcome),
            accountId: r.accountId,
            contactId: r.contactId,
            leadId: r.leadId,
            opportunityId: r.opportunityId,
            ownerId: r.ownerId,
            customFields: i.customFields,
          },
        };
        return prepared;
      });
    },
  };
}
