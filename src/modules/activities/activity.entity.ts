import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { JSONScalar } from '../../graphql/scalars';
import { SoftDeletableRecord, TenantRecord } from '../../graphql/record';

export enum ActivityType {
  CALL = 'CALL',
  EMAIL = 'EMAIL',
  MEETING = 'MEETING',
  NOTE = 'NOTE',
  TASK = 'TASK',
}
registerEnumType(ActivityType, {
  name: 'ActivityType',
  description: 'The kind of interaction.',
  valuesConfig: {
    CALL: { description: 'A phone call (with `durationSeconds` and `outcome`).' },
    EMAIL: { description: 'An email sent or received.' },
    MEETING: { description: 'A meeting.' },
    NOTE: { description: 'A note.' },
    TASK: { description: 'Something to do (with `dueAt`, completed by `completeTask`).' },
  },
});

export enum ActivityStatus {
  OPEN = 'OPEN',
  COMPLETED = 'COMPLETED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(ActivityStatus, {
  name: 'ActivityStatus',
  description: 'Open (to do), completed or cancelled.',
  valuesConfig: {
    OPEN: { description: 'To do.' },
    COMPLETED: { description: 'Done (`completedAt` says when).' },
    CANCELLED: { description: 'Will not be done.' },
  },
});

@ObjectType({
  implements: [TenantRecord, SoftDeletableRecord],
  simpleResolvers: true,
  description: 'An interaction: a call, email, meeting, note or task, about any of a lead, contact, account or opportunity.',
})
@Entity('activity')
export class Activity extends SoftDeletableRecord {
  @Field(() => ActivityType, { description: 'CALL, EMAIL, MEETING, NOTE or TASK.' }) @Column('text') type: ActivityType;
  @Field({ description: 'A one-line summary.' }) @Column('text') subject: string;
  @Field(() => String, { nullable: true, description: 'The details.' }) @Column('text', { nullable: true }) body: string | null;
  @Field(() => ActivityStatus, { description: 'Open, completed or cancelled.' }) @Column('text') status: ActivityStatus;
  @Field(() => Date, { nullable: true, description: 'When it is due (tasks) or takes place (meetings, calls).' })
  @Column('timestamptz', { nullable: true })
  dueAt: Date | null;
  @Field(() => Date, { nullable: true, description: 'When it was completed.' }) @Column('timestamptz', { nullable: true }) completedAt: Date | null;
  @Field(() => Int, { nullable: true, description: 'How long a call or meeting lasted, in seconds.' }) @Column('int', { nullable: true }) durationSeconds:
    number | null;
  @Field(() => String, { nullable: true, description: "A call's outcome." }) @Column('text', { nullable: true }) outcome: string | null;
  @Column('uuid', { nullable: true }) accountId: string | null;
  @Column('uuid', { nullable: true }) contactId: string | null;
  @Column('uuid', { nullable: true }) leadId: string | null;
  @Column('uuid', { nullable: true }) opportunityId: string | null;
  @Column('uuid', { nullable: true }) ownerId: string | null;
  @Field(() => String, { nullable: true, description: 'The id of this activity in an integrated system; unique in the workspace.' })
  @Column('text', { nullable: true })
  externalId: string | null;
  @Field(() => JSONScalar, { description: "Values of the workspace's custom fields for activities, by key." }) @Column('jsonb') customFields: Record<
    string,
    unknown
  >;
}
