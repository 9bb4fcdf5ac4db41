import { IsEmail, IsInt, IsOptional, Length, MaxLength, Min } from 'class-validator';
import { Field, InputType, Int } from 'type-graphql';
import { JSONScalar } from '../../graphql/scalars';
import { MatchOn } from '../common/batch.types';
import { EntityType } from '../common/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../common/upsert';
import { ownerRule, resolveRefs } from '../common/upsert-refs';
import { trimOrNull } from '../common/values';
import { type Activity, ActivityStatus, ActivityType } from './activity.entity';
import { ACTIVITY_STORE } from './activity.spec';

@InputType({ description: 'An activity to create or update, matched by externalId; omitted fields stay as they are.' })
export class UpsertActivityInput {
  @Field({ nullable: true, description: 'The id in your system (the match key).' }) @IsOptional() @Length(1, 200) externalId?: string;
  @Field(() => ActivityType, { nullable: true, description: 'CALL, EMAIL, MEETING, NOTE or TASK (required to create).' }) @IsOptional() type?: ActivityType;
  @Field({ nullable: true, description: 'A one-line summary (required to create).' }) @IsOptional() @Length(1, 500) subject?: string;
  @Field(() => String, { nullable: true, description: 'The details.' }) @IsOptional() @MaxLength(100_000) body?: string | null;
  @Field(() => ActivityStatus, { nullable: true, description: 'Default: OPEN for tasks and anything due in the future, else COMPLETED.' }) @IsOptional() status?: ActivityStatus;
  @Field(() => Date, { nullable: true, description: 'When it is due or takes place.' }) @IsOptional() dueAt?: Date | null;
  @Field(() => Date, { nullable: true, description: 'When it was completed.' }) @IsOptional() completedAt?: Date | null;
  @Field(() => Int, { nullable: true, description: 'Duration in seconds.' }) @IsOptional() @IsInt() @Min(0) durationSeconds?: number | null;
  @Field(() => String, { nullable: true, description: "A call's outcome." }) @IsOptional() @MaxLength(200) outcome?: string | null;
  @Field(() => String, { nullable: true, description: 'The account, by its externalId.' }) @IsOptional() @Length(1, 200) accountExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The contact, by its externalId.' }) @IsOptional() @Length(1, 200) contactExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The lead, by its externalId.' }) @IsOptional() @Length(1, 200) leadExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The opportunity, by its externalId.' }) @IsOptional() @Length(1, 200) opportunityExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values to set; a null value removes one.' }) @IsOptional() customFields?: Record<string, unknown>;
}

const byExternal = (target: string, table: string, field: keyof UpsertActivityInput) => ({
  target,
  table,
  label: table,
  byKey: [field, 'external_id', false, (i: UpsertActivityInput) => i[field] as string | undefined] as [string, string, boolean, (i: UpsertActivityInput) => string | undefined],
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
        byExternal('accountId', 'account', 'accountExternalId'),
        byExternal('contactId', 'contact', 'contactExternalId'),
        byExternal('leadId', 'lead', 'leadExternalId'),
        byExternal('opportunityId', 'opportunity', 'opportunityExternalId'),
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
