import { isUuid } from '../../../db/tenant-transaction';
import { badField } from '../../../kernel/errors';
import type { ActionHandler, RunEnv } from './action';

interface AssignParams {
  strategy: 'ROUND_ROBIN' | 'LEAST_LOADED';
  teamId: string | null;
  userIds: string[] | null;
}

/** What counts as a user's open load, per kind of record (for LEAST_LOADED). */
const OPEN: Record<string, string> = {
  lead: `status NOT IN ('CONVERTED', 'UNQUALIFIED')`,
  opportunity: `status = 'OPEN'`,
  activity: `status = 'OPEN'`,
};

/**
 * ASSIGN_OWNER: gives the record an owner from a team or a list of users, skipping inactive users:
 * in turn (ROUND_ROBIN: the rule keeps a counter, advanced atomically, so concurrent runs never pick
 * the same turn), or to whoever owns the fewest open records of that kind (LEAST_LOADED).
 */
export function assignOwner(): ActionHandler<AssignParams> {
  return {
    async check(p, env) {
      if (!env.access) throw badField(env.path, 'ASSIGN_OWNER needs a trigger about records');
      if (!env.recordFields?.has('ownerId')) throw badField(env.path, `ASSIGN_OWNER needs records that have an owner (a ${env.access.entityType} has none)`);
      const strategy = p.strategy ?? 'ROUND_ROBIN';
      if (strategy !== 'ROUND_ROBIN' && strategy !== 'LEAST_LOADED') throw badField(`${env.path}.strategy`, 'must be ROUND_ROBIN or LEAST_LOADED');
      const teamId = p.teamId ?? null;
      const userIds = p.userIds ?? null;
      if ((teamId == null) === (userIds == null)) throw badField(env.path, 'give either teamId or userIds');
      if (teamId != null) {
        if (
          !isUuid(teamId) ||
          !(await env.tx.one(`SELECT 1 FROM team WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`, [env.tx.workspaceId, teamId]))
        ) {
          throw badField(`${env.path}.teamId`, 'no such team');
        }
      } else {
        if (!Array.isArray(userIds) || !userIds.length || userIds.length > 100 || !userIds.every(isUuid))
          throw badField(`${env.path}.userIds`, 'must be 1 to 100 user ids');
        const found = await env.tx.query<{ id: string }>(`SELECT id FROM app_user WHERE workspace_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL`, [
          env.tx.workspaceId,
          userIds,
        ]);
        const missing = (userIds as string[]).find((id) => !found.some((f) => f.id === id));
        if (missing) throw badField(`${env.path}.userIds`, `no such user ${missing}`);
      }
      return { strategy, teamId: teamId as string | null, userIds: userIds ? [...new Set(userIds as string[])] : null };
    },
    async run(env, p) {
      const candidates = await activeCandidates(env, p);
      if (!candidates.length) throw new Error('no active user to assign to');
      const ownerId = p.strategy === 'ROUND_ROBIN' ? await nextInTurn(env, candidates) : await leastLoaded(env, candidates);
      if (env.dryRun) return { summary: `would assign the ${env.access!.entityType} to user ${ownerId}`, details: { ownerId, strategy: p.strategy } };
      await env.access!.update(env.ctx, env.record!.id, { ownerId });
      return { summary: `assigned the ${env.access!.entityType} to user ${ownerId}`, details: { ownerId, strategy: p.strategy } };
    },
  };
}

/** The candidates in a stable order: the list as given, or the team's members by name then id. */
async function activeCandidates(env: RunEnv, p: AssignParams): Promise<string[]> {
  const { tx } = env.ctx;
  if (p.teamId) {
    const rows = await tx.query<{ id: string }>(
      `SELECT id FROM app_user WHERE workspace_id = $1 AND team_id = $2 AND active AND deleted_at IS NULL ORDER BY name, id`,
      [tx.workspaceId, p.teamId],
    );
    return rows.map((r) => r.id);
  }
  const rows = await tx.query<{ id: string }>(`SELECT id FROM app_user WHERE workspace_id = $1 AND id = ANY($2::uuid[]) AND active AND deleted_at IS NULL`, [
    tx.workspaceId,
    p.userIds,
  ]);
  const active = new Set(rows.map((r) => r.id));
  return p.userIds!.filter((id) => active.has(id));
}

async function nextInTurn(env: RunEnv, candidates: string[]): Promise<string> {
  const { tx } = env.ctx;
  const sql = env.dryRun
    ? `SELECT round_robin + 1 AS turn FROM automation_rule WHERE workspace_id = $1 AND id = $2`
    : `UPDATE automation_rule SET round_robin = round_robin + 1 WHERE workspace_id = $1 AND id = $2 RETURNING round_robin AS turn`;
  const [row] = await tx.query<{ turn: string }>(sql, [tx.workspaceId, env.rule.id]);
  return candidates[Number((BigInt(row.turn) - 1n) % BigInt(candidates.length))];
}

async function leastLoaded(env: RunEnv, candidates: string[]): Promise<string> {
  const { tx } = env.ctx;
  const table = env.access!.entityType;
  // One assignment of the rule at a time (until its run commits): runs side by side would count the same loads.
  // NO KEY UPDATE, like nextInTurn's UPDATE: each run's automation_run row holds a KEY SHARE lock on the rule.
  if (!env.dryRun) await tx.query(`SELECT 1 FROM automation_rule WHERE workspace_id = $1 AND id = $2 FOR NO KEY UPDATE`, [tx.workspaceId, env.rule.id]);
  const rows = await tx.query<{ owner_id: string; n: string }>(
    `SELECT owner_id, count(*) AS n FROM ${table} WHERE workspace_id = $1 AND owner_id = ANY($2::uuid[]) AND deleted_at IS NULL AND ${OPEN[table] ?? 'TRUE'} GROUP BY owner_id`,
    [tx.workspaceId, candidates],
  );
  const load = new Map(rows.map((r) => [r.owner_id, Number(r.n)]));
  return candidates.reduce((best, id) => ((load.get(id) ?? 0) < (load.get(best) ?? 0) ? id : best), candidates[0]);
}
