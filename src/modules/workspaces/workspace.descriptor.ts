import type { RecordKind } from '../record-kind';
import { Workspace } from './workspace.entity';

export const WORKSPACE_KIND = { entityType: 'workspace', entities: [Workspace], eventReaders: 'everyone' } satisfies RecordKind;
