import type { ExecutionResult } from 'graphql';
import type { DataSource } from 'typeorm';
import type { Config } from '../kernel/config';
import { type RowBudget, TenantTransaction } from '../db/tenant-transaction';
import type { Logger } from '../kernel/logger';
import { type Viewer, actorOf, requireViewer } from '../kernel/viewer';
import type { AppError } from '../kernel/errors';
import { type Loaders, createLoaders } from './loaders';
import type { ActorRef } from '../kernel/viewer';

/** What a service needs to act: the transaction it writes in, and who acts. */
export interface ServiceContext {
  readonly tx: TenantTransaction;
  readonly viewer: Viewer;
  readonly actor: ActorRef;
}

/** A subscriber's socket as the direct delivery of results sees it. */
export interface DirectOutput {
  /** The client has fallen behind: results go through graphql-ws, which waits for it. */
  congested(): boolean;
  /** Writes a `next` message with this result (formatted as onNext formats it). */
  send(result: ExecutionResult): void;
}

/**
 * One per GraphQL operation (HTTP request or subscription). What the layers above attach to it
 * (the subscription's event sources, an idempotency claim, the request's cost) they declare
 * themselves, by augmenting this class's interface where their types live: this layer names none of them.
 */
export class RequestContext {
  private _loaders?: Loaders;
  /** The client's address (for per-address limits), when known. */
  clientAddress: string | null = null;
  /** For subscriptions (set by the WebSocket layer): the subscriber's socket, to write results to directly (shared-execution.ts). */
  directOutput?: DirectOutput;
  /** The rows this operation (a subscription: this event) may still read, across its transactions. */
  private rowBudget?: RowBudget;

  constructor(
    readonly requestId: string,
    readonly ds: DataSource,
    readonly config: Config,
    readonly log: Logger,
    readonly viewer: Viewer | null,
    private _tx: TenantTransaction | null,
    readonly authError: AppError | null,
  ) {
    if (_tx) this.limit(_tx);
  }

  /** The operation's transaction (for a subscription: the current event's). */
  get tx(): TenantTransaction | null {
    return this._tx;
  }

  /**
   * A subscription's next event: new loaders, and a new transaction unless nothing ran in the last
   * one (most events of most subscribers read nothing: their result is shared, see shared-execution.ts).
   */
  beginEvent(): Promise<void> | undefined {
    this._loaders = undefined;
    if (this._tx?.untouched) return undefined;
    return this.replaceTransaction();
  }

  /** A context for the same viewer with its own loaders and transaction: for work done once for many subscribers. */
  sibling(): RequestContext {
    const context = new RequestContext(
      this.requestId,
      this.ds,
      this.config,
      this.log,
      this.viewer,
      this.viewer ? new TenantTransaction(this.ds, this.viewer.workspaceId) : null,
      this.authError,
    );
    context.realtime = this.realtime;
    return context;
  }

  private async replaceTransaction(): Promise<void> {
    await this._tx?.rollback();
    this.rowBudget = undefined;
    if (this.viewer) this._tx = this.newTransaction(this.viewer.workspaceId);
  }

  private newTransaction(workspaceId: string): TenantTransaction {
    return this.limit(new TenantTransaction(this.ds, workspaceId));
  }

  /** The rows this operation may still read, shared by its transactions (each statement's time is the request pool's). */
  private limit(tx: TenantTransaction): TenantTransaction {
    this.rowBudget ??= newRowBudget(this.config);
    tx.rowBudget = this.rowBudget;
    return tx;
  }

  /**
   * Commits what this request did so far and lets its pooled connection go (the next query opens a
   * new transaction). For work that takes connections of its own (signing in, refreshing a token):
   * waiting for a second connection while holding one deadlocks the pool once enough requests do it.
   */
  async releaseConnection(): Promise<void> {
    if (!this._tx || !this.viewer) return;
    await this._tx.commit();
    this._tx = this.newTransaction(this.viewer.workspaceId);
    this._loaders = undefined;
  }

  /** The viewer, or UNAUTHENTICATED (with the reason the credentials were refused, if any). */
  get auth(): ServiceContext {
    const viewer = requireViewer(this.viewer, this.authError);
    return { tx: this.tx!, viewer, actor: actorOf(viewer) };
  }

  /** Per-request DataLoaders: they batch and cache within this request only. */
  get loaders(): Loaders {
    this._loaders ??= createLoaders(this.auth.tx);
    return this._loaders;
  }
}

const newRowBudget = (config: Config): RowBudget => ({ limit: config.limits.rowsPerRequest, left: config.limits.rowsPerRequest });
