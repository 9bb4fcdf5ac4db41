import { createHash } from 'node:crypto';
import type { FormattedExecutionResult } from 'graphql';
import type { TenantTransaction } from '../../db/tenant-transaction';
import { AppError, badField } from '../../graphql/errors';
import type { Viewer } from '../auth/viewer';

const KEY_RE = /^[\x21-\x7e]{1,255}$/;
const TTL_HOURS = 24;

export interface IdempotentRequest {
  credentialId: string;
  key: string;
  hash: string;
}

export type Claim = { kind: 'first'; request: IdempotentRequest } | { kind: 'replay'; response: FormattedExecutionResult };

/**
 * Idempotency keys (the `Idempotency-Key` header on a mutation request), per credential, for 24
 * hours. The key is claimed by an insert in the request's own transaction: a concurrent request with
 * the same key waits on it, then finds the stored response. The response is stored in the same
 * transaction as the writes, so either both are kept or neither.
 */
export class IdempotencyService {
  async claim(tx: TenantTransaction, viewer: Viewer, key: string, body: unknown): Promise<Claim> {
    if (!KEY_RE.test(key)) throw badField('Idempotency-Key', 'must be 1 to 255 visible ASCII characters');
    const credentialId = (viewer.apiKeyId ?? viewer.userId)!;
    const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    await tx.query('DELETE FROM idempotency_key WHERE workspace_id = $1 AND credential_id = $2 AND key = $3 AND expires_at < now()', [tx.workspaceId, credentialId, key]);
    const inserted = await tx.query(
      `INSERT INTO idempotency_key (workspace_id, credential_id, key, request_hash, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5))
       ON CONFLICT DO NOTHING RETURNING key`,
      [tx.workspaceId, credentialId, key, hash, TTL_HOURS],
    );
    if (inserted.length) return { kind: 'first', request: { credentialId, key, hash } };
    const stored = await tx.one<{ request_hash: string; response: FormattedExecutionResult | null }>(
      'SELECT request_hash, response FROM idempotency_key WHERE workspace_id = $1 AND credential_id = $2 AND key = $3',
      [tx.workspaceId, credentialId, key],
    );
    if (!stored || stored.request_hash !== hash) throw new AppError('CONFLICT', 'This Idempotency-Key was used with another request body', { http: { status: 422 } });
    if (!stored.response) throw new AppError('CONFLICT', 'A request with this Idempotency-Key is still running: retry later');
    return { kind: 'replay', response: stored.response };
  }

  async store(tx: TenantTransaction, request: IdempotentRequest, response: FormattedExecutionResult): Promise<void> {
    await tx.query('UPDATE idempotency_key SET response = $4 WHERE workspace_id = $1 AND credential_id = $2 AND key = $3', [tx.workspaceId, request.credentialId, request.key, JSON.stringify(response)]);
  }
}
