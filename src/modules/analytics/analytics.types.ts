import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Money } from '../../graphql/money';
import { DateScalar, DecimalScalar, JSONScalar } from '../../graphql/scalars';
import { ActivityType } from '../activities/activity.entity';
import { Stage } from '../pipelines/pipeline.entity';

export enum Period {
  DAY = 'DAY',
  WEEK = 'WEEK',
  MONTH = 'MONTH',
  QUARTER = 'QUARTER',
  YEAR = 'YEAR',
}
registerEnumType(Period, {
  name: 'Period',
  description: 'A length of time for series, in the workspace time zone (weeks start on Monday).',
  valuesConfig: {
    DAY: { description: 'Calendar days.' },
    WEEK: { description: 'Weeks starting on Monday.' },
    MONTH: { description: 'Calendar months.' },
    QUARTER: { description: 'Calendar quarters (January, April, July, October).' },
    YEAR: { description: 'Calendar years.' },
  },
});

export enum RevenueGrouping {
  NONE = 'NONE',
  OWNER = 'OWNER',
  TEAM = 'TEAM',
  PRODUCT = 'PRODUCT',
  ACCOUNT = 'ACCOUNT',
  PIPELINE = 'PIPELINE',
}
registerEnumType(RevenueGrouping, {
  name: 'RevenueGrouping',
  description: 'What deal figures are broken down by (PRODUCT: by the line items).',
  valuesConfig: {
    NONE: { description: 'One figure per period, not broken down.' },
    OWNER: { description: "By the opportunity's owner." },
    TEAM: { description: "By the owner's team." },
    PRODUCT: { description: 'By product, from the line items.' },
    ACCOUNT: { description: "By the opportunity's account." },
    PIPELINE: { description: "By the opportunity's pipeline." },
  },
});

export enum ActivityGrouping {
  NONE = 'NONE',
  TYPE = 'TYPE',
  OWNER = 'OWNER',
  TEAM = 'TEAM',
  DAY = 'DAY',
}
registerEnumType(ActivityGrouping, {
  name: 'ActivityGrouping',
  description: 'What activity statistics are broken down by (always also by type).',
  valuesConfig: {
    NONE: { description: 'By type only.' },
    TYPE: { description: 'By type (the same as NONE).' },
    OWNER: { description: "By the activity's owner." },
    TEAM: { description: "By the owner's team." },
    DAY: { description: 'By the day the activity was created, in the workspace time zone.' },
  },
});

@ObjectType({ description: 'The owner, team, product, account, pipeline or day a figure belongs to.' })
export class GroupKey {
  @Field(() => ID, { nullable: true, description: 'Its id (null: none, e.g. deals without an owner, or a day).' }) id: string | null;
  @Field({ description: 'Its name (the date, for days).' }) name: string;
}

@ObjectType({ description: 'Totals in one currency.' })
class MoneyTotal {
  @Field({ description: 'The ISO 4217 currency code.' }) currency: string;
  @Field(() => Int, { description: 'Opportunities with an amount in this currency.' }) count: number;
  @Field(() => DecimalScalar, { description: 'Their total amount, exact.' }) amount: string;
  @Field(() => DecimalScalar, { description: 'Their total weighted by probability, exact.' }) weightedAmount: string;
}

@ObjectType({ description: 'One stage of a pipeline summary.' })
class StageSummary {
  @Field(() => Stage, { description: 'The stage.' }) stage: Stage;
  @Field(() => Int, { description: 'Opportunities in it.' }) count: number;
  @Field(() => [Money], { description: 'Their amounts, one total per currency.' }) amounts: Money[];
  @Field(() => [Money], { description: "Amount x probability (the opportunity's own, else the stage's), per currency." }) weightedAmounts: Money[];
}

@ObjectType({ description: "A pipeline's opportunities by stage, in stage order, with totals." })
export class PipelineSummary {
  @Field(() => [StageSummary], { description: 'Every stage, in order (empty ones too).' }) stages: StageSummary[];
  @Field(() => [MoneyTotal], { description: 'Totals per currency.' }) totals: MoneyTotal[];
}

