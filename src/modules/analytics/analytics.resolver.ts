import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { DateScalar } from '../../graphql/scalars';
import { OpportunityFilter } from '../opportunities/opportunity.types';
import type { ActivityFunnelService } from './activity-funnel.service';
import {
  ActivityGrouping,
  ActivityStat,
  ForecastPoint,
  FunnelStep,
  Period,
  PipelineSummary,
  RevenueGrouping,
  RevenuePoint,
  SalesCyclePoint,
  WinRatePoint,
} from './analytics.types';
import type { DealAnalyticsService } from './deal-analytics.service';

const FROM = { nullable: true, description: 'The first day (workspace time zone), included.' } as const;
const TO = { nullable: true, description: 'The last day (workspace time zone), included.' } as const;

/** Analytics: exact decimals, one amount per currency, within what the viewer's numbers cover. */
@Resolver()
export class AnalyticsResolver {
  constructor(
    private readonly deals: DealAnalyticsService,
    private readonly more: ActivityFunnelService,
  ) {}

  @Authorized('READ')
  @Query(() => PipelineSummary, { description: "A pipeline's open and closed deals per stage: count, amounts, weighted amounts, and totals." })
  pipelineSummary(
    @Ctx() ctx: RequestContext,
    @Arg('pipelineId', () => ID, { nullable: true, description: 'Default: the first pipeline.' }) pipelineId?: string,
    @Arg('filter', () => OpportunityFilter, { nullable: true, description: 'Which opportunities.' }) filter?: OpportunityFilter,
  ) {
    return this.deals.pipelineSummary(ctx.auth, pipelineId, filter as Record<string, unknown>);
  }

  @Authorized('READ')
  @Query(() => [RevenuePoint], { description: 'Won amounts per period of the close date, optionally per owner, team, product, account or pipeline.' })
  revenue(
    @Ctx() ctx: RequestContext,
    @Arg('period', () => Period, { description: 'DAY, WEEK, MONTH, QUARTER or YEAR.' }) period: Period,
    @Arg('from', () => DateScalar, FROM) from?: string,
    @Arg('to', () => DateScalar, TO) to?: string,
    @Arg('groupBy', () => RevenueGrouping, { nullable: true, description: 'Default NONE.' }) groupBy?: RevenueGrouping,
    @Arg('filter', () => OpportunityFilter, { nullable: true, description: 'Which opportunities.' }) filter?: OpportunityFilter,
  ) {
    return this.deals.revenue(ctx.auth, period, from, to, groupBy, filter as Record<string, unknown>);
  }

  @Authorized('READ')
  @Query(() => [ForecastPoint], {
    description: 'Open deals by expected close period (amount, weighted, per forecast category) beside what was won in each period.',
  })
  forecast(
    @Ctx() ctx: RequestContext,
    @Arg('period', () => Period, { description: 'DAY, WEEK, MONTH, QUARTER or YEAR.' }) period: Period,
    @Arg('from', () => DateScalar, FROM) from?: string,
    @Arg('to', () => DateScalar, TO) to?: string,
    @Arg('filter', () => OpportunityFilter, { nullable: true, description: 'Which opportunities.' }) filter?: OpportunityFilter,
  ) {
    return this.deals.forecast(ctx.auth, period, from, to, filter as Record<string, unknown>);
  }

  @Authorized('READ')
  @Query(() => [WinRatePoint], { description: 'Won / (won + lost) of the deals closed between from and to, by count and by amount.' })
  winRate(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateScalar, FROM) from?: string,
    @Arg('to', () => DateScalar, TO) to?: string,
    @Arg('groupBy', () => RevenueGrouping, { nullable: true, description: 'Default NONE.' }) groupBy?: RevenueGrouping,
    @Arg('filter', () => OpportunityFilter, { nullable: true, description: 'Which opportunities.' }) filter?: OpportunityFilter,
  ) {
    return this.deals.winRate(ctx.auth, from, to, groupBy, filter as Record<string, unknown>);
  }

  @Authorized('READ')
  @Query(() => [SalesCyclePoint], { description: 'Days from creation to close of the deals won between from and to: average, median, 90th percentile.' })
  salesCycle(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateScalar, FROM) from?: string,
    @Arg('to', () => DateScalar, TO) to?: string,
    @Arg('groupBy', () => RevenueGrouping, { nullable: true, description: 'Default NONE.' }) groupBy?: RevenueGrouping,
    @Arg('filter', () => OpportunityFilter, { nullable: true, description: 'Which opportunities.' }) filter?: OpportunityFilter,
  ) {
    return this.deals.salesCycle(ctx.auth, from, to, groupBy, filter as Record<string, unknown>);
  }

  @Authorized('READ')
  @Query(() => [FunnelStep], {
    description:
      'From the stage history of the opportunities created between from and to: how many reached each stage, conversion to the next, days spent in each.',
  })
  stageFunnel(
    @Ctx() ctx: RequestContext,
    @Arg('pipelineId', () => ID, { nullable: true, description: 'Default: the first pipeline.' }) pipelineId?: string,
    @Arg('from', () => DateScalar, FROM) from?: string,
    @Arg('to', () => DateScalar, TO) to?: string,
  ) {
    return this.more.stageFunnel(ctx.auth, pipelineId, from, to);
  }

  @Authorized('READ')
  @Query(() => [ActivityStat], {
    description: 'Activities created between from and to, by type and by owner, team or day: counts, completed, overdue tasks, call time.',
  })
  activityStats(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateScalar, FROM) from?: string,
    @Arg('to', () => DateScalar, TO) to?: string,
    @Arg('groupBy', () => ActivityGrouping, { nullable: true, description: 'Default NONE (by type only).' }) groupBy?: ActivityGrouping,
  ) {
    return this.more.activityStats(ctx.auth, from, to, groupBy);
  }
}
