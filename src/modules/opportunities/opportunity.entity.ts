import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Money, money } from '../../graphql/money';
import { DateScalar, DecimalScalar, JSONScalar } from '../../graphql/scalars';
import { SoftDeletableRecord, TenantRecord } from '../../graphql/record';

export enum OpportunityStatus {
  OPEN = 'OPEN',
  WON = 'WON',
  LOST = 'LOST',
}
registerEnumType(OpportunityStatus, {
  name: 'OpportunityStatus',
  description: 'Open, or closed as won or lost (follows the stage kind).',
  valuesConfig: {
    OPEN: { description: 'In an OPEN stage: not yet decided.' },
    WON: { description: 'In a WON stage: sold.' },
    LOST: { description: 'In a LOST stage: not sold.' },
  },
});

@ObjectType({
  implements: [TenantRecord, SoftDeletableRecord],
  simpleResolvers: true,
  description: 'A deal: a possible sale to an account, moving through the stages of a pipeline.',
})
@Entity('opportunity')
export class Opportunity extends SoftDeletableRecord {
  @Field({ description: 'The deal name.' }) @Column('text') name: string;
  @Column('uuid', { nullable: true }) accountId: string | null;
  @Column('uuid', { nullable: true }) primaryContactId: string | null;
  @Column('uuid') pipelineId: string;
  @Column('uuid') stageId: string;
  @Column('numeric', { nullable: true }) amountValue: string | null;
  @Column('char') currency: string;
  @Field(() => Int, { nullable: true, description: "This deal's own win probability (0-100); when null, its stage's applies." })
  @Column('int', { nullable: true })
  probability: number | null;
  @Field(() => DateScalar, { nullable: true, description: 'When the deal is expected to close.' }) @Column('date', { nullable: true }) expectedCloseDate:
    string | null;
  @Field(() => Date, { nullable: true, description: 'When the deal was won or lost.' }) @Column('timestamptz', { nullable: true }) closedAt: Date | null;
  @Field(() => OpportunityStatus, { description: 'OPEN, WON or LOST.' }) @Column('text') status: OpportunityStatus;
  @Field(() => Date, { description: 'When the deal entered its current stage.' }) @Column('timestamptz') stageEnteredAt: Date;
  @Column('uuid', { nullable: true }) ownerId: string | null;
  @Field(() => String, { nullable: true, description: 'The id of this deal in an integrated system; unique in the workspace.' })
  @Column('text', { nullable: true })
  externalId: string | null;
  @Field(() => JSONScalar, { description: "Values of the workspace's custom fields for opportunities, by key." }) @Column('jsonb') customFields: Record<
    string,
    unknown
  >;

  @Field(() => Money, { nullable: true, description: 'The deal value; with line items, their total.' })
  get amount(): Money | null {
    return money(this.amountValue, this.currency);
  }
}

/** One stay of an opportunity in a stage: entered, and left (null while it is still there). */
@ObjectType({ simpleResolvers: true, description: 'A stay of an opportunity in a stage.' })
@Entity('opportunity_stage_history')
export class StageHistoryEntry {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid') workspaceId: string;
  @Column('uuid') opportunityId: string;
  @Column('uuid') pipelineId: string;
  @Column('uuid') stageId: string;
  @Field(() => Date, { description: 'When the opportunity entered the stage.' }) @Column('timestamptz') enteredAt: Date;
  @Field(() => Date, { nullable: true, description: 'When it left the stage (null while it is there).' })
  @Column('timestamptz', { nullable: true })
  leftAt: Date | null;
}

@ObjectType({ implements: TenantRecord, simpleResolvers: true, description: 'A product on an opportunity: quantity x unit price - discount.' })
@Entity('line_item')
export class LineItem extends TenantRecord {
  @Column('uuid') opportunityId: string;
  @Column('uuid', { nullable: true }) productId: string | null;
  @Field({ description: 'What is sold (the product name by default).' }) @Column('text') name: string;
  @Column('numeric') quantityValue: string;
  @Column('numeric') unitPriceValue: string;
  @Column('numeric') discountValue: string;
  @Column('numeric') totalValue: string;
  @Field(() => Int, { description: 'The order on the opportunity.' }) @Column('int') position: number;
  @Column('char') currency: string;

  @Field(() => DecimalScalar, { description: 'How many.' })
  get quantity(): string {
    return this.quantityValue;
  }
  @Field(() => Money, { description: 'The price of one.' })
  get unitPrice(): Money {
    return money(this.unitPriceValue, this.currency)!;
  }
  @Field(() => Money, { description: 'An amount off the line (not a percentage).' })
  get discount(): Money {
    return money(this.discountValue, this.currency)!;
  }
  @Field(() => Money, { description: 'quantity x unit price - discount.' })
  get total(): Money {
    return money(this.totalValue, this.currency)!;
  }
}
