import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { JSONScalar } from '../../graphql/scalars';
import { EntityType } from '../../graphql/enums';
import { TenantRecord } from '../../graphql/record';

export enum TriggerType {
  RECORD_EVENT = 'RECORD_EVENT',
  SCHEDULE = 'SCHEDULE',
  INACTIVITY = 'INACTIVITY',
  DATE_RELATIVE = 'DATE_RELATIVE',
}
registerEnumType(TriggerType, {
  name: 'TriggerType',
  description: 'What starts a rule.',
  valuesConfig: {
    RECORD_EVENT: { description: 'Events of the log (`events` patterns, optionally only when `changedFields` changed).' },
    SCHEDULE: { description: 'A cron expression in a time zone, optionally for each record of `entityType` matching `query`.' },
    INACTIVITY: { description: 'A record of `entityType` with no activity (opportunities: unchanged in their stage) for `days` days.' },
    DATE_RELATIVE: { description: '`offsetDays` days before (negative) or after a date field `dateField` of records of `entityType`.' },
  },
});

export enum ActionType {
  CREATE_TASK = 'CREATE_TASK',
  UPDATE_FIELDS = 'UPDATE_FIELDS',
  ASSIGN_OWNER = 'ASSIGN_OWNER',
  SEND_EMAIL = 'SEND_EMAIL',
  NOTIFY = 'NOTIFY',
  CALL_WEBHOOK = 'CALL_WEBHOOK',
}
registerEnumType(ActionType, {
  name: 'ActionType',
  description: 'What a rule does (see each params in the docs).',
  valuesConfig: {
    CREATE_TASK: {
      description: 'A TASK activity on the record. Params: `subject`, `body` (templates), `assignee` (OWNER or a user id; default the owner), `dueInDays`.',
    },
    UPDATE_FIELDS: { description: "Sets fields of the record. Params: `fields`, checked as the entity's update input." },
    ASSIGN_OWNER: { description: 'Gives the record an owner. Params: `strategy` (ROUND_ROBIN or LEAST_LOADED), and `teamId` or `userIds`.' },
    SEND_EMAIL: { description: 'An email, logged as an EMAIL activity. Params: `to` (OWNER, RECORD or an address), `subject`, `body` (templates).' },
    NOTIFY: { description: 'An in-app notification. Params: `to` (OWNER, ADMINS or a user id), `title`, `body` (templates).' },
    CALL_WEBHOOK: {
      description:
        'One signed POST, made once the run has committed; made again (same webhook-id) only if the instance making it stopped before its outcome was recorded. Params: `url` (https), `secret` (whsec_...).',
    },
  },
});

@ObjectType({ description: "A rule's trigger." })
export class AutomationTrigger {
  @Field(() => TriggerType, { description: 'The kind of trigger.' }) type: TriggerType;
  @Field(() => [String], { nullable: true, description: 'RECORD_EVENT: event type patterns (`lead.created`, `opportunity.*`).' }) events?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'RECORD_EVENT: only when one of these fields changed.' }) changedFields?: string[] | null;
  @Field(() => String, { nullable: true, description: 'SCHEDULE: a 5-field cron expression.' }) cron?: string | null;
  @Field(() => String, { nullable: true, description: 'SCHEDULE: the IANA time zone of the cron expression (default UTC).' }) timezone?: string | null;
  @Field(() => EntityType, { nullable: true, description: 'The kind of records a time-based trigger goes through.' }) entityType?: EntityType | null;
  @Field(() => JSONScalar, { nullable: true, description: 'SCHEDULE: which records (a filter of the entity), one run per record.' }) query?: Record<
    string,
    unknown
  > | null;
  @Field(() => Int, { nullable: true, description: 'INACTIVITY: days without activity.' }) days?: number | null;
  @Field(() => String, { nullable: true, description: 'DATE_RELATIVE: the date field (e.g. `expectedCloseDate`).' }) dateField?: string | null;
  @Field(() => Int, { nullable: true, description: 'DATE_RELATIVE: days after the date (negative: before).' }) offsetDays?: number | null;
}

@ObjectType({ description: 'One action of a rule.' })
class AutomationAction {
  @Field(() => ActionType, { description: 'The kind of action.' }) type: ActionType;
  @Field(() => JSONScalar, { description: 'Its parameters.' }) params: Record<string, unknown>;
}

@ObjectType({ implements: TenantRecord, description: 'An automation rule: a trigger, conditions on the record, and ordered actions.' })
@Entity('automation_rule')
export class AutomationRule extends TenantRecord {
  @Field({ description: 'A name to recognise it by.' }) @Column('text') name: string;
  @Field({ description: 'Inactive rules do nothing.' }) @Column('boolean') active: boolean;
  @Field(() => String, {
    nullable: true,
    description: 'Why the system disabled it (a condition that can no longer be evaluated); null when it was not, or once it is activated again.',
  })
  @Column('text', { nullable: true })
  disabledReason: string | null;
  @Field(() => AutomationTrigger, { description: 'What starts it.' }) @Column('jsonb') trigger: AutomationTrigger;
  @Column('text') triggerType: TriggerType;
  @Field(() => JSONScalar, { nullable: true, description: "Conditions on the record, in the filter language of the trigger's entity." })
  @Column('jsonb', { nullable: true })
  conditions: Record<string, unknown> | null;
  @Field(() => [AutomationAction], { description: 'What it does, in order.' }) @Column('jsonb') actions: AutomationAction[];
  @Column('bigint') roundRobin: string;
  @Column('uuid', { nullable: true }) createdById: string | null;
  @Column('timestamptz', { nullable: true }) deletedAt: Date | null;
}
