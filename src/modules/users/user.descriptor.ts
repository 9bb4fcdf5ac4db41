import { belongsTo, col, type EntitySpec } from '../../data/sql';
import type { StoreSpec } from '../../data/record-store';
import { TEAM_SPEC } from '../teams/team.descriptor';
import { User } from './user.entity';
import { byIdLoader, childrenLoader, type Loader, type LoaderFactories, MAX_CHILDREN } from '../../data/loaders';
import type { RecordKind } from '../record-kind';
import { RefreshToken } from '../auth/refresh-token.entity';

export const USER_SPEC: EntitySpec = {
  table: 'app_user',
  softDelete: true,
  fields: {
    id: col('id', 'uuid'),
    email: col('email', 'text'),
    name: col('name', 'text'),
    role: col('role', 'text'),
    active: col('active', 'boolean'),
    teamId: col('team_id', 'uuid', true),
    createdAt: col('created_at', 'timestamptz'),
    updatedAt: col('updated_at', 'timestamptz'),
  },
  relations: {
    team: belongsTo(() => TEAM_SPEC, 'team_id'),
  },
};

const userData = (u: User) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  teamId: u.teamId,
  active: u.active,
});

export const USER_STORE: StoreSpec<User> = {
  table: 'app_user',
  entity: User,
  entityType: 'user',
  label: 'User',
  trackedFields: ['email', 'name', 'role', 'teamId', 'active'],
  toData: userData,
};

declare module '../../data/loaders' {
  interface Loaders {
    user: Loader<string, User | null>;
    /** The members of each team, by name. */
    teamMembers: Loader<string, User[]>;
  }
}

const USER_LOADERS = {
  user: (tx) => byIdLoader(tx, 'app_user', User),
  teamMembers: (tx) => childrenLoader(tx, 'app_user', 'team_id', User, 'c.name, c.id', MAX_CHILDREN),
} satisfies Pick<LoaderFactories, 'user' | 'teamMembers'>;

/** Users; their sign-in events are their own and the ADMINs' (see events/event-visibility). */
export const USER_KIND = { entityType: 'user', entities: [User, RefreshToken], loaders: USER_LOADERS, eventReaders: 'everyone' } satisfies RecordKind;
