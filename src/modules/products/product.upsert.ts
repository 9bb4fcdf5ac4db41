import { IsOptional, Length, MaxLength, ValidateNested } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { MoneyInput } from '../../graphql/money';
import { MatchOn } from '../common/batch.types';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../common/upsert';
import { trimOrNull } from '../common/values';
import type { WorkspaceService } from '../workspaces/workspace.service';
import type { Product } from './product.entity';
import { PRODUCT_STORE } from './product.spec';

@InputType({ description: 'A product to create or update, matched by externalId or SKU; omitted fields stay as they are.' })
export class UpsertProductInput {
  @Field({ nullable: true, description: 'The id in your system (the usual match key).' }) @IsOptional() @Length(1, 200) externalId?: string;
  @Field({ nullable: true, description: 'The product name (required to create).' }) @IsOptional() @Length(1, 300) name?: string;
  @Field(() => String, { nullable: true, description: 'The SKU (the match key for matchOn: SKU).' }) @IsOptional() @Length(1, 100) sku?: string | null;
  @Field(() => String, { nullable: true, description: 'A description.' }) @IsOptional() @MaxLength(5000) description?: string | null;
  @Field(() => MoneyInput, { nullable: true, description: 'The list price.' }) @IsOptional() @ValidateNested() unitPrice?: MoneyInput | null;
  @Field({ nullable: true, description: 'Whether it can be sold (default true).' }) @IsOptional() active?: boolean;
}

export function productUpsert(workspaces: WorkspaceService): UpsertConfig<Product, UpsertProductInput> {
  return {
    store: PRODUCT_STORE,
    owned: false,
    required: ['name'],
    match: {
      [MatchOn.EXTERNAL_ID]: externalIdMatch(),
      [MatchOn.SKU]: { sql: 'lower(t.sku)', field: 'sku', key: (i) => i.sku, conflict: '(workspace_id, lower(sku)) WHERE deleted_at IS NULL AND sku IS NOT NULL' },
    },
    async prepare(ctx, inputs) {
      const currency = await workspaces.currency(ctx.tx);
      return inputs.map((i) => {
        const price = i.unitPrice === undefined ? {} : i.unitPrice === null ? { unitPriceValue: null } : { unitPriceValue: i.unitPrice.amount, currency: (i.unitPrice.currency ?? currency).toUpperCase() };
        const prepared: Prepared = {
          createDefaults: { currency, active: true },
          values: { externalId: trimOrNull(i.externalId), name: i.name?.trim(), sku: trimOrNull(i.sku), description: trimOrNull(i.description), active: i.active, ...price },
        };
        return prepared;
      });
    },
  };
}
