import { rowMapper } from '../../data/hydrate';
import { isUuid } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { badField, notFound } from '../../kernel/errors';
import type { ApiKeyCache } from '../auth/api-key-cache';
import { newApiKeySecret, sha256 } from '../auth/credentials';
import { requireAdmin } from '../../kernel/viewer';
import { getById, insertRecord, lockRecord, updateRecord, type StoreSpec } from '../../data/record-store';
import { ApiKey } from './api-key.entity';
import type { CreateApiKeyInput } from './api-key.types';

const API_KEY_STORE: StoreSpec<ApiKey> = {
  table: 'api_key',
  entity: ApiKey,
  entityType: 'api_key',
  label: 'API key',
  trackedFields: ['name', 'scopes', 'expiresAt', 'revokedAt'],
  toData: (k) => ({
    id: k.id,
    name: k.name,
    keyPrefix: k.keyPrefix,
    scopes: k.scopes,
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  }),
};

/** API keys are managed by ADMIN users only (not by other keys). */
export class ApiKeyService {
  constructor(private readonly verified: ApiKeyCache) {}

  async list(ctx: ServiceContext): Promise<ApiKey[]> {
    requireAdmin(ctx.viewer);
    const rows = await ctx.tx.query('SELECT * FROM api_key WHERE workspace_id = $1 ORDER BY created_at DESC, id', [ctx.tx.workspaceId]);
    return rows.map(rowMapper(ctx.tx.dataSource, ApiKey));
  }

  /** One key of the workspace, revoked ones included, as `apiKeys` lists them (ADMIN only). */
  async get(ctx: ServiceContext, id: string): Promise<ApiKey> {
    requireAdmin(ctx.viewer);
    return getById(ctx, 'api_key', ApiKey, 'API key', id);
  }

  async create(ctx: ServiceContext, input: CreateApiKeyInput): Promise<{ apiKey: ApiKey; secret: string }> {
    requireAdmin(ctx.viewer);
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw badField('expiresAt', 'must be in the future');
    const secret = newApiKeySecret();
    const apiKey = await ctx.tx.savepoint(
      async () =>
        (
          await insertRecord(ctx, API_KEY_STORE, {
            name: input.name.trim(),
            keyHash: sha256(secret),
            keyPrefix: secret.slice(0, 10),
            scopes: input.scopes,
            expiresAt: input.expiresAt ?? null,
            createdById: ctx.viewer.userId,
          })
        ).record,
    );
    return { apiKey, secret };
  }

  async revoke(ctx: ServiceContext, id: string): Promise<ApiKey> {
    requireAdmin(ctx.viewer);
    if (!isUuid(id)) throw notFound('API key');
    return ctx.tx.savepoint(async () => {
      const current = await lockRecord(ctx, API_KEY_STORE, id);
      if (current.revokedAt) return current;
      const revoked = (await updateRecord(ctx, API_KEY_STORE, id, { revokedAt: new Date() }, { eventType: 'api_key.revoked' }, current)).record;
      // After the commit: evicted sooner, a request could verify the key again before it and keep it.
      ctx.tx.afterCommit(() => this.verified.evict(id));
      return revoked;
    });
  }
}
