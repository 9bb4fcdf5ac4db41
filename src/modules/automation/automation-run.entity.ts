import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Node } from '../../graphql/node';
import { JSONScalar } from '../../graphql/scalars';
import { ActionType, TriggerType } from './automation-rule.entity';

export enum RunStatus {
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
  PENDING = 'PENDING',
}
registerEnumType(RunStatus, {
  name: 'RunStatus',
  description: 'How a run ended.',
  valuesConfig: {
    SUCCEEDED: { description: 'Every action was done.' },
    FAILED: {
      description:
        'An action failed (nothing of the run was kept), or the loop guard stopped it; or a webhook call failed, which is made after the run commits: the run’s other actions were kept.',
    },
    SKIPPED: { description: 'The conditions did not hold.' },
    PENDING: {
      description:
        'The run committed; a webhook call of it is still to be made (or to be made again, if the instance making it stopped before its outcome was recorded).',
    },
  },
});

@ObjectType({ description: "One action's outcome in a run." })
export class ActionResult {
  @Field(() => ActionType, { description: 'The action.' }) type: ActionType;
  @Field({ description: 'Whether it was done.' }) ok: boolean;
  @Field(() => String, { nullable: true, description: 'What it did (or, in a test, would do).' }) summary: string | null;
  @Field(() => String, { nullable: true, description: 'Why it failed.' }) error: string | null;
  @Field(() => JSONScalar, { nullable: true, description: 'Details: the task, the email, the chosen owner, ...' }) details: Record<string, unknown> | null;
}

@ObjectType({ implements: Node, simpleResolvers: true, description: 'One run of a rule: what started it, on which record, and what each action did.' })
@Entity('automation_run')
export class AutomationRun {
  @Field(() => ID, { description: 'The run id.' }) @PrimaryColumn('uuid') id: string;
  @Column('uuid') workspaceId: string;
  @Field(() => ID, { description: 'The rule.' }) @Column('uuid') ruleId: string;
  @Field(() => TriggerType, { description: 'The trigger kind.' }) @Column('text') triggerType: TriggerType;
  @Field({ description: 'What it ran for: `event:<id>`, `slot:<time>`, or a record and its due date or last activity.' }) @Column('text') occasion: string;
  @Field(() => ID, { nullable: true, description: 'The event that started it (RECORD_EVENT).' }) @Column('bigint', { nullable: true }) eventId: string | null;
  @Field(() => String, { nullable: true, description: 'The kind of record it ran on.' }) @Column('text', { nullable: true }) entityType: string | null;
  @Field(() => ID, { nullable: true, description: 'The record it ran on.' }) @Column('uuid', { nullable: true }) entityId: string | null;
  @Field(() => RunStatus, { description: 'SUCCEEDED, FAILED, SKIPPED, or PENDING while a webhook call is still to be made.' })
  @Column('text')
  status: RunStatus;
  @Field(() => [ActionResult], { description: "Each action's outcome, in order." }) @Column('jsonb') actions: ActionResult[];
  @Field(() => String, { nullable: true, description: 'Why it failed.' }) @Column('text', { nullable: true }) error: string | null;
  @Field(() => Int, { description: 'How long it took, in milliseconds.' }) @Column('int') durationMs: number;
  @Field(() => Date, { description: 'When it ran.' }) @Column('timestamptz') createdAt: Date;
}
