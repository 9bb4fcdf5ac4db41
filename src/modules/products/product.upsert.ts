import { CreateProductInput, UpdateProductInput, UpsertProductInput } from './product.types';
import { MatchOn } from '../../graphql/batch.types';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../../data/upsert';
import { trimOrNull } from '../../data/values';
import type { WorkspaceService } from '../workspaces/workspace.service';
import type { Product } from './product.entity';
import { PRODUCT_STORE } from './product.descriptor';

export function productUpsert(workspaces: WorkspaceService): UpsertConfig<Product, UpsertProductInput> {
  return {
    store: PRODUCT_STORE,
    owned: false,
    required: ['name'],
    match: {
      [MatchOn.EXTERNAL_ID]: externalIdMatch(),
      [MatchOn.SKU]: {
        sql: 'lower(t.sku)',
        field: 'sku',
        key: (i) => i.sku,
        conflict: '(workspace_id, lower(sku)) WHERE deleted_at IS NULL AND sku IS NOT NULL',
      },
    },
    async prepare(ctx, inputs) {
      const currency = await workspaces.currency(ctx.tx);
      return inputs.map((i) => {
        const price =
          i.unitPrice === undefined
            ? {}
            : i.unitPrice === null
              ? { unitPriceValue: null }
              : { unitPriceValue: i.unitPrice.amount, currency: (i.unitPrice.currency ?? currency).toUpperCase() };
        const prepared: Prepared = {
          createDefaults: { currency, active: true },
          values: { ...productValues(i), active: i.active, ...price },
        };
        return prepared;
      });
    },
  };
}

/** A product input's values, normalised: the same for a single write and an upsert (price and active aside). */
const productValues = (i: CreateProductInput | UpdateProductInput) => ({
  name: i.name?.trim(),
  sku: trimOrNull(i.sku),
  description: trimOrNull(i.description),
  externalId: trimOrNull(i.externalId),
});
