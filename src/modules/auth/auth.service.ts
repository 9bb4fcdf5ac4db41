import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Config } from '../../kernel/config';
import { rowMapper } from '../../data/hydrate';
import { inWorkspace, isUuid, type TenantTransaction } from '../../db/tenant-transaction';
import { badField, forbidden, unauthenticated } from '../../kernel/errors';
import { insertRecord } from '../../data/record-store';
import { recordEvent } from '../../data/event-log';
import { User } from '../users/user.entity';
import { USER_STORE } from '../users/user.descriptor';
import type { LoginLimiter } from './login-limiter';
import type { SignUpLimiter } from './signup-limiter';
import type { WorkspaceService } from '../workspaces/workspace.service';
import { burnPasswordCheck, hashPassword, newRefreshToken, sha256, signAccessToken, verifyPassword } from './credentials';
import type { AuthPayload, SignUpInput } from './auth.types';
import { scopesOfRole, type Viewer } from '../../kernel/viewer';
import { Role, ActorType } from '../../kernel/roles';

const userActor = (id: string) => ({ type: ActorType.USER, id });

/** Sign-up, log-in and sessions: short-lived JWTs plus rotating, family-revocable refresh tokens. */
export class AuthService {
  constructor(
    private readonly ds: DataSource,
    private readonly config: Config,
    private readonly workspaces: WorkspaceService,
    /** Sign-in attempt limits (none when not given). */
    private readonly attempts?: LoginLimiter,
    /** The workers' pool: the only role that reads password hashes (see the worker-connection migration). */
    private readonly passwordLookup: DataSource = ds,
    /** Sign-up limits (none when not given). */
    private readonly signUps?: SignUpLimiter,
  ) {}

  /**
   * Anyone's sign-up through the API: refused when SIGNUP=closed, limited per client address and
   * overall (each call counts), then a new workspace with its first ADMIN.
   */
  async signUp(input: SignUpInput, address: string | null): Promise<AuthPayload> {
    if (!this.config.signUp.open) throw forbidden('Sign-up is closed on this server: an operator creates workspaces (npm run trellis -- workspace:create)');
    await this.signUps?.consume(address);
    return this.createWorkspace(input);
  }

  /** A new workspace with its first ADMIN, signed in, in one transaction; no sign-up policy (the demo seed). */
  async createWorkspace(input: SignUpInput): Promise<AuthPayload> {
    const workspaceId = randomUUID();
    const userId = randomUUID();
    const passwordHash = await hashPassword(input.password);
    return inWorkspace(this.ds, workspaceId, async (tx) => {
      const actor = userActor(userId);
      const workspace = await this.workspaces.create(tx, { name: input.workspaceName.trim() }, actor);
      const ctx = { tx, actor, viewer: viewerOf(workspaceId, userId, Role.ADMIN) };
      const { record: user } = await insertRecord(
        ctx,
        USER_STORE,
        { email: input.email.trim(), name: input.name.trim(), role: Role.ADMIN, active: true, passwordHash, lastLoginAt: new Date() },
        userId,
      );
      return { ...(await this.issue(tx, user.id, randomUUID())), user, workspace };
    });
  }

  /**
   * Email and password. An email may belong to users of several workspaces: then `workspaceId`
   * chooses. Unknown email and wrong password give the same answer, in the same time.
   */
  async logIn(email: string, password: string, workspaceId?: string | null, address: string | null = null): Promise<AuthPayload> {
    await this.attempts?.before(email, address);
    const result = await this.checkLogIn(email, password, workspaceId).catch(async (err) => {
      if ((err as { extensions?: { code?: string } }).extensions?.code === 'UNAUTHENTICATED') await this.attempts?.failed(email);
      throw err;
    });
    await this.attempts?.succeeded(email);
    return result;
  }

  private async checkLogIn(email: string, password: string, workspaceId?: string | null): Promise<AuthPayload> {
    if (workspaceId != null && !isUuid(workspaceId)) throw unauthenticated('Invalid email or password');
    // Anyone may sign up under any email, so an email may have many accounts, and each costs an
    // argon2 check: without a workspaceId only the oldest few are checked (accounts made later under
    // someone's email neither slow their log-in down nor push theirs out); with one, only its own.
    // The hashes come through the workers' pool: the request role cannot read them (see the worker-connection migration).
    const inScope: { user_id: string; workspace_id: string; password_hash: string | null }[] = await this.passwordLookup.query(
      `SELECT c.user_id, c.workspace_id, c.password_hash FROM auth_login_password_hashes($1) WITH ORDINALITY c
       WHERE $2::uuid IS NULL OR c.workspace_id = $2 ORDER BY c.ordinality LIMIT $3`,
      [email.trim(), workspaceId ?? null, this.config.loginMaxAccountsPerEmail],
    );
    if (inScope.length === 0) {
      await burnPasswordCheck(password);
      throw unauthenticated('Invalid email or password');
    }
    const matches = [];
    for (const c of inScope) if (await verifyPassword(c.password_hash, password)) matches.push(c);
    if (matches.length === 0) throw unauthenticated('Invalid email or password');
    if (matches.length > 1) throw badField('workspaceId', 'this email signs in to several workspaces: give the workspaceId');
    const { user_id: userId, workspace_id: wid } = matches[0];
    return inWorkspace(this.ds, wid, async (tx) => {
      const row = await tx.one('UPDATE app_user SET last_login_at = now() WHERE workspace_id = $1 AND id = $2 RETURNING *', [wid, userId]);
      await recordEvent(tx, { type: 'user.logged_in', entityType: 'user', entityId: userId, actor: userActor(userId) });
      const user = rowMapper(this.ds, User)(row!);
      return { ...(await this.issue(tx, userId, randomUUID())), user, workspace: await this.workspaces.get(tx) };
    });
  }

