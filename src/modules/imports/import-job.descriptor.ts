import type { RecordKind } from '../record-kind';
import { ImportJob } from './import-job.entity';

export const IMPORT_JOB_KIND = { entityType: 'import_job', entities: [ImportJob], eventReaders: 'everyone' } satisfies RecordKind;
