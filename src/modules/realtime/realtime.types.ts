import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Activity } from '../activities/activity.entity';
import { Actor, FieldChange } from '../../events/event.entity';

export enum ActivityFeedAction {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  COMPLETED = 'COMPLETED',
}
registerEnumType(ActivityFeedAction, {
  name: 'ActivityFeedAction',
  description: 'What happened to an activity in a live feed.',
  valuesConfig: {
    CREATED: { description: 'An activity was logged.' },
    UPDATED: { description: 'An activity changed.' },
    COMPLETED: { description: 'A task or activity was completed.' },
  },
});

@ObjectType({ description: 'One entry of a live activity feed.' })
export class ActivityFeedItem {
  @Field(() => ActivityFeedAction, { description: 'Created, updated or completed.' }) action: ActivityFeedAction;
  @Field(() => Activity, { description: 'The activity as it is now.' }) activity: Activity;
  @Field(() => [FieldChange], { description: 'The fields that changed, old and new.' }) changes: FieldChange[];
  @Field(() => Actor, { description: 'Who did it.' }) actor: Actor;
  @Field(() => Date, { description: 'When it happened.' }) occurredAt: Date;
  @Field({ description: 'The cursor of the event behind this entry (usable with `recordChanged` and `changes`).' }) cursor: string;
}
