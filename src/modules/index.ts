import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { ApiKeyResolver } from './api-keys/api-key.resolver';
import { ApiKeyService } from './api-keys/api-key.service';
import { AuthResolver } from './auth/auth.resolver';
import { AuthService } from './auth/auth.service';
import { TeamResolver } from './teams/team.resolver';
import { TeamService } from './teams/team.service';
import { UserResolver } from './users/user.resolver';
import { UserService } from './users/user.service';
import { WorkspaceService } from './workspaces/workspace.service';

/** Every resolver class: the schema is built from exactly these. */
export const RESOLVERS = [AuthResolver, UserResolver, TeamResolver, ApiKeyResolver] as const;

/** The services, wired once: the composition root of the domain. */
export function createServices(ds: DataSource, config: Config) {
  const workspaces = new WorkspaceService();
  const auth = new AuthService(ds, config, workspaces);
  const users = new UserService();
  const teams = new TeamService();
  const apiKeys = new ApiKeyService();
  return { workspaces, auth, users, teams, apiKeys };
}
export type Services = ReturnType<typeof createServices>;

/** The resolver instances type-graphql asks for, each given the services it needs. */
export function createResolverContainer(s: Services) {
  const instances = new Map<unknown, unknown>([
    [AuthResolver, new AuthResolver(s.auth, s.workspaces)],
    [UserResolver, new UserResolver(s.users)],
    [TeamResolver, new TeamResolver(s.teams)],
    [ApiKeyResolver, new ApiKeyResolver(s.apiKeys)],
  ]);
  return {
    get(cls: unknown) {
      const instance = instances.get(cls);
      if (!instance) throw new Error(`no instance registered for ${String((cls as { name?: string }).name)}`);
      return instance;
    },
  };
}
