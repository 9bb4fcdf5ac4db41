import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { TenantTransaction } from '../db/tenant-transaction';
import type { Logger } from '../logger';
import { type Viewer, actorOf, requireViewer } from '../modules/auth/viewer';
import type { ActorRef } from '../modules/events/event.service';
import type { IdempotentRequest } from '../modules/idempotency/idempotency.service';
import type { AppError } from './errors';
import { type Loaders, createLoaders } from './loaders';

/** What a service needs to act: the transaction it writes in, and who acts. */
export interface ServiceContext {
  readonly tx: TenantTransaction;
  readonly viewer: Viewer;
  readonly actor: ActorRef;
}

/** One per GraphQL operation (HTTP request or subscription). */
export class RequestContext {
  private _loaders?: Loaders;
  /** Set when this mutation request claimed an Idempotency-Key: its response is stored on commit. */
  idempotent?: IdempotentRequest;

  constructor(
    readonly requestId: string,
    readonly ds: DataSource,
    readonly config: Config,
    readonly log: Logger,
    readonly viewer: Viewer | null,
    readonly tx: TenantTransaction | null,
    readonly authError: AppError | null,
  ) {}

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
