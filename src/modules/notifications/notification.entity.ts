import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { TenantRecord } from '../../graphql/record';

/** An in-app message to one user (from an automation rule, a failing webhook endpoint, ...). */
@ObjectType({ implements: TenantRecord, description: 'An in-app message to one user, pushed live through `notificationReceived`.' })
@Entity('notification')
export class Notification extends TenantRecord {
  @Field(() => ID, { description: 'The user it is for.' }) @Column('uuid') userId: string;
  @Field({ description: 'A one-line summary.' }) @Column('text') title: string;
  @Field(() => String, { nullable: true, description: 'The details.' }) @Column('text', { nullable: true }) body: string | null;
  @Field(() => String, { nullable: true, description: 'The kind of record it is about, e.g. `opportunity`.' }) @Column('text', { nullable: true }) entityType:
    string | null;
  @Field(() => ID, { nullable: true, description: 'The record it is about.' }) @Column('uuid', { nullable: true }) entityId: string | null;
  @Field(() => Date, { nullable: true, description: 'When the user marked it read; null while unread.' })
  @Column('timestamptz', { nullable: true })
  readAt: Date | null;
}