@ObjectType({ description: 'Won revenue in one period (and group).' })
export class RevenuePoint {
  @Field(() => DateScalar, { description: 'The first day of the period.' }) periodStart: string;
  @Field(() => GroupKey, { nullable: true, description: 'The group (null without groupBy).' }) group: GroupKey | null;
  @Field(() => Int, { description: 'Won opportunities.' }) count: number;
  @Field(() => [Money], { description: 'Won amounts, per currency (PRODUCT: the line item totals).' }) amounts: Money[];
}

@ObjectType({ description: 'Open opportunities expected to close in one period, beside what was won in it.' })
export class ForecastPoint {
  @Field(() => DateScalar, { description: 'The first day of the period.' }) periodStart: string;
  @Field(() => Int, { description: 'Open opportunities expected to close in it.' }) count: number;
  @Field(() => [Money], { description: 'Their amounts, per currency.' }) amounts: Money[];
  @Field(() => [Money], { description: 'Their weighted amounts, per currency.' }) weightedAmounts: Money[];
  @Field(() => JSONScalar, { description: 'Per forecast category (PIPELINE, BEST_CASE, COMMIT): { count, amounts: [{ amount, currency }] }.' })
  byCategory: Record<string, unknown>;
  @Field(() => [Money], { description: 'Already won in the period, per currency.' }) wonAmounts: Money[];
}

@ObjectType({ description: 'Won against lost, by count and by amount.' })
export class WinRatePoint {
  @Field(() => GroupKey, { nullable: true, description: 'The group (null without groupBy).' }) group: GroupKey | null;
  @Field(() => Int, { description: 'Won opportunities.' }) won: number;
  @Field(() => Int, { description: 'Lost opportunities.' }) lost: number;
  @Field(() => Float, { nullable: true, description: 'won / (won + lost); null when none closed.' }) rate: number | null;
  @Field(() => [Money], { description: 'Won amounts, per currency.' }) wonAmounts: Money[];
  @Field(() => [Money], { description: 'Lost amounts, per currency.' }) lostAmounts: Money[];
}

@ObjectType({ description: 'Days from creation to close of won opportunities.' })
export class SalesCyclePoint {
  @Field(() => GroupKey, { nullable: true, description: 'The group (null without groupBy).' }) group: GroupKey | null;
  @Field(() => Int, { description: 'Won opportunities measured.' }) count: number;
  @Field(() => Float, { nullable: true, description: 'Average days.' }) averageDays: number | null;
  @Field(() => Float, { nullable: true, description: 'Median days.' }) medianDays: number | null;
  @Field(() => Float, { nullable: true, description: '90th percentile of days.' }) p90Days: number | null;
}

@ObjectType({ description: 'One stage of the funnel, from the stage history.' })
export class FunnelStep {
  @Field(() => Stage, { description: 'The stage.' }) stage: Stage;
  @Field(() => Int, { description: 'Opportunities that reached this stage (or a later one; for a LOST stage, that entered it).' }) reached: number;
  @Field(() => Int, { description: 'Of those, how many went on to the next stage or beyond.' }) convertedToNext: number;
  @Field(() => Float, { nullable: true, description: 'convertedToNext / reached.' }) conversionRate: number | null;
  @Field(() => Float, { nullable: true, description: 'Average days spent in the stage, over stays that ended.' }) averageDaysInStage: number | null;
}

@ObjectType({ description: 'Activity counts of one type (and group).' })
export class ActivityStat {
  @Field(() => GroupKey, { nullable: true, description: 'The owner, team or day (null for NONE and TYPE).' }) group: GroupKey | null;
  @Field(() => ActivityType, { nullable: true, description: 'The activity type.' }) type: ActivityType | null;
  @Field(() => Int, { description: 'Activities.' }) count: number;
  @Field(() => Int, { description: 'Completed ones.' }) completed: number;
  @Field(() => Int, { description: 'Open tasks past their due time.' }) overdue: number;
  @Field(() => Int, { description: "Calls' total duration, in seconds." }) callSeconds: number;
}
