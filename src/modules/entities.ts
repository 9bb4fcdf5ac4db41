import { ApiKey } from './api-keys/api-key.entity';
import { RefreshToken } from './auth/refresh-token.entity';
import { Event } from './events/event.entity';
import { Team } from './teams/team.entity';
import { User } from './users/user.entity';
import { Workspace } from './workspaces/workspace.entity';

/** Every TypeORM entity; the data source registers exactly these. */
export const ENTITIES = [Workspace, User, Team, ApiKey, RefreshToken, Event];
