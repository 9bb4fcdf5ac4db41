// The admin commands. Each checks its arguments first (before any database is started or touched)
// and returns the task to run with the services: in a workspace transaction, with the SYSTEM actor,
// so every write is validated and records its event exactly as the API's would (webhooks,
// automation and the change feed see it), and no SQL here writes anything itself.
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from 'class-validator';
import type { DataSource } from 'typeorm';
import { inWorkspace, isUuid, type TenantTransaction } from '../../src/db/tenant-transaction';
import type { ServiceContext } from '../../src/data/context';
import { flattenValidation } from '../../src/kernel/errors';
import type { Services } from '../../src/server/services';
import { CreateApiKeyInput } from '../../src/modules/api-keys/api-key.types';
import { SignUpInput } from '../../src/modules/auth/auth.types';
import { scopesOfRole, type Viewer, SYSTEM_ACTOR } from '../../src/kernel/viewer';
import { UpdateUserInput } from '../../src/modules/users/user.types';
import { createDemoWorkspace, readDemoCredentials } from '../../src/modules/workspaces/demo';
import { UsageError } from './usage-error';
import { Role, ApiScope } from '../../src/kernel/roles';

/** The demo admin (src/modules/workspaces/demo.ts). */
const DEMO_EMAIL = 'admin@demo.trellis.dev';

export interface Admin {
  ds: DataSource;
  services: Services;
}

/** What a command does once its arguments are known to be right. */
export type Task<T> = (a: Admin) => Promise<T>;

/**
 * The operator, acting in a workspace as an ADMIN would (the services check the ADMIN role), without
 * being one of its users: no user id, and its writes are recorded with the SYSTEM actor.
 */
function operator(tx: TenantTransaction): ServiceContext {
  const viewer: Viewer = {
    kind: 'USER',
    workspaceId: tx.workspaceId,
    userId: null,
    apiKeyId: null,
    role: Role.ADMIN,
    teamId: null,
    scopes: scopesOfRole(Role.ADMIN),
  };
  return { tx, viewer, actor: SYSTEM_ACTOR };
}

function workspaceId(value: string): string {
  if (!isUuid(value)) throw new UsageError(`--workspace must be a workspace id (a UUID), not "${value}"`);
  return value;
}

/** Runs `fn` as the operator in an existing workspace; an unknown id is a usage error. */
function inExistingWorkspace<T>(a: Admin, id: string, fn: (ctx: ServiceContext) => Promise<T>): Promise<T> {
  return inWorkspace(a.ds, id, async (tx) => {
    if (!(await tx.one('SELECT 1 FROM workspace WHERE id = $1', [id]))) throw new UsageError(`no workspace ${id}`);
    return fn(operator(tx));
  });
}

/** Checks an input with the API's own validation rules; `options` names the flag of each field. */
async function check<T extends object>(input: T, options: Record<string, string>): Promise<T> {
  const [first] = flattenValidation(await validate(input, { forbidUnknownValues: false }));
  if (first) {
    const option = options[first.field] ?? first.field;
    // class-validator messages start with the property name: "email must be an email".
    throw new UsageError(first.message.startsWith(first.field) ? option + first.message.slice(first.field.length) : `${option}: ${first.message}`);
  }
  return input;
}

const generatePassword = () => randomBytes(15).toString('base64url');

export function parseScopes(value: string): ApiScope[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const bad = scopes.find((s) => !(s in ApiScope));
  if (bad || !scopes.length) throw new UsageError(`--scopes must be READ, WRITE or READ,WRITE, not "${value}"`);
  return [...new Set(scopes)] as ApiScope[];
}

export interface NewWorkspace {
  workspaceId: string;
  adminId: string;
  email: string;
  password: string;
  apiKey: string;
  apiKeyId: string;
}

/** A workspace (with its default pipeline), its first ADMIN and an API key, in one transaction. */
export async function createWorkspace(o: { name: string; adminEmail: string; adminName: string; password?: string }): Promise<Task<NewWorkspace>> {
  const password = o.password ?? generatePassword();
  // SignUpInput holds the API's rules for exactly these four values.
  await check(Object.assign(new SignUpInput(), { workspaceName: o.name, name: o.adminName, email: o.adminEmail, password }), {
    workspaceName: '--name',
    name: '--admin-name',
    email: '--admin-email',
    password: '--password',
  });
  return (a) =>
    inWorkspace(a.ds, randomUUID(), async (tx) => {
      await a.services.workspaces.create(tx, { name: o.name.trim() }, SYSTEM_ACTOR);
      const ctx = operator(tx);
      const admin = await a.services.users.create(ctx, { name: o.adminName, email: o.adminEmail, role: Role.ADMIN, password });
      const key = await a.services.apiKeys.create(ctx, { name: 'Admin CLI', scopes: [ApiScope.READ, ApiScope.WRITE] });
      return { workspaceId: tx.workspaceId, adminId: admin.id, email: admin.email, password, apiKey: key.secret, apiKeyId: key.apiKey.id };
    });
}

