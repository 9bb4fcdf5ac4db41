import { randomBytes } from 'node:crypto';
import { rowMapper } from '../../data/hydrate';
import type { TenantTransaction } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { badField } from '../../kernel/errors';
import { requireAdmin, type ActorRef } from '../../kernel/viewer';
import { creation, diff, recordEvent } from '../../data/event-log';
import { Workspace } from './workspace.entity';

interface NewWorkspace {
  name: string;
  currency?: string;
  timezone?: string;
}

/** Something every new workspace needs (a default pipeline, say), done in the creating transaction. */
type WorkspaceInitializer = (tx: TenantTransaction, actor: ActorRef) => Promise<void>;

export class WorkspaceService {
  private readonly initializers: WorkspaceInitializer[] = [];
  private readonly currencies = new WeakMap<TenantTransaction, Promise<string>>();

  onCreate(init: WorkspaceInitializer): void {
    this.initializers.push(init);
  }

  /** Creates the workspace of `tx` (whose id the caller chose), records `workspace.created`, and runs the initializers. */
  async create(tx: TenantTransaction, input: NewWorkspace, actor: ActorRef): Promise<Workspace> {
    const row = await tx.one(`INSERT INTO workspace (id, name, currency, timezone) VALUES ($1, $2, $3, $4) RETURNING *`, [
      tx.workspaceId,
      input.name,
      input.currency ?? 'USD',
      input.timezone ?? 'UTC',
    ]);
    const ws = rowMapper(tx.dataSource, Workspace)(row!);
    const data = workspaceData(ws);
    await recordEvent(tx, { type: 'workspace.created', entityType: 'workspace', entityId: ws.id, actor, changes: creation(data, Object.keys(data)), data });
    for (const init of this.initializers) await init(tx, actor);
    return ws;
  }

  /** The workspace's default currency, for amounts given without one (read once per transaction). */
  currency(tx: TenantTransaction): Promise<string> {
    let hit = this.currencies.get(tx);
    if (!hit) {
      hit = tx.one<{ currency: string }>('SELECT currency FROM workspace WHERE id = $1', [tx.workspaceId]).then((r) => r!.currency);
      this.currencies.set(tx, hit);
    }
    return hit;
  }

  /** Name, default currency, time zone and analytics visibility (ADMIN only); an event with what changed. */
  async update(ctx: ServiceContext, input: WorkspaceUpdate): Promise<Workspace> {
    requireAdmin(ctx.viewer);
    if (input.timezone != null) {
      try {
        new Intl.DateTimeFormat('en', { timeZone: input.timezone });
      } catch {
        throw badField('input.timezone', `${input.timezone} is not an IANA time zone`);
      }
    }
    return ctx.tx.savepoint(async () => {
      const before = rowMapper(ctx.tx.dataSource, Workspace)((await ctx.tx.one('SELECT * FROM workspace WHERE id = $1 FOR UPDATE', [ctx.tx.workspaceId]))!);
      const settings =
        input.repsSeeWorkspaceAnalytics != null ? { ...before.settings, repsSeeWorkspaceAnalytics: input.repsSeeWorkspaceAnalytics } : before.settings;
      const row = await ctx.tx.one(
        `UPDATE workspace SET name = coalesce($2, name), currency = coalesce($3, currency), timezone = coalesce($4, timezone), settings = $5,
           updated_at = now(), version = version + 1 WHERE id = $1 RETURNING *`,
        [ctx.tx.workspaceId, input.name?.trim() || null, input.currency ?? null, input.timezone ?? null, JSON.stringify(settings)],
      );
      const after = rowMapper(ctx.tx.dataSource, Workspace)(row!);
      const data = workspaceData(after);
      const changes = diff(workspaceData(before), data, Object.keys(data));
      if (changes.length)
        await recordEvent(ctx.tx, { type: 'workspace.updated', entityType: 'workspace', entityId: after.id, actor: ctx.actor, changes, data });
      return after;
    });
  }

  /** A new lead intake token; the previous one stops working at once (ADMIN only). */
  async rotateIntakeToken(ctx: ServiceContext): Promise<string> {
    requireAdmin(ctx.viewer);
    const token = 'itk_' + randomBytes(24).toString('base64url');
    return ctx.tx.savepoint(async () => {
      await ctx.tx.query(`UPDATE workspace SET intake_token = $2, updated_at = now(), version = version + 1 WHERE id = $1`, [ctx.tx.workspaceId, token]);
      await recordEvent(ctx.tx, {
        type: 'workspace.intake_token_rotated',
        entityType: 'workspace',
        entityId: ctx.tx.workspaceId,
        actor: ctx.actor,
        data: { id: ctx.tx.workspaceId },
      });
      return token;
    });
  }

  async get(tx: TenantTransaction): Promise<Workspace> {
    const row = await tx.one('SELECT * FROM workspace WHERE id = $1', [tx.workspaceId]);
    return rowMapper(tx.dataSource, Workspace)(row!);
  }
}

interface WorkspaceUpdate {
  name?: string | null;
  currency?: string | null;
  timezone?: string | null;
  repsSeeWorkspaceAnalytics?: boolean | null;
}

const workspaceData = (w: Workspace) => ({
  id: w.id,
  name: w.name,
  currency: w.currency,
  timezone: w.timezone,
  repsSeeWorkspaceAnalytics: w.settings?.repsSeeWorkspaceAnalytics === true,
});
