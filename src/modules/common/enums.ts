import { registerEnumType } from 'type-graphql';

/** The kinds of records, as the API names them; events use the lower-case snake name. */
export enum EntityType {
  ACCOUNT = 'account',
  CONTACT = 'contact',
  LEAD = 'lead',
  OPPORTUNITY = 'opportunity',
  ACTIVITY = 'activity',
  PRODUCT = 'product',
  PIPELINE = 'pipeline',
  STAGE = 'stage',
  LINE_ITEM = 'line_item',
  USER = 'user',
  TEAM = 'team',
  WORKSPACE = 'workspace',
  API_KEY = 'api_key',
  CUSTOM_FIELD = 'custom_field',
  IMPORT_JOB = 'import_job',
  NOTIFICATION = 'notification',
  WEBHOOK_ENDPOINT = 'webhook_endpoint',
}
registerEnumType(EntityType, { name: 'EntityType', description: 'A kind of record.' });
