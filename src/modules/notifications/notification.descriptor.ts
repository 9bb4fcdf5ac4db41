import type { StoreSpec } from '../../data/record-store';
import { Notification } from './notification.entity';
import type { RecordKind } from '../record-kind';

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** Events carry the whole notification, so that `notificationReceived` delivers it without a query. */
export const NOTIFICATION_STORE: StoreSpec<Notification> = {
  table: 'notification',
  entity: Notification,
  entityType: 'notification',
  label: 'Notification',
  trackedFields: ['userId', 'title', 'body', 'entityType', 'entityId', 'readAt'],
  toData: (n) => ({
    id: n.id,
    userId: n.userId,
    title: n.title,
    body: n.body,
    entityType: n.entityType,
    entityId: n.entityId,
    readAt: iso(n.readAt),
    createdAt: iso(n.createdAt),
    updatedAt: iso(n.updatedAt),
    version: n.version,
  }),
};

/** A notification as an event's `data` carries it. */
export function notificationFromData(workspaceId: string, d: Record<string, unknown>): Notification {
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : null);
  return Object.assign(new Notification(), {
    id: d.id as string,
    workspaceId,
    userId: d.userId as string,
    title: d.title as string,
    body: (d.body as string | null) ?? null,
    entityType: (d.entityType as string | null) ?? null,
    entityId: (d.entityId as string | null) ?? null,
    readAt: date(d.readAt),
    createdAt: date(d.createdAt)!,
    updatedAt: date(d.updatedAt)!,
    version: d.version as number,
  });
}

export const NOTIFICATION_KIND = { entityType: 'notification', entities: [Notification], eventReaders: 'recipient' } satisfies RecordKind;
