import { IsEmail, IsInt, IsOptional, IsUUID, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderType } from '../../data/connection';
import { CustomFieldFilter, DateFilter, DateTimeFilter, DecimalFilter, EnumFilter, IDFilter, IntFilter, StringFilter } from '../../data/filter';
import { MoneyInput } from '../../graphql/money';
import { DateScalar, DecimalScalar, JSONScalar } from '../../graphql/scalars';
import { AccountFilter } from '../accounts/account.types';
import { ContactFilter } from '../contacts/contact.types';
import { UserFilter } from '../users/user.types';
import { Opportunity, OpportunityStatus } from './opportunity.entity';
import { IsOptionalNotNull } from '../../graphql/validators';

@InputType({ description: 'A new opportunity.' })
export class CreateOpportunityInput {
  @Field({ description: 'The deal name.' }) @Length(1, 300) name: string;
  @Field(() => ID, { nullable: true, description: 'The account.' }) @IsOptional() @IsUUID() accountId?: string;
  @Field(() => ID, { nullable: true, description: 'The main contact.' }) @IsOptional() @IsUUID() primaryContactId?: string;
  @Field(() => ID, { nullable: true, description: 'The pipeline; default: the default pipeline (or the stage’s).' })
  @IsOptional()
  @IsUUID()
  pipelineId?: string;
  @Field(() => ID, { nullable: true, description: 'The stage; default: the first stage of the pipeline.' }) @IsOptional() @IsUUID() stageId?: string;
  @Field(() => MoneyInput, { nullable: true, description: 'The deal value.' }) @IsOptional() @ValidateNested() amount?: MoneyInput;
  @Field(() => DateScalar, { nullable: true, description: 'When the deal is expected to close.' }) @IsOptional() expectedCloseDate?: string;
  @Field(() => Int, { nullable: true, description: "The deal's own win probability, 0-100 (default: the stage's)." })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  probability?: number;
  @Field({ nullable: true, description: 'The id in an integrated system; unique in the workspace.' }) @IsOptional() @Length(1, 200) externalId?: string;
  @Field(() => ID, { nullable: true, description: 'The owner; a user creating the deal owns it by default.' }) @IsOptional() @IsUUID() ownerId?: string;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values by key.' }) @IsOptional() customFields?: Record<string, unknown>;
  @Field(() => Date, { nullable: true, description: 'When a WON or LOST deal closed (historical imports; default now).' }) @IsOptional() closedAt?: Date;
  @Field(() => Date, { nullable: true, description: 'The real creation time of a migrated deal (ADMIN users and write-scoped API keys only).' })
  @IsOptionalNotNull()
  createdAt?: Date;
}

@InputType({ description: 'Changes to an opportunity; omitted fields stay, null clears.' })
export class UpdateOpportunityInput {
  @Field({ nullable: true, description: 'The deal name.' }) @IsOptional() @Length(1, 300) name?: string;
  @Field(() => ID, { nullable: true, description: 'The account.' }) @IsOptional() @IsUUID() accountId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The main contact.' }) @IsOptional() @IsUUID() primaryContactId?: string | null;
  @Field(() => ID, { nullable: true, description: 'Another pipeline (the deal goes to its first stage unless stageId says otherwise).' })
  @IsOptional()
  @IsUUID()
  pipelineId?: string;
  @Field(() => ID, { nullable: true, description: 'A new stage: recorded in the stage history; WON/LOST stages close the deal.' })
  @IsOptional()
  @IsUUID()
  stageId?: string;
  @Field(() => MoneyInput, { nullable: true, description: 'The deal value (not while it has line items).' })
  @IsOptional()
  @ValidateNested()
  amount?: MoneyInput | null;
  @Field(() => DateScalar, { nullable: true, description: 'When it is expected to close.' }) @IsOptional() expectedCloseDate?: string | null;
  @Field(() => Int, { nullable: true, description: 'Its own win probability, 0-100; null: the stage’s.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  probability?: number | null;
  @Field(() => String, { nullable: true, description: 'The id in an integrated system.' }) @IsOptional() @Length(1, 200) externalId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The owner.' }) @IsOptional() @IsUUID() ownerId?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values to set; a null value removes one.' }) @IsOptional() customFields?: Record<
    string,
    unknown
  >;
  @Field(() => Date, { nullable: true, description: 'When a WON or LOST deal closed.' }) @IsOptional() closedAt?: Date;
  @Field(() => Date, { nullable: true, description: 'The real creation time (ADMIN users and write-scoped API keys only).' })
  @IsOptionalNotNull()
  createdAt?: Date;
}

