import type { AuthChecker } from 'type-graphql';
import { canRead, canWrite, isAdmin, requireViewer } from '../kernel/viewer';
import type { RequestContext } from '../data/context';
import { forbidden } from '../kernel/errors';

export type Permission = 'READ' | 'WRITE' | 'ADMIN';

/**
 * What `@Authorized(...roles)` checks: `@Authorized()` needs any viewer; `@Authorized('READ' | 'WRITE' | 'ADMIN')`
 * a scope or the ADMIN role. No viewer is UNAUTHENTICATED; a viewer without the permission is FORBIDDEN.
 * Also called directly where a field's rules are another field's (`node` reads each kind by its lookup's).
 */
export function assertPermissions(context: Pick<RequestContext, 'viewer' | 'authError'>, roles: readonly Permission[]): void {
  const viewer = requireViewer(context.viewer, context.authError);
  for (const role of roles) {
    if (role === 'READ' && !canRead(viewer)) throw forbidden('This API key has no READ scope');
    if (role === 'WRITE' && !canWrite(viewer)) throw forbidden(viewer.kind === 'API_KEY' ? 'This API key has no WRITE scope' : 'Your role cannot change data');
    if (role === 'ADMIN' && !isAdmin(viewer)) throw forbidden('Only an ADMIN user can do this');
  }
}

export const authChecker: AuthChecker<RequestContext> = ({ context }, roles) => {
  assertPermissions(context, roles as Permission[]);
  return true;
};
