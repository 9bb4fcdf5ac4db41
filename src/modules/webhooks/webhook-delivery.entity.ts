import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Node } from '../../graphql/node';

export enum DeliveryStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}
registerEnumType(DeliveryStatus, {
  name: 'DeliveryStatus',
  description: 'Where a webhook delivery stands.',
  valuesConfig: {
    PENDING: { description: 'Waiting for its (next) attempt.' },
    DELIVERED: { description: 'The endpoint answered 2xx.' },
    FAILED: { description: 'Every attempt failed (or the endpoint answered 410); kept, and re-deliverable.' },
  },
});

/** One event on its way to one endpoint: the outbox row and its delivery log. */
@ObjectType({ implements: Node, simpleResolvers: true, description: 'One event sent (or to be sent) to one webhook endpoint, with its attempts.' })
@Entity('webhook_delivery')
export class WebhookDelivery {
  @Field(() => ID, { description: 'The delivery id.' }) @PrimaryColumn('uuid') id: string;
  @Column('uuid') workspaceId: string;
  @Field(() => ID, { description: 'The endpoint.' }) @Column('uuid') endpointId: string;
  @Field(() => ID, { description: 'The event (also the `webhook-id` header).' }) @Column('bigint') eventId: string;
  @Column('text') eventTx: string;
  @Field({ description: 'The event type.' }) @Column('text') eventType: string;
  @Field(() => ID, { description: 'The record the event is about.' }) @Column('uuid') entityId: string;
  @Field(() => DeliveryStatus, { description: 'PENDING, DELIVERED or FAILED.' }) @Column('text') status: DeliveryStatus;
  @Field(() => Int, { description: 'Attempts made so far.' }) @Column('int') attempts: number;
  @Field(() => Date, { nullable: true, description: 'When the next attempt is due (while PENDING).' })
  @Column('timestamptz', { nullable: true })
  nextAttemptAt: Date | null;
  @Column('timestamptz', { nullable: true }) leasedUntil: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the last attempt was made.' }) @Column('timestamptz', { nullable: true }) lastAttemptAt: Date | null;
  @Field(() => Int, { nullable: true, description: "The last attempt's HTTP status (null when there was no answer)." })
  @Column('int', { nullable: true })
  lastStatusCode: number | null;
  @Field(() => String, { nullable: true, description: 'Why the last attempt failed without an HTTP answer (timeout, refused address, ...).' })
  @Column('text', { nullable: true })
  lastError: string | null;
  @Field(() => String, { nullable: true, description: "The first 1 KB of the last answer's body." }) @Column('text', { nullable: true }) lastResponseBody:
    string | null;
  @Field(() => Int, { nullable: true, description: 'How long the last attempt took, in milliseconds.' }) @Column('int', { nullable: true }) lastDurationMs:
    number | null;
  @Field(() => Date, { nullable: true, description: 'When it was delivered.' }) @Column('timestamptz', { nullable: true }) deliveredAt: Date | null;
  @Field(() => Date, { description: 'When the delivery was created.' }) @Column('timestamptz') createdAt: Date;
  @Column('timestamptz') updatedAt: Date;
}
