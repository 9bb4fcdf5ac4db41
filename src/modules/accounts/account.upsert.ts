import { IsEmail, IsFQDN, IsInt, IsOptional, IsUUID, Length, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import type { ServiceContext } from '../../graphql/context';
import { MoneyInput } from '../../graphql/money';
import { JSONScalar } from '../../graphql/scalars';
import { MatchOn } from '../common/batch.types';
import { EntityType } from '../common/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../common/upsert';
import { ownerRule, resolveRefs } from '../common/upsert-refs';
import { trimOrNull } from '../common/values';
import type { WorkspaceService } from '../workspaces/workspace.service';
import { type Account, AccountType } from './account.entity';
import { ACCOUNT_STORE } from './account.spec';

@InputType({ description: 'An account to create or update, matched by externalId or domain; omitted fields stay as they are.' })
export class UpsertAccountInput {
  @Field({ nullable: true, description: 'The id in your system (the usual match key).' }) @IsOptional() @Length(1, 200) externalId?: string;
  @Field({ nullable: true, description: 'The company name (required to create).' }) @IsOptional() @Length(1, 300) name?: string;
  @Field(() => String, { nullable: true, description: 'The web domain (the match key for matchOn: DOMAIN).' }) @IsOptional() @IsFQDN({}, { message: 'domain must be a domain name such as acme.com' }) domain?: string | null;
  @Field(() => String, { nullable: true, description: 'The industry.' }) @IsOptional() @MaxLength(200) industry?: string | null;
  @Field(() => AccountType, { nullable: true, description: 'The relationship.' }) @IsOptional() type?: AccountType | null;
  @Field(() => Int, { nullable: true, description: 'The number of employees.' }) @IsOptional() @IsInt() @Min(0) employees?: number | null;
  @Field(() => MoneyInput, { nullable: true, description: 'The yearly revenue.' }) @IsOptional() @ValidateNested() annualRevenue?: MoneyInput | null;
  @Field(() => String, { nullable: true, description: 'The main phone number.' }) @IsOptional() @MaxLength(50) phone?: string | null;
  @Field(() => String, { nullable: true, description: 'The website URL.' }) @IsOptional() @MaxLength(500) website?: string | null;
  @Field(() => String, { nullable: true, description: 'The postal address.' }) @IsOptional() @MaxLength(1000) address?: string | null;
  @Field(() => String, { nullable: true, description: 'The country.' }) @IsOptional() @MaxLength(100) country?: string | null;
  @Field(() => ID, { nullable: true, description: 'The owner, by id.' }) @IsOptional() @IsUUID() ownerId?: string | null;
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Custom field values to set; a null value removes one.' }) @IsOptional() customFields?: Record<string, unknown>;
}

export function accountUpsert(workspaces: WorkspaceService): UpsertConfig<Account, UpsertAccountInput> {
  return {
    store: ACCOUNT_STORE,
    owned: true,
    customFields: EntityType.ACCOUNT,
    required: ['name'],
    match: {
      [MatchOn.EXTERNAL_ID]: externalIdMatch(),
      [MatchOn.DOMAIN]: { sql: 'lower(t.domain)', field: 'domain', key: (i) => i.domain },
    },
    async prepare(ctx: ServiceContext, inputs) {
      const refs = await resolveRefs(ctx, inputs, [ownerRule()]);
      const currency = await workspaces.currency(ctx.tx);
      return inputs.map((i, n) => {
        const r = refs[n];
        if (Array.isArray(r)) return r;
        const revenue = i.annualRevenue === undefined ? {} : i.annualRevenue === null ? { annualRevenueAmount: null, annualRevenueCurrency: null } : { annualRevenueAmount: i.annualRevenue.amount, annualRevenueCurrency: (i.annualRevenue.currency ?? currency).toUpperCase() };
        const prepared: Prepared = {
          values: {
            externalId: trimOrNull(i.externalId),
            name: i.name?.trim(),
            domain: trimOrNull(i.domain)?.toLowerCase(),
            industry: trimOrNull(i.industry),
            type: i.type,
            employees: i.employees,
            ...revenue,
            phone: trimOrNull(i.phone),
            website: trimOrNull(i.website),
            address: trimOrNull(i.address),
            country: trimOrNull(i.country),
            ownerId: r.ownerId,
            customFields: i.customFields,
          },
        };
        return prepared;
      });
    },
  };
}
