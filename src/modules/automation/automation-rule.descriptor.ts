import type { RecordKind } from '../record-kind';
import { AutomationRule } from './automation-rule.entity';
import { AutomationRun } from './automation-run.entity';
import { SentEmail } from './sent-email.entity';

/** Listed by the ADMIN-only `automationRules` (recipients, templates): so are their events. */
export const AUTOMATION_RULE_KIND = { entityType: 'automation_rule', entities: [AutomationRule, SentEmail], eventReaders: 'admins' } satisfies RecordKind;
export const AUTOMATION_RUN_KIND = { entityType: 'automation_run', entities: [AutomationRun], eventReaders: 'admins' } satisfies RecordKind;
