import type { ServiceContext } from '../../data/context';
import type { MoneyInput } from '../../graphql/money';
import { CrudService } from '../common/crud.service';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import type { WorkspaceService } from '../workspaces/workspace.service';
import type { Product } from './product.entity';
import { productUpsert, productValues } from './product.upsert';
import { PRODUCT_SPEC, PRODUCT_STORE } from './product.descriptor';
import type { CreateProductInput, UpdateProductInput } from './product.types';

export class ProductService extends CrudService<Product> {
  constructor(
    customFields: CustomFieldService,
    private readonly workspaces: WorkspaceService,
  ) {
    super({ store: PRODUCT_STORE, spec: PRODUCT_SPEC, defaultOrder: [{ field: 'NAME' }], owned: false, upsert: productUpsert(workspaces) }, customFields);
  }

  async create(ctx: ServiceContext, input: CreateProductInput): Promise<Product> {
    const price = await this.price(ctx, input.unitPrice);
    return (
      await this.insert(ctx, {
        ...productValues(input),
        ...price,
        currency: price.currency ?? (await this.workspaces.currency(ctx.tx)),
        active: input.active ?? true,
      })
    ).record;
  }

  async update(ctx: ServiceContext, id: string, input: UpdateProductInput, expectedVersion?: number | null): Promise<Product> {
    return (await this.patch(ctx, id, { ...productValues(input), ...(await this.price(ctx, input.unitPrice)), active: input.active }, expectedVersion)).record;
  }

  private async price(ctx: ServiceContext, m: MoneyInput | null | undefined): Promise<{ unitPriceValue?: string | null; currency?: string }> {
    if (m === undefined) return {};
    if (m === null) return { unitPriceValue: null };
    return { unitPriceValue: m.amount, currency: (m.currency ?? (await this.workspaces.currency(ctx.tx))).toUpperCase() };
  }
}
