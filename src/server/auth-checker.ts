import type { AuthChecker } from 'type-graphql';
import { assertPermissions, type Permission } from '../kernel/viewer';
import type { RequestContext } from '../data/context';

export const authChecker: AuthChecker<RequestContext> = ({ context }, roles) => {
  assertPermissions(context, roles as Permission[]);
  return true;
};
