import { IsOptional, Length, MaxLength, ValidateNested } from 'class-validator';
import { Field, InputType, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderType } from '../../data/connection';
import { BooleanFilter, DateTimeFilter, DecimalFilter, IDFilter, StringFilter } from '../../data/filter';
import { MoneyInput } from '../../graphql/money';
import { Product } from './product.entity';
import { IsOptionalNotNull } from '../../graphql/validators';

@InputType({ description: 'A new product.' })
export class CreateProductInput {
  @Field({ description: 'The product name.' }) @Length(1, 300) name: string;
  @Field({ nullable: true, description: 'The SKU, unique in the workspace.' }) @IsOptional() @Length(1, 100) sku?: string;
  @Field({ nullable: true, description: 'A description.' }) @IsOptional() @MaxLength(5000) description?: string;
  @Field(() => MoneyInput, { nullable: true, description: 'The list price of one unit.' }) @IsOptional() @ValidateNested() unitPrice?: MoneyInput;
  @Field({ nullable: true, defaultValue: true, description: 'Whether it can be sold.' }) @IsOptional() active?: boolean;
  @Field({ nullable: true, description: 'The id in an integrated system; unique in the workspace.' }) @IsOptional() @Length(1, 200) externalId?: string;
}

@InputType({ description: 'Changes to a product; omitted fields stay, null clears.' })
export class UpdateProductInput {
  @Field({ nullable: true, description: 'The product name.' }) @IsOptional() @Length(1, 300) name?: string;
  @Field(() => String, { nullable: true, description: 'The SKU.' }) @IsOptional() @Length(1, 100) sku?: string | null;
  @Field(() => String, { nullable: true, description: 'A description.' }) @IsOptional() @MaxLength(5000) description?: string | null;
  @Field(() => MoneyInput, { nullable: true, description: 'The list price.' }) @IsOptional() @ValidateNested() unitPrice?: MoneyInput | null;
  @Field({ nullable: true, description: 'Whether it can be sold.' }) @IsOptionalNotNull() active?: boolean;
  @Field(() => String, { nullable: true, description: 'The id in an integrated system.' }) @IsOptional() @Length(1, 200) externalId?: string | null;
}

@InputType({ description: 'Conditions on products; all given conditions must hold.' })
export class ProductFilter {
  @Field(() => IDFilter, { nullable: true, description: 'The id.' }) id?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The name.' }) name?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The SKU.' }) sku?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The description.' }) description?: StringFilter;
  @Field(() => DecimalFilter, { nullable: true, description: 'The unit price.' }) unitPrice?: DecimalFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The currency.' }) currency?: StringFilter;
  @Field(() => BooleanFilter, { nullable: true, description: 'Whether it can be sold.' }) active?: BooleanFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The external id.' }) externalId?: StringFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When it was created.' }) createdAt?: DateTimeFilter;
  @Field(() => [ProductFilter], { nullable: true, description: 'All of these hold.' }) and?: ProductFilter[];
  @Field(() => [ProductFilter], { nullable: true, description: 'At least one of these holds.' }) or?: ProductFilter[];
  @Field(() => ProductFilter, { nullable: true, description: 'This does not hold.' }) not?: ProductFilter;
}

enum ProductOrderField {
  NAME = 'NAME',
  SKU = 'SKU',
  UNIT_PRICE = 'UNIT_PRICE',
  CREATED_AT = 'CREATED_AT',
  UPDATED_AT = 'UPDATED_AT',
}
registerEnumType(ProductOrderField, {
  name: 'ProductOrderField',
  description: 'Fields products can be sorted by.',
  valuesConfig: {
    NAME: { description: 'The name.' },
    SKU: { description: 'The SKU.' },
    UNIT_PRICE: { description: 'The unit price.' },
    CREATED_AT: { description: 'When it was created.' },
    UPDATED_AT: { description: 'When it last changed.' },
  },
});
export const ProductOrder = OrderType(ProductOrderField, 'Product');
export const ProductConnection = ConnectionType(Product);

@InputType({ description: 'A product to create or update, matched by externalId or SKU; omitted fields stay as they are.' })
// The same fields as an update: a product refers to nothing by natural key.
export class UpsertProductInput extends UpdateProductInput {}
