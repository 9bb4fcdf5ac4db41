import { Resolver } from 'type-graphql';
import { CrudResolver } from '../common/crud.resolver';
import { Product } from './product.entity';
import type { ProductService } from './product.service';
import { CreateProductInput, ProductConnection, ProductFilter, ProductOrder, UpdateProductInput, UpsertProductInput } from './product.types';

const Base = CrudResolver({
  name: 'Product',
  plural: 'products',
  entity: Product,
  connection: ProductConnection,
  filter: ProductFilter,
  order: ProductOrder,
  createInput: CreateProductInput,
  updateInput: UpdateProductInput,
  upsertInput: UpsertProductInput,
  owned: false,
});

@Resolver(() => Product)
export class ProductResolver extends Base {
  constructor(protected readonly service: ProductService) {
    super();
  }
}
