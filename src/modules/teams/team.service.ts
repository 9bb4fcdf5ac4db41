import { rowMapper } from '../../data/hydrate';
import { isUuid } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { type OrderInput, type PageArgs, paginate } from '../../data/connection';
import { badField, conflict, notFound } from '../../kernel/errors';
import { requireAdmin } from '../../kernel/viewer';
import { insertRecord, updateRecord } from '../../data/record-store';
import { Team } from './team.entity';
import { TEAM_SPEC, TEAM_STORE } from './team.descriptor';
import type { CreateTeamInput, UpdateTeamInput } from './team.types';

export class TeamService {
  /** A team of the viewer's workspace; NOT_FOUND otherwise, the same for another workspace's id as for a random one. */
  async get(ctx: ServiceContext, id: string): Promise<Team> {
    if (!isUuid(id)) throw notFound('Team');
    const row = await ctx.tx.one('SELECT * FROM team WHERE workspace_id = $1 AND id = $2', [ctx.tx.workspaceId, id]);
    if (!row) throw notFound('Team');
    return rowMapper(ctx.tx.dataSource, Team)(row);
  }

  list(ctx: ServiceContext, args: PageArgs & { filter?: object | null; orderBy?: OrderInput[] | null; includeDeleted?: boolean | null }) {
    return paginate<Team>({
      tx: ctx.tx,
      spec: TEAM_SPEC,
      ...args,
      filter: args.filter as Record<string, unknown>,
      defaultOrder: [{ field: 'NAME' }],
      map: rowMapper(ctx.tx.dataSource, Team),
    });
  }

  async create(ctx: ServiceContext, input: CreateTeamInput): Promise<Team> {
    requireAdmin(ctx.viewer);
    return ctx.tx.savepoint(async () => {
      if (input.managerId) await this.assertUser(ctx, input.managerId);
      await this.assertNameFree(ctx, input.name);
      return (await insertRecord(ctx, TEAM_STORE, { name: input.name.trim(), managerId: input.managerId ?? null })).record;
    });
  }

  async update(ctx: ServiceContext, id: string, input: UpdateTeamInput, expectedVersion?: number | null): Promise<Team> {
    requireAdmin(ctx.viewer);
    if (!isUuid(id)) throw notFound('Team');
    return ctx.tx.savepoint(async () => {
      if (input.managerId) await this.assertUser(ctx, input.managerId);
      if (input.name) await this.assertNameFree(ctx, input.name, id);
      return (await updateRecord(ctx, TEAM_STORE, id, { name: input.name?.trim(), managerId: input.managerId }, { expectedVersion })).record;
    });
  }

  private async assertNameFree(ctx: ServiceContext, name: string, exceptId?: string): Promise<void> {
    const row = await ctx.tx.one('SELECT 1 FROM team WHERE workspace_id = $1 AND lower(name) = lower($2) AND deleted_at IS NULL AND id IS DISTINCT FROM $3', [
      ctx.tx.workspaceId,
      name.trim(),
      exceptId ?? null,
    ]);
    if (row) throw conflict(`A team named ${name} already exists`);
  }

  private async assertUser(ctx: ServiceContext, userId: string): Promise<void> {
    const row = await ctx.tx.one('SELECT 1 FROM app_user WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL', [ctx.tx.workspaceId, userId]);
    if (!row) throw badField('managerId', 'no such user');
  }
}
