import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { Money, money } from '../../graphql/money';
import { SoftDeletableRecord, TenantRecord } from '../../graphql/record';

@ObjectType({ implements: [TenantRecord, SoftDeletableRecord], simpleResolvers: true, description: 'Something we sell, with a list price.' })
@Entity('product')
export class Product extends SoftDeletableRecord {
  @Field({ description: 'The product name.' }) @Column('text') name: string;
  @Field(() => String, { nullable: true, description: 'The stock keeping unit, unique in the workspace.' }) @Column('text', { nullable: true }) sku:
    string | null;
  @Field(() => String, { nullable: true, description: 'A description.' }) @Column('text', { nullable: true }) description: string | null;
  @Column('numeric', { nullable: true }) unitPriceValue: string | null;
  @Column('char') currency: string;
  @Field({ description: 'Inactive products cannot be added to opportunities.' }) @Column('boolean') active: boolean;
  @Field(() => String, { nullable: true, description: 'The id of this product in an integrated system; unique in the workspace.' })
  @Column('text', { nullable: true })
  externalId: string | null;

  @Field(() => Money, { nullable: true, description: 'The list price of one unit.' })
  get unitPrice(): Money | null {
    return money(this.unitPriceValue, this.currency);
  }
}
