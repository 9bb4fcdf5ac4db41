import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { TenantRecord } from '../../graphql/record';

@ObjectType({ implements: TenantRecord, description: 'An email an automation rule sent (or, without SMTP_URL, logged instead of sending).' })
@Entity('sent_email')
export class SentEmail extends TenantRecord {
  @Field(() => ID, { nullable: true, description: 'The rule that sent it.' }) @Column('uuid', { nullable: true }) ruleId: string | null;
  @Field({ description: 'The recipient address.' }) @Column('text') recipient: string;
  @Field({ description: 'The subject.' }) @Column('text') subject: string;
  @Field({ description: 'The plain-text body.' }) @Column('text') body: string;
  @Field(() => String, { nullable: true, description: 'The kind of record it is about.' }) @Column('text', { nullable: true }) entityType: string | null;
  @Field(() => ID, { nullable: true, description: 'The record it is about.' }) @Column('uuid', { nullable: true }) entityId: string | null;
  @Field(() => ID, { nullable: true, description: 'The EMAIL activity that records it on the record.' }) @Column('uuid', { nullable: true }) activityId:
    string | null;
  @Field({ description: 'SMTP (sent) or LOG (no SMTP_URL: kept here only).' }) @Column('text') transport: string;
  @Field(() => String, { nullable: true, description: 'Why sending failed.' }) @Column('text', { nullable: true }) error: string | null;
}
