import { col, type EntitySpec } from '../../data/sql';
import { money } from '../../graphql/money';
import type { StoreSpec } from '../../data/record-store';
import { Product } from './product.entity';
import { byIdLoader, type Loader, type LoaderFactories } from '../../data/loaders';
import { csvText, type RecordKind } from '../record-kind';
import { MatchOn } from '../../graphql/batch.types';
import { ProductFilter, UpdateProductInput, UpsertProductInput } from './product.types';

export const PRODUCT_SPEC: EntitySpec = {
  table: 'product',
  softDelete: true,
  fields: {
    id: col('id', 'uuid'),
    name: col('name', 'text'),
    sku: col('sku', 'text', true),
    description: col('description', 'text', true),
    unitPrice: col('unit_price_value', 'numeric', true),
    currency: col('currency', 'text'),
    active: col('active', 'boolean'),
    externalId: col('external_id', 'text', true),
    createdAt: col('created_at', 'timestamptz'),
    updatedAt: col('updated_at', 'timestamptz'),
  },
};

export const PRODUCT_STORE: StoreSpec<Product> = {
  table: 'product',
  entity: Product,
  entityType: 'product',
  label: 'Product',
  trackedFields: ['name', 'sku', 'description', 'unitPrice', 'active', 'externalId', 'deletedAt'],
  toData: (p) => ({
    id: p.id,
    name: p.name,
    sku: p.sku,
    description: p.description,
    unitPrice: money(p.unitPriceValue, p.currency),
    active: p.active,
    externalId: p.externalId,
    deletedAt: p.deletedAt?.toISOString() ?? null,
  }),
};

declare module '../../data/loaders' {
  interface Loaders {
    product: Loader<string, Product | null>;
  }
}

const PRODUCT_LOADERS = { product: (tx) => byIdLoader(tx, 'product', Product) } satisfies Pick<LoaderFactories, 'product'>;

export const PRODUCT_KIND = {
  entityType: 'product',
  entities: [Product],
  loaders: PRODUCT_LOADERS,
  eventReaders: 'everyone',
  filter: { spec: PRODUCT_SPEC, graphqlType: ProductFilter.name },
  csv: {
    fields: {
      ...csvText('externalId', 'name', 'sku', 'description'),
      unitPrice: { money: 'unitPrice' },
      currency: { currencyOf: 'unitPrice' },
      active: 'boolean',
    },
    naturalKey: MatchOn.SKU,
    input: UpsertProductInput,
  },
  automation: { objectType: 'Product', updateInput: UpdateProductInput },
} satisfies RecordKind;
