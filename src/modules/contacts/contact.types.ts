import { IsEmail, IsOptional, IsUUID, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderType } from '../../data/connection';
import { CustomFieldFilter, DateTimeFilter, IDFilter, StringFilter } from '../../data/filter';
import { JSONScalar } from '../../graphql/scalars';
import { AccountFilter } from '../accounts/account.types';
import { UserFilter } from '../users/user.types';
import { Contact } from './contact.entity';

@InputType({ description: 'A new contact.' })
export class CreateContactInput {
  @Field({ nullable: true, description: 'The first name.' }) @IsOptional() @MaxLength(200) firstName?: string;
  @Field({ description: 'The last name.' }) @Length(1, 200) lastName: string;
  @Field({ nullable: true, description: 'The email address.' }) @IsOptional() @IsEmail() @MaxLength(320) email?: string;
  @Field({ nullable: true, description: 'The phone number.' }) @IsOptional() @MaxLength(50) phone?: string;
  @Field({ nullable: true, description: 'The job title.' }) @IsOptional() @MaxLength(200) title?: string;
  @Field(() => ID, { nullable: true, description: 'The account the contact works at.' }) @IsOptional() @IsUUID() accountId?: string;
  @Field({ nullable: true, description: 'The id in an integrated system; unique in the workspace.' }) @IsOptional() @Length(1, 200) externalId?: string;
  @Field(() => ID, { nullable: true, description: 'The owner; a user creating the record owns it by default.' }) @IsOptional() @IsUUID() ownerId?: string;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values by key.' }) @IsOptional() customFields?: Record<string, unknown>;
}

@InputType({ description: 'Changes to a contact; omitted fields stay, null clears.' })
export class UpdateContactInput {
  @Field(() => String, { nullable: true, description: 'The first name.' }) @IsOptional() @MaxLength(200) firstName?: string | null;
  @Field({ nullable: true, description: 'The last name.' }) @IsOptional() @Length(1, 200) lastName?: string;
  @Field(() => String, { nullable: true, description: 'The email address.' }) @IsOptional() @IsEmail() @MaxLength(320) email?: string | null;
  @Field(() => String, { nullable: true, description: 'The phone number.' }) @IsOptional() @MaxLength(50) phone?: string | null;
  @Field(() => String, { nullable: true, description: 'The job title.' }) @IsOptional() @MaxLength(200) title?: string | null;
  @Field(() => ID, { nullable: true, description: 'The account.' }) @IsOptional() @IsUUID() accountId?: string | null;
  @Field(() => String, { nullable: true, description: 'The id in an integrated system.' }) @IsOptional() @Length(1, 200) externalId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The owner.' }) @IsOptional() @IsUUID() ownerId?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values to set; a null value removes one.' }) @IsOptional() customFields?: Record<
    string,
    unknown
  >;
}

@InputType({ description: 'Conditions on contacts; all given conditions must hold.' })
export class ContactFilter {
  @Field(() => IDFilter, { nullable: true, description: 'The id.' }) id?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The first name.' }) firstName?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The last name.' }) lastName?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The email address.' }) email?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The phone number.' }) phone?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The job title.' }) title?: StringFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The account id.' }) accountId?: IDFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The owner id.' }) ownerId?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The external id.' }) externalId?: StringFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it was created.' }) createdAt?: DateTimeFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it last changed.' }) updatedAt?: DateTimeFilter;
  @Field(() => AccountFilter, { nullable: true, description: 'Conditions on the account.' }) account?: AccountFilter;
  @Field(() => UserFilter, { nullable: true, description: 'Conditions on the owner.' }) owner?: UserFilter;
  @Field(() => [CustomFieldFilter], { nullable: true, description: 'Conditions on custom fields.' }) customFields?: CustomFieldFilter[];
  @Field(() => [ContactFilter], { nullable: true, description: 'All of these hold.' }) and?: ContactFilter[];
  @Field(() => [ContactFilter], { nullable: true, description: 'At least one of these holds.' }) or?: ContactFilter[];
  @Field(() => ContactFilter, { nullable: true, description: 'This does not hold.' }) not?: ContactFilter;
}

enum ContactOrderField {
  FIRST_NAME = 'FIRST_NAME',
  LAST_NAME = 'LAST_NAME',
  EMAIL = 'EMAIL',
  TITLE = 'TITLE',
  CREATED_AT = 'CREATED_AT',
  UPDATED_AT = 'UPDATED_AT',
}
registerEnumType(ContactOrderField, {
  name: 'ContactOrderField',
  description: 'Fields contacts can be sorted by.',
  valuesConfig: {
    FIRST_NAME: { description: 'The first name.' },
    LAST_NAME: { description: 'The last name.' },
    EMAIL: { description: 'The email.' },
    TITLE: { description: 'The job title.' },
    CREATED_AT: { description: 'When it was created.' },
    UPDATED_AT: { description: 'When it last changed.' },
  },
});
export const ContactOrder = OrderType(ContactOrderField, 'Contact');
export const ContactConnection = ConnectionType(Contact);

@InputType({ description: 'A contact to create or update, matched by externalId or email; omitted fields stay as they are.' })
export class UpsertContactInput extends UpdateContactInput {
  @Field(() => String, { nullable: true, description: 'The account, by its externalId.' }) @IsOptional() @Length(1, 200) accountExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
}