const NON_NEGATIVE = /^\d/;

@InputType({ description: 'A product (or a free line) added to an opportunity.' })
export class AddLineItemInput {
  @Field(() => ID, { nullable: true, description: 'The product; its name and price are the defaults.' }) @IsOptional() @IsUUID() productId?: string;
  @Field({ nullable: true, description: 'What is sold; required without a product.' }) @IsOptional() @Length(1, 300) name?: string;
  @Field(() => DecimalScalar, { description: 'How many (more than 0).' }) @Matches(NON_NEGATIVE, { message: 'quantity must be positive' }) quantity: string;
  @Field(() => DecimalScalar, { nullable: true, description: "The price of one, in the opportunity's currency (default: the product's)." })
  @IsOptional()
  @Matches(NON_NEGATIVE, { message: 'unitPrice must not be negative' })
  unitPrice?: string;
  @Field(() => DecimalScalar, { nullable: true, description: 'An amount off the line (default 0).' })
  @IsOptional()
  @Matches(NON_NEGATIVE, { message: 'discount must not be negative' })
  discount?: string;
}

@InputType({ description: 'Changes to a line item.' })
export class UpdateLineItemInput {
  @Field({ nullable: true, description: 'What is sold.' }) @IsOptional() @Length(1, 300) name?: string;
  @Field(() => DecimalScalar, { nullable: true, description: 'How many (more than 0).' })
  @IsOptional()
  @Matches(NON_NEGATIVE, { message: 'quantity must be positive' })
  quantity?: string;
  @Field(() => DecimalScalar, { nullable: true, description: 'The price of one.' })
  @IsOptionalNotNull()
  @Matches(NON_NEGATIVE, { message: 'unitPrice must not be negative' })
  unitPrice?: string;
  @Field(() => DecimalScalar, { nullable: true, description: 'An amount off the line.' })
  @IsOptionalNotNull()
  @Matches(NON_NEGATIVE, { message: 'discount must not be negative' })
  discount?: string;
}

const OpportunityStatusFilter = EnumFilter(OpportunityStatus, 'OpportunityStatus');

@InputType({ description: 'Conditions on stages (in relation filters).' })
class StageFilter {
  @Field(() => IDFilter, { nullable: true, description: 'The id.' }) id?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The name.' }) name?: StringFilter;
  @Field(() => IntFilter, { nullable: true, description: 'The win probability.' }) probability?: IntFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The kind: OPEN, WON or LOST.' }) kind?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The forecast category.' }) forecastCategory?: StringFilter;
}

