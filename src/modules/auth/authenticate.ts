import type { DataSource } from 'typeorm';
import { TenantTransaction, isUuid } from '../../db/tenant-transaction';
import { type AppError, unauthenticated } from '../../kernel/errors';
import type { ApiKeyCache } from './api-key-cache';
import { API_KEY_PREFIX, sha256, verifyAccessToken } from './credentials';
import { scopesOfRole, type Viewer } from '../../kernel/viewer';
import type { Role } from '../../kernel/roles';
import { ApiScope } from '../../kernel/roles';

export interface Authentication {
  viewer: Viewer | null;
  /** Set when credentials were sent but are not valid: raised when an operation needs a viewer. */
  error: AppError | null;
  /** The viewer's workspace transaction (already open for a user, lazy for an API key). */
  tx: TenantTransaction | null;
  /**
   * How long the credential has left (the access token's `exp`, the key's `expiresAt`), in ms; null:
   * no end, or not known (a key served from the cache). A WebSocket closes when it runs out.
   */
  expiresInMs: number | null;
  /** The user's session (refresh token family) the access token belongs to, when it names one. */
  sessionId: string | null;
}

const NONE: Authentication = { viewer: null, error: null, tx: null, expiresInMs: null, sessionId: null };

/**
 * Resolves `Authorization: Bearer <token>` to a viewer. An access token is checked against the user
 * row (deactivated users are out at once, not after the token expires); an API key through the one
 * SECURITY DEFINER lookup that may read across workspaces (or `keys`, the keys verified in the last
 * few seconds: see ApiKeyCache for what that may leave stale).
 */
export async function authenticate(ds: DataSource, jwtSecret: string, header: string | undefined | null, keys?: ApiKeyCache): Promise<Authentication> {
  if (!header) return NONE;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return { ...NONE, error: unauthenticated('The Authorization header must be "Bearer <token>"') };
  const token = m[1];

  if (token.startsWith(API_KEY_PREFIX)) {
    const hash = sha256(token);
    const cached = keys?.get(hash);
    if (cached) return { ...NONE, viewer: cached, tx: new TenantTransaction(ds, cached.workspaceId) };
    // The key's remaining lifetime on the database's clock (the one its expiry was checked against).
    const rows: { api_key_id: string; workspace_id: string; scopes: string[]; created_by_id: string | null; remaining_ms: number | null }[] = await ds.query(
      'SELECT k.*, extract(epoch FROM k.expires_at - now()) * 1000 AS remaining_ms FROM auth_api_key($1) k',
      [hash],
    );
    const key = rows[0];
    if (!key) return { ...NONE, error: unauthenticated('Invalid, expired or revoked API key') };
    const viewer: Viewer = {
      kind: 'API_KEY',
      workspaceId: key.workspace_id,
      userId: key.created_by_id,
      apiKeyId: key.api_key_id,
      role: null,
      teamId: null,
      scopes: key.scopes.filter((s): s is ApiScope => s === ApiScope.READ || s === ApiScope.WRITE),
    };
    keys?.set(hash, viewer, key.remaining_ms === null ? null : Number(key.remaining_ms));
    return { ...NONE, viewer, tx: new TenantTransaction(ds, key.workspace_id), expiresInMs: key.remaining_ms === null ? null : Number(key.remaining_ms) };
  }

  const claims = verifyAccessToken(token, jwtSecret);
  if (!claims || !isUuid(claims.wid) || !isUuid(claims.sub) || (claims.sid !== undefined && !isUuid(claims.sid)))
    return { ...NONE, error: unauthenticated('Invalid or expired access token') };
  const sessionId = claims.sid ?? null;
  const tx = new TenantTransaction(ds, claims.wid);
  try {
    // The session is live while a token of its family is unrevoked: a log-out, a replayed refresh
    // token or a password change ends its access tokens at once, not at their exp.
    const user = await tx.one<{ role: Role; team_id: string | null; live: boolean }>(
      `SELECT role, team_id, $3::uuid IS NULL OR EXISTS (
         SELECT 1 FROM refresh_token r WHERE r.workspace_id = $1 AND r.family_id = $3 AND r.revoked_at IS NULL
       ) AS live
       FROM app_user WHERE workspace_id = $1 AND id = $2 AND active AND deleted_at IS NULL`,
      [claims.wid, claims.sub, sessionId],
    );
    if (!user || !user.live) {
      await tx.rollback();
      return { ...NONE, error: unauthenticated(user ? 'This session has ended: sign in again' : 'This user is deactivated or no longer exists') };
    }
    const viewer: Viewer = {
      kind: 'USER',
      workspaceId: claims.wid,
      userId: claims.sub,
      apiKeyId: null,
      role: user.role,
      teamId: user.team_id,
      scopes: scopesOfRole(user.role),
    };
    return { ...NONE, viewer, tx, expiresInMs: claims.exp * 1000 - Date.now(), sessionId };
  } catch (err) {
    await tx.rollback();
    throw err;
  }
}
