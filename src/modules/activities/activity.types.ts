import { IsEmail, IsInt, IsOptional, IsUUID, Length, MaxLength, Min } from 'class-validator';
import { Field, ID, InputType, Int, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderType } from '../../data/connection';
import { CustomFieldFilter, DateTimeFilter, EnumFilter, IDFilter, IntFilter, StringFilter } from '../../data/filter';
import { JSONScalar } from '../../graphql/scalars';
import { AccountFilter } from '../accounts/account.types';
import { ContactFilter } from '../contacts/contact.types';
import { LeadFilter } from '../leads/lead.types';
import { OpportunityFilter } from '../opportunities/opportunity.types';
import { UserFilter } from '../users/user.types';
import { Activity, ActivityStatus, ActivityType } from './activity.entity';
import { IsOptionalNotNull } from '../../graphql/validators';

@InputType({ description: 'A new activity, about any of a lead, contact, account or opportunity.' })
export class CreateActivityInput {
  @Field(() => ActivityType, { description: 'CALL, EMAIL, MEETING, NOTE or TASK.' }) type: ActivityType;
  @Field({ description: 'A one-line summary.' }) @Length(1, 500) subject: string;
  @Field({ nullable: true, description: 'The details.' }) @IsOptional() @MaxLength(100_000) body?: string;
  @Field(() => ActivityStatus, { nullable: true, description: 'Default: OPEN for tasks and for anything due in the future, else COMPLETED.' })
  @IsOptional()
  status?: ActivityStatus;
  @Field(() => Date, { nullable: true, description: 'When it is due or takes place.' }) @IsOptional() dueAt?: Date;
  @Field(() => Int, { nullable: true, description: 'How long a call or meeting lasted, in seconds.' }) @IsOptional() @IsInt() @Min(0) durationSeconds?: number;
  @Field({ nullable: true, description: "A call's outcome." }) @IsOptional() @MaxLength(200) outcome?: string;
  @Field(() => ID, { nullable: true, description: 'The account it concerns.' }) @IsOptional() @IsUUID() accountId?: string;
  @Field(() => ID, { nullable: true, description: 'The contact it concerns.' }) @IsOptional() @IsUUID() contactId?: string;
  @Field(() => ID, { nullable: true, description: 'The lead it concerns.' }) @IsOptional() @IsUUID() leadId?: string;
  @Field(() => ID, { nullable: true, description: 'The opportunity it concerns.' }) @IsOptional() @IsUUID() opportunityId?: string;
  @Field({ nullable: true, description: 'The id in an integrated system; unique in the workspace.' }) @IsOptional() @Length(1, 200) externalId?: string;
  @Field(() => ID, { nullable: true, description: 'The owner (a task’s assignee); a user creating it owns it by default.' })
  @IsOptional()
  @IsUUID()
  ownerId?: string;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values by key.' }) @IsOptional() customFields?: Record<string, unknown>;
}

@InputType({ description: 'Changes to an activity; omitted fields stay, null clears.' })
export class UpdateActivityInput {
  @Field({ nullable: true, description: 'A one-line summary.' }) @IsOptional() @Length(1, 500) subject?: string;
  @Field(() => String, { nullable: true, description: 'The details.' }) @IsOptional() @MaxLength(100_000) body?: string | null;
  @Field(() => ActivityStatus, { nullable: true, description: 'Open, completed or cancelled.' }) @IsOptionalNotNull() status?: ActivityStatus;
  @Field(() => Date, { nullable: true, description: 'When it is due or takes place.' }) @IsOptional() dueAt?: Date | null;
  @Field(() => Int, { nullable: true, description: 'Duration in seconds.' }) @IsOptional() @IsInt() @Min(0) durationSeconds?: number | null;
  @Field(() => String, { nullable: true, description: "A call's outcome." }) @IsOptional() @MaxLength(200) outcome?: string | null;
  @Field(() => ID, { nullable: true, description: 'The account.' }) @IsOptional() @IsUUID() accountId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The contact.' }) @IsOptional() @IsUUID() contactId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The lead.' }) @IsOptional() @IsUUID() leadId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The opportunity.' }) @IsOptional() @IsUUID() opportunityId?: string | null;
  @Field(() => String, { nullable: true, description: 'The id in an integrated system.' }) @IsOptional() @Length(1, 200) externalId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The owner.' }) @IsOptional() @IsUUID() ownerId?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values to set; a null value removes one.' }) @IsOptional() customFields?: Record<
    string,
    unknown
  >;
}

