import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { JSONScalar } from '../../graphql/scalars';
import { TenantRecord } from '../../graphql/record';

@ObjectType({ implements: TenantRecord, description: 'Where and which events are POSTed as signed webhooks (Standard Webhooks).' })
@Entity('webhook_endpoint')
export class WebhookEndpoint extends TenantRecord {
  @Field({ description: 'The https (or, where allowed, http) URL events are POSTed to.' }) @Column('text') url: string;
  @Field(() => String, { nullable: true, description: 'What the endpoint is for.' }) @Column('text', { nullable: true }) description: string | null;
  @Field(() => [String], { description: 'Event type patterns: `opportunity.won`, `opportunity.*`, `*`.' }) @Column('text', { array: true }) events: string[];
  @Field(() => JSONScalar, { nullable: true, description: "Only events whose record matches this filter (the shared filter language of the events' entity)." })
  @Column('jsonb', { nullable: true })
  filter: Record<string, unknown> | null;
  @Column('text', { select: false }) secret: string;
  @Column('text', { nullable: true, select: false }) previousSecret: string | null;
  @Field(() => Date, { nullable: true, description: 'Until when the secret before the last rotation still signs too.' })
  @Column('timestamptz', { nullable: true })
  previousSecretExpiresAt: Date | null;
  @Field({ description: 'False once disabled (by hand, by a 410 answer, or after 3 days of failures): nothing is sent.' }) @Column('boolean') active: boolean;
  @Field(() => String, { nullable: true, description: 'Why it was disabled.' }) @Column('text', { nullable: true }) disabledReason: string | null;
  @Field(() => Date, { nullable: true, description: 'Since when every attempt has failed (null while it succeeds).' })
  @Column('timestamptz', { nullable: true })
  failingSince: Date | null;
  @Column('uuid', { nullable: true }) createdById: string | null;
  @Column('timestamptz', { nullable: true }) deletedAt: Date | null;
}
