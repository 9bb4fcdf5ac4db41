import { rowMapper } from '../../data/hydrate';
import { PG_UNIQUE, pgError } from '../../db/pg-errors';
import { isUuid } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { type OrderInput, type PageArgs, paginate } from '../../data/connection';
import { badField, conflict, forbidden, notFound } from '../../kernel/errors';
import { hashPassword } from '../auth/credentials';
import { requireAdmin, requireWrite } from '../../kernel/viewer';
import { recordEvent } from '../../data/event-log';
import { insertRecord, lockRecord, updateRecord } from '../../data/record-store';
import { User } from './user.entity';
import { USER_SPEC, USER_STORE } from './user.descriptor';
import type { CreateUserInput, UpdateUserInput } from './user.types';
import { Role } from '../../kernel/roles';

const isUniqueViolation = (err: unknown) => pgError(err).code === PG_UNIQUE;

export class UserService {
  /** A user of the viewer's workspace; NOT_FOUND otherwise, the same for another workspace's id as for a random one. */
  async get(ctx: ServiceContext, id: string): Promise<User> {
    if (!isUuid(id)) throw notFound('User');
    const row = await ctx.tx.one('SELECT * FROM app_user WHERE workspace_id = $1 AND id = $2', [ctx.tx.workspaceId, id]);
    if (!row) throw notFound('User');
    return rowMapper(ctx.tx.dataSource, User)(row);
  }

  list(ctx: ServiceContext, args: PageArgs & { filter?: object | null; orderBy?: OrderInput[] | null; includeDeleted?: boolean | null }) {
    return paginate<User>({
      tx: ctx.tx,
      spec: USER_SPEC,
      ...args,
      filter: args.filter as Record<string, unknown>,
      defaultOrder: [{ field: 'NAME' }],
      map: rowMapper(ctx.tx.dataSource, User),
    });
  }

  /** ADMIN only. The email must be free in the workspace; the password, if given, is hashed with argon2id. */
  async create(ctx: ServiceContext, input: CreateUserInput): Promise<User> {
    requireAdmin(ctx.viewer);
    if (input.teamId) await this.assertTeam(ctx, input.teamId);
    return ctx.tx.savepoint(async () => {
      try {
        const { record } = await insertRecord(ctx, USER_STORE, {
          email: input.email.trim(),
          name: input.name.trim(),
          role: input.role,
          teamId: input.teamId ?? null,
          active: true,
          passwordHash: input.password ? await hashPassword(input.password) : null,
        });
        return record;
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`A user with email ${input.email} already exists in this workspace`);
        throw err;
      }
    });
  }

  /** An ADMIN changes anyone; a user may change their own name, email and password, never their role or team. */
  async update(ctx: ServiceContext, id: string, input: UpdateUserInput, expectedVersion?: number | null): Promise<User> {
    requireWrite(ctx.viewer);
    const self = ctx.viewer.kind === 'USER' && ctx.viewer.userId === id;
    if (ctx.viewer.role !== Role.ADMIN) {
      if (!self) throw forbidden('Only an ADMIN can change other users');
      if (input.role !== undefined || input.teamId !== undefined) throw forbidden('Only an ADMIN can change roles and teams');
    }
    if (!isUuid(id)) throw notFound('User');
    if (input.teamId) await this.assertTeam(ctx, input.teamId);
    return ctx.tx.savepoint(async () => {
      const current = await lockRecord(ctx, USER_STORE, id);
      if (input.role && input.role !== Role.ADMIN && current.role === Role.ADMIN) await this.assertNotLastAdmin(ctx, id);
      const patch: Record<string, unknown> = { name: input.name?.trim(), email: input.email?.trim(), role: input.role, teamId: input.teamId };
      if (input.password) patch.passwordHash = await hashPassword(input.password);
      try {
        const { record } = await updateRecord(ctx, USER_STORE, id, patch, { expectedVersion }, current);
        if (input.password) await this.revokeSessions(ctx, id, 'password_changed');
        return record;
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`A user with email ${input.email} already exists in this workspace`);
        throw err;
      }
    });
  }

  /** ADMIN only: the user can no longer sign in, and their sessions end. The last active ADMIN stays. */
  async deactivate(ctx: ServiceContext, id: string): Promise<User> {
    requireAdmin(ctx.viewer);
    if (!isUuid(id)) throw notFound('User');
    return ctx.tx.savepoint(async () => {
      const current = await lockRecord(ctx, USER_STORE, id);
      if (current.role === Role.ADMIN && current.active) await this.assertNotLastAdmin(ctx, id);
      const { record } = await updateRecord(ctx, USER_STORE, id, { active: false }, { eventType: 'user.deactivated' }, current);
      await this.revokeSessions(ctx, id, 'deactivated');
      return record;
    });
  }

  /** Ends every session of the user; the event closes their WebSockets on every instance (see ws.ts). */
  private async revokeSessions(ctx: ServiceContext, userId: string, reason: 'password_changed' | 'deactivated'): Promise<void> {
    await ctx.tx.query('UPDATE refresh_token SET revoked_at = now() WHERE workspace_id = $1 AND user_id = $2 AND revoked_at IS NULL', [
      ctx.tx.workspaceId,
      userId,
    ]);
    await recordEvent(ctx.tx, { type: 'user.sessions_revoked', entityType: 'user', entityId: userId, actor: ctx.actor, data: { reason } });
  }

  private async assertNotLastAdmin(ctx: ServiceContext, userId: string): Promise<void> {
    const row = await ctx.tx.one<{ n: number }>(
      `SELECT count(*)::int AS n FROM app_user WHERE workspace_id = $1 AND role = 'ADMIN' AND active AND deleted_at IS NULL AND id <> $2`,
      [ctx.tx.workspaceId, userId],
    );
    if (!row?.n) throw conflict('The workspace must keep at least one active ADMIN');
  }

  private async assertTeam(ctx: ServiceContext, teamId: string): Promise<void> {
    const row = await ctx.tx.one('SELECT 1 FROM team WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL', [ctx.tx.workspaceId, teamId]);
    if (!row) throw badField('teamId', 'no such team');
  }
}
