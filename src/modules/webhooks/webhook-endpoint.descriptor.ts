import type { RecordKind } from '../record-kind';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

/** Listed by the ADMIN-only `webhookEndpoints` (its URL is often a credential): so are their events. */
export const WEBHOOK_ENDPOINT_KIND = {
  entityType: 'webhook_endpoint',
  entities: [WebhookEndpoint, WebhookDelivery],
  eventReaders: 'admins',
} satisfies RecordKind;
