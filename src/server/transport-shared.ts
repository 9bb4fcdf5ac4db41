import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Config } from '../kernel/config';
import { TenantTransaction } from '../db/tenant-transaction';
import type { Logger } from '../kernel/logger';
import type { Authentication } from '../modules/auth/authenticate';
import type { Viewer } from '../kernel/viewer';
import type { ChangeEvent } from '../events/change-event';
import type { EventBus } from '../events/event-bus';
import type { RealtimeService } from '../modules/realtime/realtime.service';
import { RequestContext } from '../data/context';
import type { CostLimiter } from './cost-limiter';

/** What a subscription transport (WebSocket, SSE) needs from the server. */
export interface LiveTransportDeps {
  ds: DataSource;
  config: Config;
  log: Logger;
  bus: EventBus;
  realtime: RealtimeService;
  costs: CostLimiter;
  /** Connections per credential, one count for WebSockets and SSE streams together (WS_MAX_CONNECTIONS_PER_CREDENTIAL). */
  connections: CredentialConnections;
}

/**
 * What the two subscription transports, graphql-ws (ws.ts) and graphql-sse (sse.ts), share. Both
 * run outside Apollo, so each applies what Apollo's pipeline and requestPlugin apply over HTTP: the
 * same checks before an operation runs (pre-execution.ts), the same error formatter (errors.ts), and
 * here a transaction per operation; and both hold a long-lived connection, so both count
 * connections per credential and end them with the credential.
 */

/** The key connections are counted under: the API key, or the user. */
export const credentialOf = (viewer: Viewer): string => viewer.apiKeyId ?? viewer.userId ?? '';

/**
 * Open connections per credential on this instance, WebSockets and SSE streams together
 * (WS_MAX_CONNECTIONS_PER_CREDENTIAL): a client does not get twice the connections by using both.
 */
export class CredentialConnections {
  private readonly counts = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Takes a connection for `credential`; false (and nothing taken) when it holds `max` already. */
  acquire(credential: string): boolean {
    const count = this.counts.get(credential) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(credential, count + 1);
    return true;
  }

  release(credential: string): void {
    const left = (this.counts.get(credential) ?? 1) - 1;
    if (left > 0) this.counts.set(credential, left);
    else this.counts.delete(credential);
  }
}

/** Why a connection ends with its credential: revoked or changed (a log-out, a new role), or past its expiry. */
export type CredentialEnd = 'changed' | 'expired';

/**
 * Calls `ended` once when the connection's credential stops being valid: at the access token's
 * `exp` or the key's `expiresAt`, or when it stops being what it was at connect time (watchCredential).
 * Returns the cancel.
 */
export function untilCredentialEnds(bus: EventBus, auth: Authentication, ended: (why: CredentialEnd) => void): () => void {
  let done = false;
  const end = (why: CredentialEnd) => {
    if (done) return;
    done = true;
    stop();
    ended(why);
  };
  const stopWatching = watchCredential(bus, auth.viewer!, auth.sessionId, () => end('changed'));
  const stopTimer = auth.expiresInMs === null ? noop : at(auth.expiresInMs, () => end('expired'));
  const stop = () => (stopWatching(), stopTimer());
  return () => {
    done = true;
    stop();
  };
}

/**
 * Calls `revoked` when the connection's credential stops being what it was at connect time: its API
 * key revoked; its user deactivated, deleted or given another role, their sessions revoked (a
 * password change), or its own session ended (log-out, a replayed refresh token). These are events
 * of the log, so a change made through any instance reaches the connections of every instance.
 */
function watchCredential(bus: EventBus, viewer: Viewer, sessionId: string | null, revoked: () => void): () => void {
  // A token that names no session (issued before sessions were named) ends with any of its user's.
  const ownSession = (e: ChangeEvent) => sessionId === null || (e.data as { sessionId?: string } | null)?.sessionId === sessionId;
  const affects = (e: ChangeEvent) =>
    viewer.kind === 'API_KEY'
      ? e.entityType === 'api_key' && e.entityId === viewer.apiKeyId && e.type === 'api_key.revoked'
      : e.entityType === 'user' &&
        e.entityId === viewer.userId &&
        (e.type === 'user.deactivated' ||
          e.type === 'user.deleted' ||
          e.type === 'user.sessions_revoked' ||
          ((e.type === 'user.logged_out' || e.type === 'user.refresh_token_reused') && ownSession(e)) ||
          // Not user.created: under load the bus may see a user's creation after that user has connected.
          (e.type === 'user.updated' && e.changes.some((c) => c.field === 'role' || c.field === 'active')));
  return bus.subscribe(viewer.workspaceId, (events) => {
    if (events.some(affects)) revoked();
  });
}

const noop = () => undefined;
/** The longest delay a Node timer takes (about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fn` once `ms` have passed (however long that is); returns the cancel. */
function at(ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const wait = (left: number) => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? wait(left - MAX_TIMER_MS) : fn()), Math.max(0, Math.min(left, MAX_TIMER_MS)));
    timer.unref();
  };
  wait(ms);
  return () => clearTimeout(timer);
}

/**
 * The context of one operation of a long-lived connection: its own transaction (committed once it
 * has subscribed, then one per event: see perEvent), the instance's event sources, the client's address.
 */
export function operationContext(
  ds: DataSource,
  config: Config,
  log: Logger,
  realtime: RealtimeService,
  viewer: Viewer,
  clientAddress: string | null,
): RequestContext {
  const context = new RequestContext(randomUUID(), ds, config, log, viewer, new TenantTransaction(ds, viewer.workspaceId), null);
  context.realtime = realtime;
  context.clientAddress = clientAddress;
  return context;
}

/**
 * Commits what an event's execution for this one subscriber read or wrote (most events need
 * nothing: their result is shared, see shared-execution.ts). Not async: it runs for every event and
 * subscriber; undefined when there is nothing to wait for.
 */
export function commitEvent(context: RequestContext, log: Logger): Promise<void> | undefined {
  const tx = context.tx;
  if (!tx || tx.untouched) return undefined;
  return tx.commit().catch((err) => log.error({ err }, 'subscription event commit failed'));
}
