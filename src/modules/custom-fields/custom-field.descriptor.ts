import type { RecordKind } from '../record-kind';
import { CustomFieldDefinition } from './custom-field.entity';

export const CUSTOM_FIELD_KIND = { entityType: 'custom_field', entities: [CustomFieldDefinition], eventReaders: 'everyone' } satisfies RecordKind;