@InputType({ description: 'Conditions on opportunities; all given conditions must hold.' })
export class OpportunityFilter {
  @Field(() => IDFilter, { nullable: true, description: 'The id.' }) id?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The name.' }) name?: StringFilter;
  @Field(() => DecimalFilter, { nullable: true, description: 'The amount.' }) amount?: DecimalFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The currency.' }) currency?: StringFilter;
  @Field(() => IntFilter, { nullable: true, description: "The deal's own probability." }) probability?: IntFilter;
  @Field(() => DateFilter, { nullable: true, description: 'The expected close date.' }) expectedCloseDate?: DateFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it closed.' }) closedAt?: DateTimeFilter;
  @Field(() => OpportunityStatusFilter, { nullable: true, description: 'OPEN, WON or LOST.' }) status?: unknown;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it entered its stage.' }) stageEnteredAt?: DateTimeFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The account id.' }) accountId?: IDFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The primary contact id.' }) primaryContactId?: IDFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The pipeline id.' }) pipelineId?: IDFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The stage id.' }) stageId?: IDFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The owner id.' }) ownerId?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The external id.' }) externalId?: StringFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it was created.' }) createdAt?: DateTimeFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it last changed.' }) updatedAt?: DateTimeFilter;
  @Field(() => AccountFilter, { nullable: true, description: 'Conditions on the account.' }) account?: AccountFilter;
  @Field(() => ContactFilter, { nullable: true, description: 'Conditions on the primary contact.' }) primaryContact?: ContactFilter;
  @Field(() => UserFilter, { nullable: true, description: 'Conditions on the owner.' }) owner?: UserFilter;
  @Field(() => StageFilter, { nullable: true, description: 'Conditions on the stage.' }) stage?: StageFilter;
  @Field(() => [CustomFieldFilter], { nullable: true, description: 'Conditions on custom fields.' }) customFields?: CustomFieldFilter[];
  @Field(() => [OpportunityFilter], { nullable: true, description: 'All of these hold.' }) and?: OpportunityFilter[];
  @Field(() => [OpportunityFilter], { nullable: true, description: 'At least one of these holds.' }) or?: OpportunityFilter[];
  @Field(() => OpportunityFilter, { nullable: true, description: 'This does not hold.' }) not?: OpportunityFilter;
}

enum OpportunityOrderField {
  NAME = 'NAME',
  AMOUNT = 'AMOUNT',
  PROBABILITY = 'PROBABILITY',
  EXPECTED_CLOSE_DATE = 'EXPECTED_CLOSE_DATE',
  CLOSED_AT = 'CLOSED_AT',
  STATUS = 'STATUS',
  STAGE_ENTERED_AT = 'STAGE_ENTERED_AT',
  CREATED_AT = 'CREATED_AT',
  UPDATED_AT = 'UPDATED_AT',
}
registerEnumType(OpportunityOrderField, {
  name: 'OpportunityOrderField',
  description: 'Fields opportunities can be sorted by.',
  valuesConfig: {
    NAME: { description: 'The name.' },
    AMOUNT: { description: 'The amount (across currencies, by number).' },
    PROBABILITY: { description: 'The win probability.' },
    EXPECTED_CLOSE_DATE: { description: 'The expected close date.' },
    CLOSED_AT: { description: 'When it was won or lost.' },
    STATUS: { description: 'The status.' },
    STAGE_ENTERED_AT: { description: 'When it entered its current stage.' },
    CREATED_AT: { description: 'When it was created.' },
    UPDATED_AT: { description: 'When it last changed.' },
  },
});
export const OpportunityOrder = OrderType(OpportunityOrderField, 'Opportunity');
export const OpportunityConnection = ConnectionType(Opportunity);

@InputType({ description: 'An opportunity to create or update, matched by externalId; omitted fields stay as they are.' })
export class UpsertOpportunityInput extends UpdateOpportunityInput {
  @Field(() => String, { nullable: true, description: 'The account, by its externalId.' }) @IsOptional() @Length(1, 200) accountExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The primary contact, by its externalId.' })
  @IsOptional()
  @Length(1, 200)
  primaryContactExternalId?: string;
  @Field(() => String, { nullable: true, description: 'The pipeline, by name (default: the default pipeline).' })
  @IsOptional()
  @Length(1, 200)
  pipelineName?: string;
  @Field(() => String, { nullable: true, description: 'The stage, by name in the pipeline (default on create: its first stage).' })
  @IsOptional()
  @Length(1, 200)
  stageName?: string;
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
}
