import type { ServiceContext } from '../../data/context';
import { CrudService } from '../common/crud.service';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import type { WorkspaceService } from '../workspaces/workspace.service';
import type { Product } from './product.entity';
import { productUpsert } from './product.upsert';
import { PRODUCT_SPEC, PRODUCT_STORE } from './product.descriptor';
import type { CreateProductInput, UpdateProductInput } from './product.types';

export class ProductService extends CrudService<Product> {
  constructor(customFields: CustomFieldService, workspaces: WorkspaceService) {
    super({ store: PRODUCT_STORE, spec: PRODUCT_SPEC, defaultOrder: [{ field: 'NAME' }], owned: false, upsert: productUpsert(workspaces) }, customFields);
  }

  create(ctx: ServiceContext, input: CreateProductInput): Promise<Product> {
    return this.createOne(ctx, input);
  }

  update(ctx: ServiceContext, id: string, input: UpdateProductInput, expectedVersion?: number | null): Promise<Product> {
    return this.updateOne(ctx, id, input, expectedVersion);
  }
}
