import { ArrayMaxSize, ArrayMinSize, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../data/connection';
import { JSONScalar } from '../../graphql/scalars';
import { EntityType } from '../../graphql/enums';
import { ActionType, TriggerType } from './automation-rule.entity';
import { ActionResult, AutomationRun } from './automation-run.entity';
import { SentEmail } from './sent-email.entity';
import { IsOptionalNotNull } from '../../graphql/validators';

@InputType({ description: "A rule's trigger: `type` and the fields that kind of trigger uses." })
export class AutomationTriggerInput {
  @Field(() => TriggerType, { description: 'RECORD_EVENT, SCHEDULE, INACTIVITY or DATE_RELATIVE.' }) type: TriggerType;
  @Field(() => [String], { nullable: true, description: 'RECORD_EVENT: event type patterns, wildcards allowed (`opportunity.*`).' })
  @IsOptional()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  events?: string[];
  @Field(() => [String], { nullable: true, description: 'RECORD_EVENT: only when one of these fields changed.' })
  @IsOptional()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  changedFields?: string[];
  @Field({ nullable: true, description: 'SCHEDULE: a 5-field cron expression, e.g. `0 8 * * 1` (Mondays 8:00).' }) @IsOptional() @MaxLength(100) cron?: string;
  @Field({ nullable: true, description: 'SCHEDULE: an IANA time zone, e.g. `Europe/Paris` (default UTC).' }) @IsOptional() @MaxLength(64) timezone?: string;
  @Field(() => EntityType, { nullable: true, description: 'The records a time-based trigger goes through.' }) @IsOptional() entityType?: EntityType;
  @Field(() => JSONScalar, { nullable: true, description: 'SCHEDULE: which records (a filter of the entity); one run per record.' })
  @IsOptional()
  query?: Record<string, unknown>;
  @Field(() => Int, { nullable: true, description: 'INACTIVITY: days without activity (1 to 3650).' }) @IsOptional() @IsInt() @Min(1) @Max(3650) days?: number;
  @Field({ nullable: true, description: 'DATE_RELATIVE: a date field of the entity, e.g. `expectedCloseDate`.' })
  @IsOptional()
  @MaxLength(100)
  dateField?: string;
  @Field(() => Int, { nullable: true, description: 'DATE_RELATIVE: days after the date; negative: before (-3650 to 3650).' })
  @IsOptional()
  @IsInt()
  @Min(-3650)
  @Max(3650)
  offsetDays?: number;
}

@InputType({ description: 'One action: its type and its params (see the automation docs for each type).' })
class AutomationActionInput {
  @Field(() => ActionType, { description: 'CREATE_TASK, UPDATE_FIELDS, ASSIGN_OWNER, SEND_EMAIL, NOTIFY or CALL_WEBHOOK.' }) type: ActionType;
  @Field(() => JSONScalar, { description: 'The parameters of the action.' }) params: Record<string, unknown>;
}

@InputType({ description: 'An automation rule.' })
export class AutomationRuleInput {
  @Field({ description: 'A name to recognise it by.' }) @IsString() @Length(1, 200) name: string;
  @Field({ nullable: true, description: 'Default true.' }) @IsOptional() active?: boolean;
  @Field(() => AutomationTriggerInput, { description: 'What starts it.' }) @ValidateNested() trigger: AutomationTriggerInput;
  @Field(() => JSONScalar, { nullable: true, description: "Conditions on the record, in the filter language of the trigger's entity." })
  @IsOptional()
  conditions?: Record<string, unknown>;
  @Field(() => [AutomationActionInput], { description: 'What it does, in order (1 to 10 actions).' })
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  actions: AutomationActionInput[];
}

@InputType({ description: 'Changes to a rule; omitted fields stay as they are.' })
export class UpdateAutomationRuleInput {
  @Field({ nullable: true, description: 'The name.' }) @IsOptionalNotNull() @IsString() @Length(1, 200) name?: string;
  @Field({ nullable: true, description: 'Active or not.' }) @IsOptional() active?: boolean;
  @Field(() => AutomationTriggerInput, { nullable: true, description: 'A new trigger.' }) @IsOptional() @ValidateNested() trigger?: AutomationTriggerInput;
  @Field(() => JSONScalar, { nullable: true, description: 'New conditions (JSON null removes them).' }) @IsOptional() conditions?: Record<
    string,
    unknown
  > | null;
  @Field(() => [AutomationActionInput], { nullable: true, description: 'New actions.' })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  actions?: AutomationActionInput[];
}

@ObjectType({ description: 'What a rule would do for a record: nothing is written or sent.' })
export class AutomationTestResult {
  @Field({ description: 'Whether the record meets the conditions.' }) conditionsMet: boolean;
  @Field(() => [ActionResult], { description: 'What each action would do (empty when the conditions are not met).' }) actions: ActionResult[];
}

export const AutomationRunConnection = ConnectionType(AutomationRun);
export const SentEmailConnection = ConnectionType(SentEmail);
