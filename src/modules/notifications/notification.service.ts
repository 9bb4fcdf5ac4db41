import { randomUUID } from 'node:crypto';
import { rowMapper } from '../../data/hydrate';
import { isUuid } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { badField, forbidden } from '../../kernel/errors';
import type { Viewer } from '../../kernel/viewer';
import { diff } from '../../data/event-log';
import { getById, insertMany, recordEvents, updateRows } from '../../data/record-store';
import { Notification } from './notification.entity';
import { NOTIFICATION_STORE } from './notification.descriptor';

/** The most notifications `notifications` returns (the newest). */
export const MAX_NOTIFICATIONS = 200;
const MAX_MARK = 1000;

interface NewNotification {
  userId: string;
  title: string;
  body?: string | null;
  entityType?: string | null;
  entityId?: string | null;
}

/**
 * A user's in-app inbox. Notifications are written by the system (automation rules, failing
 * webhook endpoints); each one is a `notification.created` event, which `notificationReceived` pushes.
 */
export class NotificationService {
  /** Sends notifications in the caller's transaction (they appear once it commits). */
  async send(ctx: ServiceContext, items: NewNotification[]): Promise<Notification[]> {
    if (!items.length) return [];
    return insertMany(
      ctx,
      NOTIFICATION_STORE,
      items.map((n) => ({
        id: randomUUID(),
        userId: n.userId,
        title: n.title.slice(0, 200) || '(no title)',
        body: n.body?.slice(0, 5000) ?? null,
        entityType: n.entityType ?? null,
        entityId: n.entityId ?? null,
      })),
    );
  }

  /** Notifies every active ADMIN of the transaction's workspace (of something only they can act on). */
  async notifyAdmins(ctx: ServiceContext, n: Omit<NewNotification, 'userId'>): Promise<void> {
    const admins = await ctx.tx.query<{ id: string }>(`SELECT id FROM app_user WHERE workspace_id = $1 AND role = 'ADMIN' AND active AND deleted_at IS NULL`, [
      ctx.tx.workspaceId,
    ]);
    await this.send(
      ctx,
      admins.map((a) => ({ ...n, userId: a.id })),
    );
  }

  /** The viewer's notifications, newest first (the latest 200). */
  async list(ctx: ServiceContext, unreadOnly?: boolean | null): Promise<Notification[]> {
    const userId = inboxOf(ctx.viewer);
    const rows = await ctx.tx.query(
      `SELECT * FROM notification WHERE workspace_id = $1 AND user_id = $2 ${unreadOnly ? 'AND read_at IS NULL' : ''}
       ORDER BY created_at DESC, id DESC LIMIT ${MAX_NOTIFICATIONS}`,
      [ctx.tx.workspaceId, userId],
    );
    return rows.map(rowMapper(ctx.tx.dataSource, Notification));
  }

  /** One of the viewer's own notifications; another user's is NOT_FOUND, as if it did not exist. */
  async get(ctx: ServiceContext, id: string): Promise<Notification> {
    return getById(ctx, 'notification', Notification, 'Notification', id, 'user_id = $3', [inboxOf(ctx.viewer)]);
  }

  /** Marks the viewer's own notifications read; returns how many were unread. Other ids are ignored. */
  async markRead(ctx: ServiceContext, ids: string[]): Promise<number> {
    const userId = inboxOf(ctx.viewer);
    if (ids.length > MAX_MARK) throw badField('ids', `at most ${MAX_MARK} at a time`);
    const valid = [...new Set(ids.filter(isUuid))];
    if (!valid.length) return 0;
    return ctx.tx.savepoint(() => this.markValidRead(ctx, userId, valid));
  }

  private async markValidRead(ctx: ServiceContext, userId: string, valid: string[]): Promise<number> {
    const before = (
      await ctx.tx.query(`SELECT * FROM notification WHERE workspace_id = $1 AND user_id = $2 AND id = ANY($3::uuid[]) AND read_at IS NULL FOR UPDATE`, [
        ctx.tx.workspaceId,
        userId,
        valid,
      ])
    ).map(rowMapper(ctx.tx.dataSource, Notification));
    if (!before.length) return 0;
    const now = new Date();
    const after = await updateRows(
      ctx,
      NOTIFICATION_STORE,
      before.map((n) => ({ id: n.id, readAt: now })),
    );
    const byId = new Map(before.map((n) => [n.id, n]));
    await recordEvents(
      ctx,
      'notification.read',
      'notification',
      after.map((n) => {
        const data = NOTIFICATION_STORE.toData(n);
        return { entityId: n.id, changes: diff(NOTIFICATION_STORE.toData(byId.get(n.id)!), data, NOTIFICATION_STORE.trackedFields), data };
      }),
    );
    return after.length;
  }
}

/** Notifications are for users: an API key has no inbox. */
export function inboxOf(viewer: Viewer): string {
  if (viewer.kind !== 'USER' || !viewer.userId) throw forbidden('Notifications are for users; an API key has no inbox');
  return viewer.userId;
}