export async function createApiKey(o: { workspace: string; name: string; scopes: string }): Promise<Task<{ id: string; secret: string; scopes: ApiScope[] }>> {
  const id = workspaceId(o.workspace);
  const input = await check(Object.assign(new CreateApiKeyInput(), { name: o.name, scopes: parseScopes(o.scopes) }), { name: '--name', scopes: '--scopes' });
  return (a) =>
    inExistingWorkspace(a, id, async (ctx) => {
      const { apiKey, secret } = await a.services.apiKeys.create(ctx, input);
      return { id: apiKey.id, secret, scopes: apiKey.scopes };
    });
}

/** Revokes a key (again: nothing happens). Running servers stop accepting it within API_KEY_CACHE_MS. */
export async function revokeApiKey(o: { workspace: string; id: string }): Promise<Task<{ id: string; name: string; revokedAt: Date }>> {
  const id = workspaceId(o.workspace);
  if (!isUuid(o.id)) throw new UsageError(`--id must be an API key id (a UUID), not "${o.id}"`);
  return (a) =>
    inExistingWorkspace(a, id, async (ctx) => {
      const key = await a.services.apiKeys.revoke(ctx, o.id);
      return { id: key.id, name: key.name, revokedAt: key.revokedAt! };
    });
}

/** Sets a user's password (generated when not given); the user's sessions end, as with updateUser. */
export async function resetPassword(o: {
  workspace: string;
  email: string;
  password?: string;
}): Promise<Task<{ userId: string; email: string; password: string }>> {
  const id = workspaceId(o.workspace);
  const password = o.password ?? generatePassword();
  await check(Object.assign(new UpdateUserInput(), { password }), { password: '--password' });
  return (a) =>
    inExistingWorkspace(a, id, async (ctx) => {
      // Emails are unique per workspace ignoring case, as log-in matches them.
      const user = await ctx.tx.one<{ id: string; email: string }>(
        'SELECT id, email FROM app_user WHERE workspace_id = $1 AND lower(email) = lower($2) AND deleted_at IS NULL',
        [ctx.tx.workspaceId, o.email.trim()],
      );
      if (!user) throw new UsageError(`no user with email ${o.email} in workspace ${id}`);
      await a.services.users.update(ctx, user.id, { password });
      return { userId: user.id, email: user.email, password };
    });
}

export interface DemoResult {
  created: boolean;
  workspaceId: string;
  email: string;
  password?: string;
  apiKey?: string;
}

/**
 * The demo workspace (the Maven CRM sample), once. In embedded mode its credentials are kept in the
 * data folder, where `npm start` prints them; with DATABASE_URL they are printed here only.
 */
export function seedDemo(o: { embedded: boolean; dataDir: string }): Task<DemoResult> {
  return async (a) => {
    const kept = o.embedded ? readDemoCredentials(o.dataDir) : null;
    if (kept) return { created: false, workspaceId: kept.workspaceId, email: kept.email, password: kept.password, apiKey: kept.apiKey };
    // The demo admin's email, found the way log-in finds it (the one lookup across workspaces).
    const [existing]: { workspace_id: string }[] = await a.ds.query('SELECT workspace_id FROM auth_login_candidates($1)', [DEMO_EMAIL]);
    if (existing) return { created: false, workspaceId: existing.workspace_id, email: DEMO_EMAIL };
    const dir = o.embedded ? o.dataDir : mkdtempSync(join(tmpdir(), 'trellis-demo-'));
    try {
      const creds = await createDemoWorkspace(a.ds, a.services, dir);
      return { created: true, workspaceId: creds.workspaceId, email: creds.email, password: creds.password, apiKey: creds.apiKey };
    } finally {
      if (!o.embedded) rmSync(dir, { recursive: true, force: true });
    }
  };
}
