import { forbidden, unauthenticated } from './errors';
import { Role, ApiScope, ActorType } from './roles';

/** Who caused a change, as the event log records it. */
export interface ActorRef {
  type: ActorType;
  id: string | null;
  /** How many automation steps led here (0 for a person or an integration). */
  depth?: number;
}

export const SYSTEM_ACTOR: ActorRef = { type: ActorType.SYSTEM, id: null };

/** Who is calling: a signed-in user or an API key, always inside one workspace. */
export interface Viewer {
  readonly kind: 'USER' | 'API_KEY';
  readonly workspaceId: string;
  /** The user; for an API key, the user who created it (if any). */
  readonly userId: string | null;
  readonly apiKeyId: string | null;
  /** The user's role; null for an API key, which acts by its scopes. */
  readonly role: Role | null;
  readonly teamId: string | null;
  readonly scopes: readonly ApiScope[];
}

export function actorOf(viewer: Viewer): ActorRef {
  return viewer.kind === 'USER' ? { type: ActorType.USER, id: viewer.userId } : { type: ActorType.API_KEY, id: viewer.apiKeyId };
}

/**
 * The system acting on its own (a background worker): no user, no key, no scopes. Only code paths
 * that check no permissions take it; its writes are recorded with the SYSTEM actor.
 */
export const systemViewer = (workspaceId: string, scopes: ApiScope[] = []): Viewer => ({
  kind: 'API_KEY',
  workspaceId,
  userId: null,
  apiKeyId: null,
  role: null,
  teamId: null,
  scopes,
});

const canRead = (v: Viewer) => v.scopes.includes(ApiScope.READ);
const canWrite = (v: Viewer) => v.scopes.includes(ApiScope.WRITE);
export const isAdmin = (v: Viewer) => v.kind === 'USER' && v.role === Role.ADMIN;

/** The scopes a user's role grants: every role reads, all but READ_ONLY write. */
export const scopesOfRole = (role: Role): ApiScope[] => (role === Role.READ_ONLY ? [ApiScope.READ] : [ApiScope.READ, ApiScope.WRITE]);

export function requireViewer(viewer: Viewer | null | undefined, authError?: Error | null): Viewer {
  if (!viewer) throw authError ?? unauthenticated();
  return viewer;
}

export function requireWrite(viewer: Viewer): void {
  if (!canWrite(viewer)) throw forbidden(viewer.kind === 'API_KEY' ? 'This API key has no WRITE scope' : 'Your role cannot change data');
}

export function requireAdmin(viewer: Viewer): void {
  if (!isAdmin(viewer)) throw forbidden('Only an ADMIN user can do this');
}

export type Permission = 'READ' | 'WRITE' | 'ADMIN';

/**
 * What `@Authorized(...roles)` checks: `@Authorized()` needs any viewer; `@Authorized('READ' | 'WRITE' | 'ADMIN')`
 * a scope or the ADMIN role. No viewer is UNAUTHENTICATED; a viewer without the permission is FORBIDDEN.
 * Also called directly where a field's rules are another field's (`node` reads each kind by its lookup's).
 */
export function assertPermissions(context: { readonly viewer: Viewer | null; readonly authError?: Error | null }, roles: readonly Permission[]): void {
  const viewer = requireViewer(context.viewer, context.authError);
  for (const role of roles) {
    if (role === 'READ' && !canRead(viewer)) throw forbidden('This API key has no READ scope');
    if (role === 'WRITE' && !canWrite(viewer)) throw forbidden(viewer.kind === 'API_KEY' ? 'This API key has no WRITE scope' : 'Your role cannot change data');
    if (role === 'ADMIN' && !isAdmin(viewer)) throw forbidden('Only an ADMIN user can do this');
  }
}
