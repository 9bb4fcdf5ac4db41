import { ArrayMaxSize, ArrayMinSize, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../data/connection';
import { SecretField } from '../../graphql/secret-fields';
import { JSONScalar } from '../../graphql/scalars';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { IsOptionalNotNull } from '../../graphql/validators';

@InputType({ description: 'A webhook endpoint: where to POST which events.' })
export class WebhookEndpointInput {
  @Field({ description: 'An https URL (http only where private networks are allowed, for local development).' }) @IsString() @Length(8, 2000) url: string;
  @Field(() => [String], { description: 'Event type patterns: `opportunity.won`, `opportunity.*`, `*` (at most 50).' })
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  events: string[];
  @Field(() => JSONScalar, {
    nullable: true,
    description: "Only events whose record matches this filter, in the filter language of the events' entity (all patterns must then name one entity).",
  })
  @IsOptional()
  filter?: Record<string, unknown> | null;
  @Field({ nullable: true, description: 'What the endpoint is for.' }) @IsOptional() @MaxLength(500) description?: string;
}

@InputType({ description: 'Changes to a webhook endpoint; omitted fields stay as they are.' })
export class UpdateWebhookEndpointInput {
  @Field({ nullable: true, description: 'The URL.' }) @IsOptional() @IsString() @Length(8, 2000) url?: string;
  @Field(() => [String], { nullable: true, description: 'Event type patterns.' })
  @IsOptionalNotNull()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  events?: string[];
  @Field(() => JSONScalar, { nullable: true, description: 'The record filter (JSON null removes it).' }) @IsOptional() filter?: Record<string, unknown> | null;
  @Field({ nullable: true, description: 'What the endpoint is for.' }) @IsOptional() @MaxLength(500) description?: string;
  @Field({ nullable: true, description: 'False disables the endpoint; true enables it again (its pending deliveries then go out, in order).' })
  @IsOptional()
  active?: boolean;
}

@ObjectType({ description: 'A webhook endpoint with its signing secret, shown only at creation and rotation.' })
export class WebhookEndpointWithSecret {
  @Field(() => WebhookEndpoint, { description: 'The endpoint.' }) endpoint: WebhookEndpoint;
  @SecretField() @Field({ description: 'The signing secret (`whsec_...`): verify `webhook-signature` with any Standard Webhooks library.' }) secret: string;
}

export const WebhookDeliveryConnection = ConnectionType(WebhookDelivery);
