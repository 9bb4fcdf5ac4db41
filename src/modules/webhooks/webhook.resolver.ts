import { Arg, Authorized, Ctx, ID, Info, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { RequestContext } from '../../data/context';
import { coerceFilter } from '../../data/json-filter';
import { DeliveryStatus, WebhookDelivery } from './webhook-delivery.entity';
import type { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import type { FilterCoercer, WebhookEndpointService } from './webhook-endpoint.service';
import { UpdateWebhookEndpointInput, WebhookDeliveryConnection, WebhookEndpointInput, WebhookEndpointWithSecret } from './webhook.types';

const coercer =
  (info: GraphQLResolveInfo): FilterCoercer =>
  (type, value) =>
    coerceFilter(info.schema, type, value, 'input.filter');

/** Webhook endpoints and their delivery log (ADMIN users only). */
@Resolver(() => WebhookEndpoint)
export class WebhookResolver {
  constructor(
    private readonly endpoints: WebhookEndpointService,
    private readonly deliveries: WebhookDeliveryService,
  ) {}

  @Authorized('ADMIN')
  @Query(() => [WebhookEndpoint], { description: 'The webhook endpoints of the workspace (ADMIN only).' })
  webhookEndpoints(@Ctx() ctx: RequestContext): Promise<WebhookEndpoint[]> {
    return this.endpoints.list(ctx.auth);
  }

  @Authorized('ADMIN')
  @Query(() => WebhookDeliveryConnection, { description: 'The delivery log, newest first: status, attempts, last answer (ADMIN only).' })
  webhookDeliveries(
    @Ctx() ctx: RequestContext,
    @Arg('endpointId', () => ID, { nullable: true, description: 'Only this endpoint.' }) endpointId?: string,
    @Arg('status', () => DeliveryStatus, { nullable: true, description: 'Only deliveries in this state.' }) status?: DeliveryStatus,
    @Arg('first', () => Int, { nullable: true, description: 'Page size (default 50, at most 1000).' }) first?: number,
    @Arg('after', () => String, { nullable: true, description: 'The cursor of the last delivery of the previous page.' }) after?: string,
  ) {
    return this.deliveries.list(ctx.auth, { endpointId, status, first, after });
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookEndpointWithSecret, { description: 'Registers an endpoint; its signing secret is in this answer only (ADMIN only).' })
  createWebhookEndpoint(
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('input', () => WebhookEndpointInput, { description: 'The new endpoint.' }) input: WebhookEndpointInput,
  ): Promise<WebhookEndpointWithSecret> {
    return this.endpoints.create(ctx.auth, input, coercer(info));
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookEndpoint, { description: 'Changes an endpoint; `active: true` enables a disabled one again (ADMIN only).' })
  updateWebhookEndpoint(
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('id', () => ID, { description: 'The endpoint id.' }) id: string,
    @Arg('input', () => UpdateWebhookEndpointInput, { description: 'The changes; omitted fields stay as they are.' }) input: UpdateWebhookEndpointInput,
    @Arg('expectedVersion', () => Int, { nullable: true, description: 'The version you read; if it changed since, CONFLICT and nothing is written.' })
    expectedVersion?: number,
  ): Promise<WebhookEndpoint> {
    return this.endpoints.update(ctx.auth, id, input, coercer(info), expectedVersion);
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookEndpoint, { description: 'Deletes an endpoint: nothing more is sent to it; its delivery log stays (ADMIN only).' })
  deleteWebhookEndpoint(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The endpoint id.' }) id: string): Promise<WebhookEndpoint> {
    return this.endpoints.delete(ctx.auth, id);
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookEndpointWithSecret, { description: 'A new signing secret; the previous one signs beside it for 24 hours (ADMIN only).' })
  rotateWebhookSecret(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The endpoint id.' }) id: string): Promise<WebhookEndpointWithSecret> {
    return this.endpoints.rotateSecret(ctx.auth, id);
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookDelivery, { description: 'Sends a delivery again, from the start of the retry schedule (ADMIN only).' })
  redeliverWebhook(@Ctx() ctx: RequestContext, @Arg('deliveryId', () => ID, { description: 'The delivery id.' }) deliveryId: string): Promise<WebhookDelivery> {
    return this.deliveries.redeliver(ctx.auth, deliveryId);
  }

  @Authorized('ADMIN')
  @Mutation(() => Int, {
    description: "Sends the endpoint's events after a change feed cursor again (at most 10 000 per call); returns how many were scheduled (ADMIN only).",
  })
  replayWebhookEvents(
    @Ctx() ctx: RequestContext,
    @Arg('endpointId', () => ID, { description: 'The endpoint id.' }) endpointId: string,
    @Arg('after', () => String, { description: 'A cursor from `changes` or `recordChanged`: the events after it are sent.' }) after: string,
  ): Promise<number> {
    return this.deliveries.replay(ctx.auth, endpointId, after);
  }
}
