import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { JSONScalar } from '../../graphql/scalars';
import { SoftDeletableRecord, TenantRecord } from '../../graphql/record';

@ObjectType({ implements: [TenantRecord, SoftDeletableRecord], simpleResolvers: true, description: 'A person, usually at an account.' })
@Entity('contact')
export class Contact extends SoftDeletableRecord {
  @Field(() => String, { nullable: true, description: 'The first name.' }) @Column('text', { nullable: true }) firstName: string | null;
  @Field({ description: 'The last name.' }) @Column('text') lastName: string;
  @Field(() => String, { nullable: true, description: 'The email address.' }) @Column('text', { nullable: true }) email: string | null;
  @Field(() => String, { nullable: true, description: 'The phone number.' }) @Column('text', { nullable: true }) phone: string | null;
  @Field(() => String, { nullable: true, description: 'The job title.' }) @Column('text', { nullable: true }) title: string | null;
  @Column('uuid', { nullable: true }) accountId: string | null;
  @Column('uuid', { nullable: true }) ownerId: string | null;
  @Field(() => String, { nullable: true, description: 'The id of this contact in an integrated system; unique in the workspace.' })
  @Column('text', { nullable: true })
  externalId: string | null;
  @Field(() => JSONScalar, { description: "Values of the workspace's custom fields for contacts, by key." }) @Column('jsonb') customFields: Record<
    string,
    unknown
  >;
  @Column('uuid', { nullable: true }) mergedIntoId: string | null;

  @Field({ description: 'First and last name.' })
  get name(): string {
    return [this.firstName, this.lastName].filter(Boolean).join(' ');
  }
}