const ActivityTypeFilter = EnumFilter(ActivityType, 'ActivityType');
const ActivityStatusFilter = EnumFilter(ActivityStatus, 'ActivityStatus');

@InputType({ description: 'Conditions on activities; all given conditions must hold.' })
export class ActivityFilter {
  @Field(() => IDFilter, { nullable: true, description: 'The id.' }) id?: IDFilter;
  @Field(() => ActivityTypeFilter, { nullable: true, description: 'The type.' }) type?: unknown;
  @Field(() => StringFilter, { nullable: true, description: 'The subject.' }) subject?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The body.' }) body?: StringFilter;
  @Field(() => ActivityStatusFilter, { nullable: true, description: 'The status.' }) status?: unknown;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it is due.' }) dueAt?: DateTimeFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it was completed.' }) completedAt?: DateTimeFilter;
  @Field(() => IntFilter, { nullable: true, description: 'The duration in seconds.' }) durationSeconds?: IntFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The outcome.' }) outcome?: StringFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The account id.' }) accountId?: IDFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The contact id.' }) contactId?: IDFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The lead id.' }) leadId?: IDFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The opportunity id.' }) opportunityId?: IDFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The owner id.' }) ownerId?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The external id.' }) externalId?: StringFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it was created.' }) createdAt?: DateTimeFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it last changed.' }) updatedAt?: DateTimeFilter;
  @Field(() => AccountFilter, { nullable: true, description: 'Conditions on the account.' }) account?: AccountFilter;
  @Field(() => ContactFilter, { nullable: true, description: 'Conditions on the contact.' }) contact?: ContactFilter;
  @Field(() => LeadFilter, { nullable: true, description: 'Conditions on the lead.' }) lead?: LeadFilter;
  @Field(() => OpportunityFilter, { nullable: true, description: 'Conditions on the opportunity.' }) opportunity?: OpportunityFilter;
  @Field(() => UserFilter, { nullable: true, description: 'Conditions on the owner.' }) owner?: UserFilter;
  @Field(() => [CustomFieldFilter], { nullable: true, description: 'Conditions on custom fields.' }) customFields?: CustomFieldFilter[];
  @Field(() => [ActivityFilter], { nullable: true, description: 'All of these hold.' }) and?: ActivityFilter[];
  @Field(() => [ActivityFilter], { nullable: true, description: 'At least one of these holds.' }) or?: ActivityFilter[];
  @Field(() => ActivityFilter, { nullable: true, description: 'This does not hold.' }) not?: ActivityFilter;
}

enum ActivityOrderField {
  TYPE = 'TYPE',
  SUBJECT = 'SUBJECT',
  STATUS = 'STATUS',
  DUE_AT = 'DUE_AT',
  COMPLETED_AT = 'COMPLETED_AT',
  CREATED_AT = 'CREATED_AT',
  UPDATED_AT = 'UPDATED_AT',
}
registerEnumType(ActivityOrderField, {
  name: 'ActivityOrderField',
  description: 'Fields activities can be sorted by.',
  valuesConfig: {
    TYPE: { description: 'The activity type.' },
    SUBJECT: { description: 'The subject.' },
    STATUS: { description: 'The status.' },
    DUE_AT: { description: 'The due date.' },
    COMPLETED_AT: { description: 'When it was completed.' },
    CREATED_AT: { description: 'When it was created.' },
    UPDATED_AT: { description: 'When it last changed.' },
  },
});
export const ActivityOrder = OrderType(ActivityOrderField, 'Activity');
export const ActivityConnection = ConnectionType(Activity);

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
