import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context';
import { Account } from '../accounts/account.entity';
import { Activity } from '../activities/activity.entity';
import { CrudResolver } from '../common/crud.resolver';
import { Contact } from '../contacts/contact.entity';
import { Pipeline, Stage } from '../pipelines/pipeline.entity';
import { Product } from '../products/product.entity';
import type { LineItemService } from './line-item.service';
import { LineItem, Opportunity, StageHistoryEntry } from './opportunity.entity';
import type { OpportunityService } from './opportunity.service';
import { UpsertOpportunityInput } from './opportunity.upsert';
import { AddLineItemInput, CreateOpportunityInput, OpportunityConnection, OpportunityFilter, OpportunityOrder, UpdateLineItemInput, UpdateOpportunityInput } from './opportunity.types';

const Base = CrudResolver({
  name: 'Opportunity',
  plural: 'opportunities',
  entity: Opportunity,
  connection: OpportunityConnection,
  filter: OpportunityFilter,
  order: OpportunityOrder,
  createInput: CreateOpportunityInput,
  updateInput: UpdateOpportunityInput,
  upsertInput: UpsertOpportunityInput,
  owned: true,
});

@Resolver(() => Opportunity)
export class OpportunityResolver extends Base {
  constructor(
    protected readonly service: OpportunityService,
    private readonly lineItemService: LineItemService,
  ) {
    super();
  }

  @Authorized('WRITE')
  @Mutation(() => LineItem, { description: 'Adds a product (or a free line) to an opportunity; its amount becomes the sum of its lines.' })
  addLineItem(
    @Ctx() ctx: RequestContext,
    @Arg('opportunityId', () => ID, { description: 'The opportunity.' }) opportunityId: string,
    @Arg('input', () => AddLineItemInput) input: AddLineItemInput,
  ): Promise<LineItem> {
    return this.lineItemService.add(ctx.auth, opportunityId, input);
  }

  @Authorized('WRITE')
  @Mutation(() => LineItem, { description: 'Changes a line item; the amount follows.' })
  updateLineItem(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The line item id.' }) id: string, @Arg('input', () => UpdateLineItemInput) input: UpdateLineItemInput): Promise<LineItem> {
    return this.lineItemService.update(ctx.auth, id, input);
  }

  @Authorized('WRITE')
  @Mutation(() => Opportunity, { description: 'Removes a line item; returns the opportunity with its new amount.' })
  removeLineItem(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The line item id.' }) id: string): Promise<Opportunity> {
    return this.lineItemService.remove(ctx.auth, id);
  }

  @FieldResolver(() => Account, { nullable: true, description: 'The account.' })
  account(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Promise<Account | null> | null {
    return o.accountId ? ctx.loaders.account.load(o.accountId) : null;
  }

  @FieldResolver(() => Contact, { nullable: true, description: 'The main contact.' })
  primaryContact(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Promise<Contact | null> | null {
    return o.primaryContactId ? ctx.loaders.contact.load(o.primaryContactId) : null;
  }

  @FieldResolver(() => Stage, { description: 'The current stage.' })
  async stage(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Promise<Stage> {
    return (await ctx.loaders.stage.load(o.stageId))!;
  }

  @FieldResolver(() => Pipeline, { description: 'The pipeline.' })
  async pipeline(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Promise<Pipeline> {
    return (await ctx.loaders.pipeline.load(o.pipelineId))!;
  }

  @FieldResolver(() => [LineItem], { description: 'The products on the deal, in order.' })
  lineItems(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Promise<LineItem[]> {
    return ctx.loaders.lineItemsOfOpportunity.load(o.id);
  }

  @FieldResolver(() => [StageHistoryEntry], { description: 'Every stage the deal has been in, oldest first.' })
  stageHistory(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Promise<StageHistoryEntry[]> {
    return ctx.loaders.stageHistory.load(o.id);
  }

  @FieldResolver(() => [Activity], { description: 'The latest activities of the deal, newest first.' })
  activities(@Root() o: Opportunity, @Ctx() ctx: RequestContext, @Arg('first', () => Int, { defaultValue: 10, description: 'How many (at most 100).' }) first: number): Promise<Activity[]> {
    return ctx.loaders.latestActivities('opportunity', first).load(o.id);
  }
}

@Resolver(() => LineItem)
export class LineItemResolver {
  @FieldResolver(() => Product, { nullable: true, description: 'The product sold, if any.' })
  product(@Root() l: LineItem, @Ctx() ctx: RequestContext): Promise<Product | null> | null {
    return l.productId ? ctx.loaders.product.load(l.productId) : null;
  }
}

@Resolver(() => StageHistoryEntry)
export class StageHistoryResolver {
  @FieldResolver(() => Stage, { description: 'The stage.' })
  async stage(@Root() h: StageHistoryEntry, @Ctx() ctx: RequestContext): Promise<Stage> {
    return (await ctx.loaders.stage.load(h.stageId))!;
  }
}
