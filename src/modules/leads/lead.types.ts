import { IsEmail, IsOptional, IsUUID, Length, MaxLength, ValidateNested } from 'class-validator';
import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderType } from '../../data/connection';
import { CustomFieldFilter, DateTimeFilter, EnumFilter, IDFilter, StringFilter } from '../../data/filter';
import { MoneyInput } from '../../graphql/money';
import { DateScalar, JSONScalar } from '../../graphql/scalars';
import { Account } from '../accounts/account.entity';
import { Contact } from '../contacts/contact.entity';
import { Opportunity } from '../opportunities/opportunity.entity';
import { UserFilter } from '../users/user.types';
import { Lead, LeadSource, LeadStatus } from './lead.entity';
import { IsOptionalNotNull } from '../../graphql/validators';

@InputType({ description: 'A new lead.' })
export class CreateLeadInput {
  @Field({ nullable: true, description: 'The first name.' }) @IsOptional() @MaxLength(200) firstName?: string;
  @Field({ description: 'The last name.' }) @Length(1, 200) lastName: string;
  @Field({ nullable: true, description: 'The email address.' }) @IsOptional() @IsEmail() @MaxLength(320) email?: string;
  @Field({ nullable: true, description: 'The phone number.' }) @IsOptional() @MaxLength(50) phone?: string;
  @Field({ nullable: true, description: 'The company.' }) @IsOptional() @MaxLength(300) company?: string;
  @Field({ nullable: true, description: 'The job title.' }) @IsOptional() @MaxLength(200) title?: string;
  @Field(() => LeadStatus, { nullable: true, description: 'Default NEW; CONVERTED only through convertLead.' }) @IsOptional() status?: LeadStatus;
  @Field(() => LeadSource, { nullable: true, description: 'Where the lead came from.' }) @IsOptional() source?: LeadSource;
  @Field({ nullable: true, description: 'The id in an integrated system; unique in the workspace.' }) @IsOptional() @Length(1, 200) externalId?: string;
  @Field(() => ID, { nullable: true, description: 'The owner; a user creating the record owns it by default.' }) @IsOptional() @IsUUID() ownerId?: string;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values by key.' }) @IsOptional() customFields?: Record<string, unknown>;
}

@InputType({ description: 'Changes to a lead; omitted fields stay, null clears.' })
export class UpdateLeadInput {
  @Field(() => String, { nullable: true, description: 'The first name.' }) @IsOptional() @MaxLength(200) firstName?: string | null;
  @Field({ nullable: true, description: 'The last name.' }) @IsOptional() @Length(1, 200) lastName?: string;
  @Field(() => String, { nullable: true, description: 'The email address.' }) @IsOptional() @IsEmail() @MaxLength(320) email?: string | null;
  @Field(() => String, { nullable: true, description: 'The phone number.' }) @IsOptional() @MaxLength(50) phone?: string | null;
  @Field(() => String, { nullable: true, description: 'The company.' }) @IsOptional() @MaxLength(300) company?: string | null;
  @Field(() => String, { nullable: true, description: 'The job title.' }) @IsOptional() @MaxLength(200) title?: string | null;
  @Field(() => LeadStatus, { nullable: true, description: 'The status (not CONVERTED: use convertLead).' }) @IsOptionalNotNull() status?: LeadStatus;
  @Field(() => LeadSource, { nullable: true, description: 'Where the lead came from.' }) @IsOptional() source?: LeadSource | null;
  @Field(() => String, { nullable: true, description: 'The id in an integrated system.' }) @IsOptional() @Length(1, 200) externalId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The owner.' }) @IsOptional() @IsUUID() ownerId?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values to set; a null value removes one.' }) @IsOptional() customFields?: Record<
    string,
    unknown
  >;
}

@InputType({ description: 'The opportunity to create when converting a lead.' })
class ConvertLeadOpportunityInput {
  @Field({ description: 'The deal name.' }) @Length(1, 300) name: string;
  @Field(() => MoneyInput, { nullable: true, description: 'The deal value.' }) @IsOptional() @ValidateNested() amount?: MoneyInput;
  @Field(() => DateScalar, { nullable: true, description: 'When it is expected to close.' }) @IsOptional() expectedCloseDate?: string;
}

