import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { includeAccount } from '../accounts/account.descriptor';
import { latestActivities } from '../activities/activity.descriptor';
import { includeContact } from '../contacts/contact.descriptor';
import { includePipeline, includeStage } from '../pipelines/pipeline.descriptor';
import type { Loaded } from '../../data/loaders';
import { Account } from '../accounts/account.entity';
import { Activity } from '../activities/activity.entity';
import { CrudResolver } from '../common/crud.resolver';
import { Contact } from '../contacts/contact.entity';
import { Pipeline, Stage } from '../pipelines/pipeline.entity';
import { Product } from '../products/product.entity';
import type { LineItemService } from './line-item.service';
import { LineItem, Opportunity, StageHistoryEntry } from './opportunity.entity';
import type { OpportunityService } from './opportunity.service';
import {
  AddLineItemInput,
  CreateOpportunityInput,
  OpportunityConnection,
  OpportunityFilter,
  OpportunityOrder,
  UpdateLineItemInput,
  UpdateOpportunityInput,
  UpsertOpportunityInput,
} from './opportunity.types';

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
  includes: {
    account: includeAccount(),
    primaryContact: includeContact('primary_contact_id'),
    stage: includeStage(),
    pipeline: includePipeline(),
    activities: latestActivities('opportunity'),
  },
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
    @Arg('input', () => AddLineItemInput, { description: 'The line to add.' }) input: AddLineItemInput,
  ): Promise<LineItem> {
    return this.lineItemService.add(ctx.auth, opportunityId, input);
  }

  @Authorized('WRITE')
  @Mutation(() => LineItem, { description: 'Changes a line item; the amount follows.' })
  updateLineItem(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { description: 'The line item id.' }) id: string,
    @Arg('input', () => UpdateLineItemInput, { description: 'The changes; omitted fields stay as they are.' }) input: UpdateLineItemInput,
  ): Promise<LineItem> {
    return this.lineItemService.update(ctx.auth, id, input);
  }

  @Authorized('WRITE')
  @Mutation(() => Opportunity, { description: 'Removes a line item; returns the opportunity with its new amount.' })
  removeLineItem(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The line item id.' }) id: string): Promise<Opportunity> {
    return this.lineItemService.remove(ctx.auth, id);
  }

  @FieldResolver(() => Account, { nullable: true, description: 'The account.' })
  account(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Loaded<Account | null> | null {
    return o.accountId ? ctx.loaders.account.get(o.accountId) : null;
  }

  @FieldResolver(() => Contact, { nullable: true, description: 'The main contact.' })
  primaryContact(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Loaded<Contact | null> | null {
    return o.primaryContactId ? ctx.loaders.contact.get(o.primaryContactId) : null;
  }

  @FieldResolver(() => Stage, { description: 'The current stage.' })
  stage(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Loaded<Stage> {
    // Never null: the foreign key guarantees the row (were it missing, GraphQL reports the null).
    return ctx.loaders.stage.get(o.stageId) as Loaded<Stage>;
  }

  @FieldResolver(() => Pipeline, { description: 'The pipeline.' })
  pipeline(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Loaded<Pipeline> {
    // Never null: the foreign key guarantees the row (were it missing, GraphQL reports the null).
    return ctx.loaders.pipeline.get(o.pipelineId) as Loaded<Pipeline>;
  }

  @FieldResolver(() => [LineItem], { description: 'The products on the deal, in order.' })
  lineItems(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Loaded<LineItem[]> {
    return ctx.loaders.lineItemsOfOpportunity.get(o.id);
  }

  @FieldResolver(() => [StageHistoryEntry], { description: 'Every stage the deal has been in, oldest first.' })
  stageHistory(@Root() o: Opportunity, @Ctx() ctx: RequestContext): Loaded<StageHistoryEntry[]> {
    return ctx.loaders.stageHistory.get(o.id);
  }

  @FieldResolver(() => [Activity], { description: 'The latest activities of the deal, newest first.' })
  activities(
    @Root() o: Opportunity,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { defaultValue: 10, description: 'How many (at most 100).' }) first: number,
  ): Loaded<Activity[]> {
    return ctx.loaders.latestActivities('opportunity', first).get(o.id);
  }
}

@Resolver(() => LineItem)
export class LineItemResolver {
  @FieldResolver(() => Product, { nullable: true, description: 'The product sold, if any.' })
  product(@Root() l: LineItem, @Ctx() ctx: RequestContext): Loaded<Product | null> | null {
    return l.productId ? ctx.loaders.product.get(l.productId) : null;
  }
}

@Resolver(() => StageHistoryEntry)
export class StageHistoryResolver {
  @FieldResolver(() => Stage, { description: 'The stage.' })
  stage(@Root() h: StageHistoryEntry, @Ctx() ctx: RequestContext): Loaded<Stage> {
    // Never null: the foreign key guarantees the row (were it missing, GraphQL reports the null).
    return ctx.loaders.stage.get(h.stageId) as Loaded<Stage>;
  }
}
