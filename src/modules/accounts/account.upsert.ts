import { IsEmail, IsOptional } from 'class-validator';
import { UpdateAccountInput } from './account.types';
import { Field, InputType } from 'type-graphql';
import type { ServiceContext } from '../../data/context';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../../data/upsert';
import { ownerRule, resolveRefs } from '../../data/upsert-refs';
import { trimOrNull } from '../../data/values';
import type { WorkspaceService } from '../workspaces/workspace.service';
import { type Account } from './account.entity';
import { ACCOUNT_STORE } from './account.descriptor';

@InputType({ description: 'An account to create or update, matched by externalId or domain; omitted fields stay as they are.' })
export class UpsertAccountInput extends UpdateAccountInput {
  @Field(() => String, { nullable: true, description: 'The owner, by the email of an active user.' }) @IsOptional() @IsEmail() ownerEmail?: string | null;
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
        const revenue =
          i.annualRevenue === undefined
            ? {}
            : i.annualRevenue === null
              ? { annualRevenueAmount: null, annualRevenueCurrency: null }
              : { annualRevenueAmount: i.annualRevenue.amount, annualRevenueCurrency: (i.annualRevenue.currency ?? currency).toUpperCase() };
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
