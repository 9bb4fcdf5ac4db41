import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { JSONScalar } from '../graphql/scalars';
import { ActorType } from '../kernel/roles';

registerEnumType(ActorType, {
  name: 'ActorType',
  description: 'Who caused an event.',
  valuesConfig: {
    USER: { description: 'A signed-in user (the id is the user id).' },
    API_KEY: { description: 'An integration through an API key (the id is the key id).' },
    SYSTEM: { description: 'Trellis itself: background work, the admin CLI, lead intake (no id).' },
    AUTOMATION: { description: 'An automation rule (the id is the rule id).' },
  },
});

@ObjectType({ description: 'Who caused an event.' })
export class Actor {
  @Field(() => ActorType, { description: 'A user, an API key, the system, or an automation rule.' })
  type: ActorType;

  @Field(() => ID, { nullable: true, description: 'The user, API key or rule id.' })
  id: string | null;
}

@ObjectType({ description: 'One changed field of an event: its value before and after.' })
export class FieldChange {
  @Field({ description: 'The field name, as in the API.' })
  field: string;

  @Field(() => JSONScalar, { nullable: true, description: 'The value before the change.' })
  old: unknown;

  @Field(() => JSONScalar, { nullable: true, description: 'The value after the change.' })
  new: unknown;
}

/**
 * One entry of the event log: every write appends one in its own transaction. Its id is a
 * monotonically increasing cursor (a bigint, sent as a string).
 */
@ObjectType({ description: 'Something that happened to a record, as the event log recorded it.' })
@Entity('event')
export class Event {
  @Field(() => ID, { description: 'A monotonically increasing id, usable as a cursor.' })
  @PrimaryColumn('bigint')
  id: string;

  @Column('uuid')
  workspaceId: string;

  @Field({ description: 'The event type, `<entity>.<verb>`, e.g. `account.updated`.' })
  @Column('text')
  type: string;

  @Field({ description: 'The kind of record, e.g. `account`.' })
  @Column('text')
  entityType: string;

  @Field(() => ID, { description: 'The record the event happened to.' })
  @Column('uuid')
  entityId: string;

  @Column('text')
  actorType: ActorType;

  @Column('uuid', { nullable: true })
  actorId: string | null;

  @Column('smallint')
  depth: number;

  @Field(() => [FieldChange], { description: 'The fields that changed, old and new.' })
  @Column('jsonb')
  changes: FieldChange[];

  @Field(() => JSONScalar, { nullable: true, description: 'The record after the change.' })
  @Column('jsonb', { nullable: true })
  data: Record<string, unknown> | null;

  @Field(() => Date, { description: 'When it happened (the time of its transaction).' })
  @Column('timestamptz')
  occurredAt: Date;

  @Field(() => Actor, { description: 'Who caused it.' })
  actor(): Actor {
    return { type: this.actorType, id: this.actorId };
  }
}
