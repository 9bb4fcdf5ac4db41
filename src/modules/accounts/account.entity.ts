import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { Money, money } from '../../graphql/money';
import { JSONScalar } from '../../graphql/scalars';
import { SoftDeletableRecord, TenantRecord } from '../../graphql/record';

export enum AccountType {
  CUSTOMER = 'CUSTOMER',
  PROSPECT = 'PROSPECT',
  PARTNER = 'PARTNER',
  VENDOR = 'VENDOR',
  OTHER = 'OTHER',
}
registerEnumType(AccountType, {
  name: 'AccountType',
  description: 'The relationship with a company.',
  valuesConfig: {
    CUSTOMER: { description: 'A company that buys from us.' },
    PROSPECT: { description: 'A company that may buy from us.' },
    PARTNER: { description: 'A company we work with (reseller, integrator).' },
    VENDOR: { description: 'A company we buy from.' },
    OTHER: { description: 'Any other relationship.' },
  },
});

@ObjectType({ implements: [TenantRecord, SoftDeletableRecord], simpleResolvers: true, description: 'A company we have a relationship with.' })
@Entity('account')
export class Account extends SoftDeletableRecord {
  @Field({ description: 'The company name.' }) @Column('text') name: string;
  @Field(() => String, { nullable: true, description: 'The web domain, e.g. `acme.com`.' }) @Column('text', { nullable: true }) domain: string | null;
  @Field(() => String, { nullable: true, description: 'The industry.' }) @Column('text', { nullable: true }) industry: string | null;
  @Field(() => AccountType, { nullable: true, description: 'Customer, prospect, partner, vendor or other.' })
  @Column('text', { nullable: true })
  type: AccountType | null;
  @Field(() => Int, { nullable: true, description: 'The number of employees.' }) @Column('int', { nullable: true }) employees: number | null;
  @Column('numeric', { nullable: true }) annualRevenueAmount: string | null;
  @Column('char', { nullable: true }) annualRevenueCurrency: string | null;
  @Field(() => String, { nullable: true, description: 'The main phone number.' }) @Column('text', { nullable: true }) phone: string | null;
  @Field(() => String, { nullable: true, description: 'The website URL.' }) @Column('text', { nullable: true }) website: string | null;
  @Field(() => String, { nullable: true, description: 'The postal address.' }) @Column('text', { nullable: true }) address: string | null;
  @Field(() => String, { nullable: true, description: 'The country.' }) @Column('text', { nullable: true }) country: string | null;
  @Column('uuid', { nullable: true }) ownerId: string | null;
  @Field(() => String, { nullable: true, description: 'The id of this account in an integrated system; unique in the workspace.' })
  @Column('text', { nullable: true })
  externalId: string | null;
  @Field(() => JSONScalar, { description: "Values of the workspace's custom fields for accounts, by key." }) @Column('jsonb') customFields: Record<
    string,
    unknown
  >;
  @Column('uuid', { nullable: true }) mergedIntoId: string | null;

  @Field(() => Money, { nullable: true, description: 'The yearly revenue.' })
  get annualRevenue(): Money | null {
    return money(this.annualRevenueAmount, this.annualRevenueCurrency);
  }
}