  /**
   * Trades a refresh token for new tokens. Each token works once: presenting a used one means it
   * leaked, so its whole family (every token of that log-in) is revoked; unless it was used within
   * REFRESH_TOKEN_REUSE_GRACE_SECONDS (0 by default: strict).
   */
  async refresh(token: string): Promise<AuthPayload> {
    const hash = sha256(token);
    const [found]: { auth_refresh_token_workspace: string | null }[] = await this.ds.query('SELECT auth_refresh_token_workspace($1)', [hash]);
    const wid = found?.auth_refresh_token_workspace;
    if (!wid) throw unauthenticated('Invalid refresh token');
    const outcome = await inWorkspace(this.ds, wid, async (tx) => {
      const used = await tx.one<{ user_id: string; family_id: string }>(
        `UPDATE refresh_token SET used_at = now()
         WHERE workspace_id = $1 AND token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
         RETURNING user_id, family_id`,
        [wid, hash],
      );
      if (!used) {
        const stale = await tx.one<{ user_id: string; family_id: string; used_at: Date | null; raced: boolean }>(
          `SELECT user_id, family_id, used_at, $3::int > 0 AND used_at > clock_timestamp() - make_interval(secs => $3::int) AS raced
           FROM refresh_token WHERE workspace_id = $1 AND token_hash = $2`,
          [wid, hash, this.config.refreshTokenReuseGraceSeconds],
        );
        // Used within the grace (when one is set): taken for two clients of one session racing (two
        // tabs refreshing at once) rather than a stolen token replayed. Refused, but the winner's session stands.
        if (stale?.used_at && !stale.raced) {
          await tx.query('UPDATE refresh_token SET revoked_at = now() WHERE workspace_id = $1 AND family_id = $2 AND revoked_at IS NULL', [
            wid,
            stale.family_id,
          ]);
          await recordEvent(tx, {
            type: 'user.refresh_token_reused',
            entityType: 'user',
            entityId: stale.user_id,
            actor: userActor(stale.user_id),
            data: { sessionId: stale.family_id },
          });
        }
        return null;
      }
      const row = await tx.one('SELECT * FROM app_user WHERE workspace_id = $1 AND id = $2 AND active AND deleted_at IS NULL', [wid, used.user_id]);
      if (!row) return null;
      await recordEvent(tx, { type: 'user.token_refreshed', entityType: 'user', entityId: used.user_id, actor: userActor(used.user_id) });
      const user = rowMapper(this.ds, User)(row);
      return { ...(await this.issue(tx, user.id, used.family_id)), user, workspace: await this.workspaces.get(tx) };
    });
    if (!outcome) throw unauthenticated('Invalid, expired or already used refresh token');
    return outcome;
  }

  /** Ends the session the refresh token belongs to (its whole family). */
  async logOut(token: string): Promise<boolean> {
    const hash = sha256(token);
    const [found]: { auth_refresh_token_workspace: string | null }[] = await this.ds.query('SELECT auth_refresh_token_workspace($1)', [hash]);
    const wid = found?.auth_refresh_token_workspace;
    if (!wid) return false;
    return inWorkspace(this.ds, wid, async (tx) => {
      const t = await tx.one<{ user_id: string; family_id: string }>(
        'SELECT user_id, family_id FROM refresh_token WHERE workspace_id = $1 AND token_hash = $2',
        [wid, hash],
      );
      const revoked = await tx.query(
        'UPDATE refresh_token SET revoked_at = now() WHERE workspace_id = $1 AND family_id = $2 AND revoked_at IS NULL RETURNING id',
        [wid, t!.family_id],
      );
      if (revoked.length === 0) return false;
      // The session's id lets every instance close the WebSockets opened with its access tokens.
      await recordEvent(tx, {
        type: 'user.logged_out',
        entityType: 'user',
        entityId: t!.user_id,
        actor: userActor(t!.user_id),
        data: { sessionId: t!.family_id },
      });
      return true;
    });
  }

  private async issue(tx: TenantTransaction, userId: string, familyId: string): Promise<{ accessToken: string; refreshToken: string }> {
    const refreshToken = newRefreshToken();
    await tx.query(
      `INSERT INTO refresh_token (workspace_id, id, user_id, family_id, token_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(days => $6))`,
      [tx.workspaceId, randomUUID(), userId, familyId, sha256(refreshToken), this.config.refreshTokenTtlDays],
    );
    const accessToken = signAccessToken({ sub: userId, wid: tx.workspaceId, sid: familyId }, this.config.jwtSecret, this.config.accessTokenTtlSeconds);
    return { accessToken, refreshToken };
  }
}

function viewerOf(workspaceId: string, userId: string, role: Role): Viewer {
  return { kind: 'USER', workspaceId, userId, apiKeyId: null, role, teamId: null, scopes: scopesOfRole(role) };
}
