import { createHash } from 'node:crypto';
import type { FormattedExecutionResult } from 'graphql';
import type { TenantTransaction } from '../../db/tenant-transaction';
import { AppError, badField, forbidden } from '../../kernel/errors';
import type { Viewer } from '../../kernel/viewer';

const KEY_RE = /^[\x21-\x7e]{1,255}$/;
const TTL_HOURS = 24;

declare module '../../data/context' {
  interface RequestContext {
    /** Set when this mutation request claimed an Idempotency-Key: its response is stored on commit. */
    idempotent?: IdempotentRequest;
  }
}

interface IdempotentRequest {
  credentialId: string;
  key: string;
  hash: string;
  /** The operation selects a secret: its answer is not kept. */
  holdsSecret: boolean;
}

type Claim = { kind: 'first'; request: IdempotentRequest } | { kind: 'replay'; response: FormattedExecutionResult };

/** The rights a request ran with: a replay answers only to the same. */
const grantOf = (v: Viewer) => JSON.stringify([v.kind, v.role, v.teamId, [...v.scopes].sort()]);

/**
 * Idempotency keys (the `Idempotency-Key` header on a mutation request), per credential, for 24
 * hours. The key is claimed by an insert in the request's own transaction: a concurrent request with
 * the same key waits on it, then finds the stored response. The response is stored in the same
 * transaction as the writes, so either both are kept or neither.
 *
 * No secret is stored: an answer that selected one (see SecretField) is withheld, and its retries
 * are refused (CONFLICT): the mutation ran once and is not run again. A replay is authorised anew:
 * the credential must still be valid (it authenticated this request) and hold the same role, team and
 * scopes as when it first ran, or the replay is FORBIDDEN.
 */
export class IdempotencyService {
  async claim(tx: TenantTransaction, viewer: Viewer, key: string, body: unknown, holdsSecret: boolean): Promise<Claim> {
    if (!KEY_RE.test(key)) throw badField('Idempotency-Key', 'must be 1 to 255 visible ASCII characters');
    const credentialId = (viewer.apiKeyId ?? viewer.userId)!;
    const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const grant = grantOf(viewer);
    await tx.query('DELETE FROM idempotency_key WHERE workspace_id = $1 AND credential_id = $2 AND key = $3 AND expires_at < now()', [
      tx.workspaceId,
      credentialId,
      key,
    ]);
    const inserted = await tx.query(
      `INSERT INTO idempotency_key (workspace_id, credential_id, key, request_hash, "grant", expires_at) VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6))
       ON CONFLICT DO NOTHING RETURNING key`,
      [tx.workspaceId, credentialId, key, hash, grant, TTL_HOURS],
    );
    if (inserted.length) return { kind: 'first', request: { credentialId, key, hash, holdsSecret } };
    const stored = await tx.one<{ request_hash: string; response: FormattedExecutionResult | null; secret_withheld: boolean; grant: string | null }>(
      'SELECT request_hash, response, secret_withheld, "grant" FROM idempotency_key WHERE workspace_id = $1 AND credential_id = $2 AND key = $3',
      [tx.workspaceId, credentialId, key],
    );
    if (!stored || stored.request_hash !== hash)
      throw new AppError('CONFLICT', 'This Idempotency-Key was used with another request body', { http: { status: 422 } });
    if (stored.grant !== null && stored.grant !== grant)
      throw forbidden('The rights of this credential changed since the request with this Idempotency-Key ran: its answer is not replayed');
    if (stored.secret_withheld)
      throw new AppError('CONFLICT', 'The request with this Idempotency-Key already ran; its answer held a secret, which is not kept, so it is not replayed');
    if (!stored.response) throw new AppError('CONFLICT', 'A request with this Idempotency-Key is still running: retry later');
    return { kind: 'replay', response: stored.response };
  }

  /** Keeps the answer for replays; one that holds a secret is only marked as withheld. */
  async store(tx: TenantTransaction, request: IdempotentRequest, response: FormattedExecutionResult): Promise<void> {
    // Only an answer with data can hold a secret; a failed one (nothing was made) is kept and replayed.
    const holdsSecret = request.holdsSecret && response.data != null && Object.values(response.data).some((v) => v != null);
    await tx.query('UPDATE idempotency_key SET response = $4, secret_withheld = $5 WHERE workspace_id = $1 AND credential_id = $2 AND key = $3', [
      tx.workspaceId,
      request.credentialId,
      request.key,
      holdsSecret ? null : JSON.stringify(response),
      holdsSecret,
    ]);
  }
}
