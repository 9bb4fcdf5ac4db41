import { Event } from '../events/event.entity';
import type { LoaderFactories } from '../data/loaders';
import type { RecordKind } from './record-kind';
import { ACCOUNT_KIND } from './accounts/account.descriptor';
import { ACTIVITY_KIND } from './activities/activity.descriptor';
import { API_KEY_KIND } from './api-keys/api-key.descriptor';
import { AUTOMATION_RULE_KIND, AUTOMATION_RUN_KIND } from './automation/automation-rule.descriptor';
import { CONTACT_KIND } from './contacts/contact.descriptor';
import { CUSTOM_FIELD_KIND } from './custom-fields/custom-field.descriptor';
import { IMPORT_JOB_KIND } from './imports/import-job.descriptor';
import { LEAD_KIND } from './leads/lead.descriptor';
import { NOTIFICATION_KIND } from './notifications/notification.descriptor';
import { LINE_ITEM_KIND, OPPORTUNITY_KIND } from './opportunities/opportunity.descriptor';
import { PIPELINE_KIND, STAGE_KIND } from './pipelines/pipeline.descriptor';
import { PRODUCT_KIND } from './products/product.descriptor';
import { TEAM_KIND } from './teams/team.descriptor';
import { USER_KIND } from './users/user.descriptor';
import { WEBHOOK_ENDPOINT_KIND } from './webhooks/webhook-endpoint.descriptor';
import { WORKSPACE_KIND } from './workspaces/workspace.descriptor';

/**
 * Every kind of record: the one list a new kind is added to (its descriptor, types, resolver and
 * service live in its own folder; the composition root, server/services.ts, makes its service).
 * The maps below, and those of record filters, event visibility, CSV import and automation, are
 * assembled from it.
 */
const KINDS = [
  WORKSPACE_KIND,
  USER_KIND,
  TEAM_KIND,
  API_KEY_KIND,
  ACCOUNT_KIND,
  CONTACT_KIND,
  LEAD_KIND,
  PIPELINE_KIND,
  STAGE_KIND,
  OPPORTUNITY_KIND,
  LINE_ITEM_KIND,
  ACTIVITY_KIND,
  PRODUCT_KIND,
  CUSTOM_FIELD_KIND,
  IMPORT_JOB_KIND,
  NOTIFICATION_KIND,
  WEBHOOK_ENDPOINT_KIND,
  AUTOMATION_RULE_KIND,
  AUTOMATION_RUN_KIND,
] as const satisfies readonly RecordKind[];

export const RECORD_KINDS: readonly RecordKind[] = KINDS;

/** Every TypeORM entity; the data source registers exactly these (the event log's, and each kind's). */
export const ENTITIES: Function[] = [Event, ...KINDS.flatMap((k): readonly Function[] => k.entities)];

type LoadersOf<K> = K extends { loaders: infer L } ? L : never;
type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every per-request loader, from the kinds' descriptors (the type refuses a loader declared on `Loaders` that no kind provides). */
export const LOADERS: LoaderFactories = Object.assign({}, ...KINDS.map((k) => ('loaders' in k ? k.loaders : {}))) as Intersection<
  LoadersOf<(typeof KINDS)[number]>
>;