@InputType({ description: 'How to convert a lead: into an existing account or a new one, with or without an opportunity.' })
export class ConvertLeadInput {
  @Field(() => ID, { nullable: true, description: "An existing account; without it, one is created from the lead's company." })
  @IsOptional()
  @IsUUID()
  accountId?: string;
  @Field(() => ConvertLeadOpportunityInput, { nullable: true, description: 'An opportunity to create in the default pipeline.' })
  @IsOptional()
  @ValidateNested()
  opportunity?: ConvertLeadOpportunityInput;
}

@ObjectType({ description: 'What a lead became.' })
export class LeadConversion {
  @Field(() => Lead, { description: 'The lead, now CONVERTED.' }) lead: Lead;
  @Field(() => Account, { description: 'The account (new or existing).' }) account: Account;
  @Field(() => Contact, { description: 'The new contact.' }) contact: Contact;
  @Field(() => Opportunity, { nullable: true, description: 'The new opportunity, if one was asked for.' }) opportunity: Opportunity | null;
}

const LeadStatusFilter = EnumFilter(LeadStatus, 'LeadStatus');
const LeadSourceFilter = EnumFilter(LeadSource, 'LeadSource');

@InputType({ description: 'Conditions on leads; all given conditions must hold.' })
export class LeadFilter {
  @Field(() => IDFilter, { nullable: true, description: 'The id.' }) id?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The first name.' }) firstName?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The last name.' }) lastName?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The email address.' }) email?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The phone number.' }) phone?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The company.' }) company?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The job title.' }) title?: StringFilter;
  @Field(() => LeadStatusFilter, { nullable: true, description: 'The status.' }) status?: unknown;
  @Field(() => LeadSourceFilter, { nullable: true, description: 'The source.' }) source?: unknown;
  @Field(() => IDFilter, { nullable: true, description: 'The owner id.' }) ownerId?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The external id.' }) externalId?: StringFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it was converted.' }) convertedAt?: DateTimeFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it was created.' }) createdAt?: DateTimeFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it last changed.' }) updatedAt?: DateTimeFilter;
  @Field(() => UserFilter, { nullable: true, description: 'Conditions on the owner.' }) owner?: UserFilter;
  @Field(() => [CustomFieldFilter], { nullable: true, description: 'Conditions on custom fields.' }) customFields?: CustomFieldFilter[];
  @Field(() => [LeadFilter], { nullable: true, description: 'All of these hold.' }) and?: LeadFilter[];
  @Field(() => [LeadFilter], { nullable: true, description: 'At least one of these holds.' }) or?: LeadFilter[];
  @Field(() => LeadFilter, { nullable: true, description: 'This does not hold.' }) not?: LeadFilter;
}

enum LeadOrderField {
  FIRST_NAME = 'FIRST_NAME',
  LAST_NAME = 'LAST_NAME',
  EMAIL = 'EMAIL',
  COMPANY = 'COMPANY',
  STATUS = 'STATUS',
  SOURCE = 'SOURCE',
  CREATED_AT = 'CREATED_AT',
  UPDATED_AT = 'UPDATED_AT',
}
registerEnumType(LeadOrderField, {
  name: 'LeadOrderField',
  description: 'Fields leads can be sorted by.',
  valuesConfig: {
    FIRST_NAME: { description: 'The first name.' },
    LAST_NAME: { description: 'The last name.' },
    EMAIL: { description: 'The email.' },
    COMPANY: { description: 'The company name.' },
    STATUS: { description: 'The status.' },
    SOURCE: { description: 'The source.' },
    CREATED_AT: { description: 'When it was created.' },
    UPDATED_AT: { description: 'When it last changed.' },
  },
});
export const LeadOrder = OrderType(LeadOrderField, 'Lead');
export const LeadConnection = ConnectionType(Lead);

@InputType({ description: 'A lead to create or update, matched by externalId or email; omitted fields stay as they are.' })
export class UpsertLeadInput extends UpdateLeadInput {
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
}
