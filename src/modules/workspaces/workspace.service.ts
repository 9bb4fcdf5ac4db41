import { rowMapper } from '../../db/hydrate';
import type { TenantTransaction } from '../../db/tenant-transaction';
import { type ActorRef, creation, recordEvent } from '../events/event.service';
import { Workspace } from './workspace.entity';

export interface NewWorkspace {
  name: string;
  currency?: string;
  timezone?: string;
}

/** Something every new workspace needs (a default pipeline, say), done in the creating transaction. */
export type WorkspaceInitializer = (tx: TenantTransaction, actor: ActorRef) => Promise<void>;

export class WorkspaceService {
  private readonly initializers: WorkspaceInitializer[] = [];
  private readonly currencies = new WeakMap<TenantTransaction, Promise<string>>();

  onCreate(init: WorkspaceInitializer): void {
    this.initializers.push(init);
  }

  /** Creates the workspace of `tx` (whose id the caller chose), records `workspace.created`, and runs the initializers. */
  async create(tx: TenantTransaction, input: NewWorkspace, actor: ActorRef): Promise<Workspace> {
    const row = await tx.one(
      `INSERT INTO workspace (id, name, currency, timezone) VALUES ($1, $2, $3, $4) RETURNING *`,
      [tx.workspaceId, input.name, input.currency ?? 'USD', input.timezone ?? 'UTC'],
    );
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

  async get(tx: TenantTransaction): Promise<Workspace> {
    const row = await tx.one('SELECT * FROM workspace WHERE id = $1', [tx.workspaceId]);
    return rowMapper(tx.dataSource, Workspace)(row!);
  }
}

export const workspaceData = (w: Workspace) => ({ id: w.id, name: w.name, currency: w.currency, timezone: w.timezone });
