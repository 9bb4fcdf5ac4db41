import DataLoader from 'dataloader';
import type { ObjectLiteral } from 'typeorm';
import type { TenantTransaction } from '../db/tenant-transaction';
import { rowMapper } from '../db/hydrate';
import { Team } from '../modules/teams/team.entity';
import { User } from '../modules/users/user.entity';

/** Loads records of one table by id in one statement per tick; unknown ids give null. */
export function byIdLoader<T extends ObjectLiteral & { id: string }>(tx: TenantTransaction, table: string, entity: new () => T): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const map = rowMapper(tx.dataSource, entity);
    const rows = await tx.query(`SELECT * FROM ${table} WHERE workspace_id = $1 AND id = ANY($2::uuid[])`, [tx.workspaceId, ids]);
    const byId = new Map(rows.map((r) => [r.id as string, map(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** Records that many parents point to by a foreign key, e.g. the users of each team. */
export function byForeignKeyLoader<T extends ObjectLiteral>(tx: TenantTransaction, table: string, column: string, entity: new () => T, extra = ''): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(async (keys) => {
    const map = rowMapper(tx.dataSource, entity);
    const rows = await tx.query(`SELECT * FROM ${table} WHERE workspace_id = $1 AND ${column} = ANY($2::uuid[]) ${extra} ORDER BY created_at, id`, [tx.workspaceId, keys]);
    const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
    for (const r of rows) groups.get(r[column] as string)?.push(map(r));
    return keys.map((k) => groups.get(k)!);
  });
}

export function createLoaders(tx: TenantTransaction) {
  return {
    user: byIdLoader(tx, 'app_user', User),
    team: byIdLoader(tx, 'team', Team),
    teamMembers: byForeignKeyLoader(tx, 'app_user', 'team_id', User, 'AND deleted_at IS NULL'),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
