import type { RecordKind } from '../record-kind';
import { ApiKey } from './api-key.entity';

/** Listed by the ADMIN-only `apiKeys`: so are their events. */
export const API_KEY_KIND = { entityType: 'api_key', entities: [ApiKey], eventReaders: 'admins' } satisfies RecordKind;
