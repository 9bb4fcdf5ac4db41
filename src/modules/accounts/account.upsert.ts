import { CreateAccountInput, UpdateAccountInput, UpsertAccountInput } from './account.types';
import type { ServiceContext } from '../../data/context';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../../data/upsert';
import { ownerRule, resolveRefs } from '../../data/upsert-refs';
import { trimOrNull } from '../../data/values';
import type { WorkspaceService } from '../workspaces/workspace.service';
import { type Account } from './account.entity';
import { ACCOUNT_STORE } from './account.descriptor';

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
      // The workspace's currency only when an amount comes without one (a round trip fewer for most writes).
      const currency = inputs.some((i) => i.annualRevenue && !i.annualRevenue.currency) ? await workspaces.currency(ctx.tx) : '';
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
          values: { ...accountValues(i), ...revenue, ownerId: r.ownerId },
        };
        return prepared;
      });
    },
  };
}

/** An account input's values, normalised: the same for a single write and an upsert (the revenue needs the workspace's currency). */
const accountValues = (i: CreateAccountInput | UpdateAccountInput) => ({
  name: i.name?.trim(),
  domain: trimOrNull(i.domain)?.toLowerCase(),
  industry: trimOrNull(i.industry),
  type: i.type,
  employees: i.employees,
  phone: trimOrNull(i.phone),
  website: trimOrNull(i.website),
  address: trimOrNull(i.address),
  country: trimOrNull(i.country),
  externalId: trimOrNull(i.externalId),
  ownerId: i.ownerId,
  customFields: i.customFields,
});
