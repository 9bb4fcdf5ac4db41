import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, ID, Info, Int, Mutation, Query, Resolver } from 'type-graphql';
import { rowMapper } from '../../data/hydrate';
import { paginate, SortDirection } from '../../data/connection';
import type { RequestContext } from '../../data/context';
import { col } from '../../data/sql';
import { requireAdmin } from '../../kernel/viewer';
import { AutomationRule } from './automation-rule.entity';
import type { AutomationRuleService } from './automation-rule.service';
import { AutomationRuleInput, AutomationRunConnection, AutomationTestResult, SentEmailConnection, UpdateAutomationRuleInput } from './automation.types';
import { SentEmail } from './sent-email.entity';

/** Automation rules, their runs, and the sent-mail log (ADMIN users only). */
@Resolver(() => AutomationRule)
export class AutomationResolver {
  constructor(private readonly rules: AutomationRuleService) {}

  @Authorized('ADMIN')
  @Query(() => [AutomationRule], { description: 'The automation rules of the workspace (ADMIN only).' })
  automationRules(@Ctx() ctx: RequestContext): Promise<AutomationRule[]> {
    return this.rules.list(ctx.auth);
  }

  @Authorized('ADMIN')
  @Query(() => AutomationRunConnection, { description: 'Runs, newest first: trigger, record, each action’s result, error, duration (ADMIN only).' })
  automationRuns(
    @Ctx() ctx: RequestContext,
    @Arg('ruleId', () => ID, { nullable: true, description: 'Only this rule.' }) ruleId?: string,
    @Arg('first', () => Int, { nullable: true, description: 'Page size (default 50, at most 1000).' }) first?: number,
    @Arg('after', () => String, { nullable: true, description: 'The cursor of the last run of the previous page.' }) after?: string,
  ) {
    return this.rules.runs(ctx.auth, { ruleId, first, after });
  }

  @Authorized('ADMIN')
  @Query(() => SentEmailConnection, { description: 'Emails automation sent (or, without SMTP_URL, logged), newest first (ADMIN only).' })
  sentEmails(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size (default 50, at most 1000).' }) first?: number,
    @Arg('after', () => String, { nullable: true, description: 'The cursor of the last email of the previous page.' }) after?: string,
  ) {
    const { tx, viewer } = ctx.auth;
    requireAdmin(viewer);
    return paginate<SentEmail>({
      tx,
      spec: { table: 'sent_email', softDelete: false, fields: { id: col('id', 'uuid'), createdAt: col('created_at', 'timestamptz') } },
      first: first ?? 50,
      after,
      defaultOrder: [{ field: 'CREATED_AT', direction: SortDirection.DESC }],
      map: rowMapper(tx.dataSource, SentEmail),
    });
  }

  @Authorized('ADMIN')
  @Mutation(() => AutomationRule, { description: 'Creates a rule; everything in it is checked first, and a bad rule is refused whole (ADMIN only).' })
  createAutomationRule(
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('input', () => AutomationRuleInput, { description: 'The rule.' }) input: AutomationRuleInput,
  ): Promise<AutomationRule> {
    return this.rules.create(ctx.auth, input, info.schema);
  }

  @Authorized('ADMIN')
  @Mutation(() => AutomationRule, { description: 'Changes a rule (ADMIN only).' })
  updateAutomationRule(
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('id', () => ID, { description: 'The rule id.' }) id: string,
    @Arg('input', () => UpdateAutomationRuleInput, { description: 'The changes; omitted fields stay as they are.' }) input: UpdateAutomationRuleInput,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'The version you read; if it changed since, CONFLICT and nothing is written.' })
    expectedVersion?: number,
  ): Promise<AutomationRule> {
    return this.rules.update(ctx.auth, id, input, info.schema, expectedVersion);
  }

  @Authorized('ADMIN')
  @Mutation(() => AutomationRule, { description: 'Deletes a rule; its runs stay in the log (ADMIN only).' })
  deleteAutomationRule(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The rule id.' }) id: string): Promise<AutomationRule> {
    return this.rules.delete(ctx.auth, id);
  }

  @Authorized('ADMIN')
  @Mutation(() => AutomationTestResult, {
    description: 'A dry run on one record: whether the conditions hold and what each action would do. Nothing is written or sent (ADMIN only).',
  })
  testAutomationRule(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { description: 'The rule id.' }) id: string,
    @Arg('recordId', () => ID, { nullable: true, description: 'The record to try it on (needed when the rule is about records).' }) recordId?: string,
  ): Promise<AutomationTestResult> {
    return this.rules.test(ctx.auth, id, recordId);
  }
}
