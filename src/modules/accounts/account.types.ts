import { IsEmail, IsFQDN, IsInt, IsOptional, IsUUID, Length, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderType } from '../../data/connection';
import { CustomFieldFilter, DateTimeFilter, DecimalFilter, EnumFilter, IDFilter, IntFilter, StringFilter } from '../../data/filter';
import { MoneyInput } from '../../graphql/money';
import { JSONScalar } from '../../graphql/scalars';
import { UserFilter } from '../users/user.types';
import { Account, AccountType } from './account.entity';

@InputType({ description: 'A new account.' })
export class CreateAccountInput {
  @Field({ description: 'The company name.' }) @Length(1, 300) name: string;
  @Field({ nullable: true, description: 'The web domain, e.g. `acme.com`.' })
  @IsOptional()
  @IsFQDN({}, { message: 'domain must be a domain name such as acme.com' })
  domain?: string;
  @Field({ nullable: true, description: 'The industry.' }) @IsOptional() @MaxLength(200) industry?: string;
  @Field(() => AccountType, { nullable: true, description: 'The relationship.' }) @IsOptional() type?: AccountType;
  @Field(() => Int, { nullable: true, description: 'The number of employees.' }) @IsOptional() @IsInt() @Min(0) employees?: number;
  @Field(() => MoneyInput, { nullable: true, description: 'The yearly revenue.' }) @IsOptional() @ValidateNested() annualRevenue?: MoneyInput;
  @Field({ nullable: true, description: 'The main phone number.' }) @IsOptional() @MaxLength(50) phone?: string;
  @Field({ nullable: true, description: 'The website URL.' }) @IsOptional() @MaxLength(500) website?: string;
  @Field({ nullable: true, description: 'The postal address.' }) @IsOptional() @MaxLength(1000) address?: string;
  @Field({ nullable: true, description: 'The country.' }) @IsOptional() @MaxLength(100) country?: string;
  @Field({ nullable: true, description: 'The id in an integrated system; unique in the workspace.' }) @IsOptional() @Length(1, 200) externalId?: string;
  @Field(() => ID, { nullable: true, description: 'The owner; a user creating the record owns it by default.' }) @IsOptional() @IsUUID() ownerId?: string;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values by key.' }) @IsOptional() customFields?: Record<string, unknown>;
}

@InputType({ description: 'Changes to an account; omitted fields stay, null clears.' })
export class UpdateAccountInput {
  @Field({ nullable: true, description: 'The company name.' }) @IsOptional() @Length(1, 300) name?: string;
  @Field(() => String, { nullable: true, description: 'The web domain.' })
  @IsOptional()
  @IsFQDN({}, { message: 'domain must be a domain name such as acme.com' })
  domain?: string | null;
  @Field(() => String, { nullable: true, description: 'The industry.' }) @IsOptional() @MaxLength(200) industry?: string | null;
  @Field(() => AccountType, { nullable: true, description: 'The relationship.' }) @IsOptional() type?: AccountType | null;
  @Field(() => Int, { nullable: true, description: 'The number of employees.' }) @IsOptional() @IsInt() @Min(0) employees?: number | null;
  @Field(() => MoneyInput, { nullable: true, description: 'The yearly revenue.' }) @IsOptional() @ValidateNested() annualRevenue?: MoneyInput | null;
  @Field(() => String, { nullable: true, description: 'The main phone number.' }) @IsOptional() @MaxLength(50) phone?: string | null;
  @Field(() => String, { nullable: true, description: 'The website URL.' }) @IsOptional() @MaxLength(500) website?: string | null;
  @Field(() => String, { nullable: true, description: 'The postal address.' }) @IsOptional() @MaxLength(1000) address?: string | null;
  @Field(() => String, { nullable: true, description: 'The country.' }) @IsOptional() @MaxLength(100) country?: string | null;
  @Field(() => String, { nullable: true, description: 'The id in an integrated system.' }) @IsOptional() @Length(1, 200) externalId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The owner.' }) @IsOptional() @IsUUID() ownerId?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values to set; a null value removes one.' }) @IsOptional() customFields?: Record<
    string,
    unknown
  >;
}

const AccountTypeFilter = EnumFilter(AccountType, 'AccountType');

@InputType({ description: 'Conditions on accounts; all given conditions must hold.' })
export class AccountFilter {
  @Field(() => IDFilter, { nullable: true, description: 'The id.' }) id?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The name.' }) name?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The domain.' }) domain?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The industry.' }) industry?: StringFilter;
  @Field(() => AccountTypeFilter, { nullable: true, description: 'The type.' }) type?: unknown;
  @Field(() => IntFilter, { nullable: true, description: 'The number of employees.' }) employees?: IntFilter;
  @Field(() => DecimalFilter, { nullable: true, description: 'The annual revenue amount.' }) annualRevenue?: DecimalFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The annual revenue currency.' }) annualRevenueCurrency?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The phone number.' }) phone?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The website.' }) website?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The country.' }) country?: StringFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The owner id.' }) ownerId?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The external id.' }) externalId?: StringFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it was created.' }) createdAt?: DateTimeFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it last changed.' }) updatedAt?: DateTimeFilter;
  @Field(() => UserFilter, { nullable: true, description: 'Conditions on the owner.' }) owner?: UserFilter;
  @Field(() => [CustomFieldFilter], { nullable: true, description: 'Conditions on custom fields.' }) customFields?: CustomFieldFilter[];
  @Field(() => [AccountFilter], { nullable: true, description: 'All of these hold.' }) and?: AccountFilter[];
  @Field(() => [AccountFilter], { nullable: true, description: 'At least one of these holds.' }) or?: AccountFilter[];
  @Field(() => AccountFilter, { nullable: true, description: 'This does not hold.' }) not?: AccountFilter;
}

enum AccountOrderField {
  NAME = 'NAME',
  DOMAIN = 'DOMAIN',
  INDUSTRY = 'INDUSTRY',
  TYPE = 'TYPE',
  EMPLOYEES = 'EMPLOYEES',
  ANNUAL_REVENUE = 'ANNUAL_REVENUE',
  COUNTRY = 'COUNTRY',
  CREATED_AT = 'CREATED_AT',
  UPDATED_AT = 'UPDATED_AT',
}
registerEnumType(AccountOrderField, {
  name: 'AccountOrderField',
  description: 'Fields accounts can be sorted by.',
  valuesConfig: {
    NAME: { description: 'The name.' },
    DOMAIN: { description: 'The web domain.' },
    INDUSTRY: { description: 'The industry.' },
    TYPE: { description: 'The account type.' },
    EMPLOYEES: { description: 'The number of employees.' },
    ANNUAL_REVENUE: { description: 'The annual revenue amount.' },
    COUNTRY: { description: 'The country.' },
    CREATED_AT: { description: 'When it was created.' },
    UPDATED_AT: { description: 'When it last changed.' },
  },
});
export const AccountOrder = OrderType(AccountOrderField, 'Account');
export const AccountConnection = ConnectionType(Account);

@InputType({ description: 'An account to create or update, matched by externalId or domain; omitted fields stay as they are.' })
export class UpsertAccountInput extends UpdateAccountInput {
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
}
