import { col, type EntitySpec } from '../../data/sql';
import type { StoreSpec } from '../../data/record-store';
import { Team } from './team.entity';
import { byIdLoader, type Loader, type LoaderFactories } from '../../data/loaders';
import type { RecordKind } from '../record-kind';

export const TEAM_SPEC: EntitySpec = {
  table: 'team',
  softDelete: true,
  fields: {
    id: col('id', 'uuid'),
    name: col('name', 'text'),
    managerId: col('manager_id', 'uuid', true),
    createdAt: col('created_at', 'timestamptz'),
  },
};

export const TEAM_STORE: StoreSpec<Team> = {
  table: 'team',
  entity: Team,
  entityType: 'team',
  label: 'Team',
  trackedFields: ['name', 'managerId'],
  toData: (t) => ({ id: t.id, name: t.name, managerId: t.managerId }),
};

declare module '../../data/loaders' {
  interface Loaders {
    team: Loader<string, Team | null>;
  }
}

const TEAM_LOADERS = { team: (tx) => byIdLoader(tx, 'team', Team) } satisfies Pick<LoaderFactories, 'team'>;

export const TEAM_KIND = { entityType: 'team', entities: [Team], loaders: TEAM_LOADERS, eventReaders: 'everyone' } satisfies RecordKind;
