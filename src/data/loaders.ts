import DataLoader from 'dataloader';
import type { ObjectLiteral } from 'typeorm';
import { rowCodec } from './row-codec';
import type { TenantTransaction } from '../db/tenant-transaction';
import { Account } from '../modules/accounts/account.entity';
import { Activity } from '../modules/activities/activity.entity';
import { Contact } from '../modules/contacts/contact.entity';
import { Lead } from '../modules/leads/lead.entity';
import { LineItem, Opportunity, StageHistoryEntry } from '../modules/opportunities/opportunity.entity';
import { Pipeline, Stage } from '../modules/pipelines/pipeline.entity';
import { Product } from '../modules/products/product.entity';
import { Team } from '../modules/teams/team.entity';
import { User } from '../modules/users/user.entity';
import { badField } from '../kernel/errors';

/**
 * A DataLoader that also hands out primed values synchronously: a list that fetched its rows'
 * relations in its own statement (look-ahead) primes them, and the relation resolvers then return
 * plain values, which GraphQL completes without a promise per field.
 */
export class Loader<K, V> extends DataLoader<K, V> {
  private readonly primed = new Map<K, V>();

  /** Whether `key` was primed (a look-ahead skips decoding a record it already gave). */
  has(key: K): boolean {
    return this.primed.has(key);
  }

  /** The primed value, or a (batched) load. */
  get(key: K): V | Promise<V> {
    return this.primed.has(key) ? this.primed.get(key)! : this.load(key);
  }

  override prime(key: K, value: V | PromiseLike<V> | Error): this {
    if (!(value instanceof Error) && !isPromiseLike(value) && !this.primed.has(key)) this.primed.set(key, value);
    return super.prime(key, value);
  }

  override clear(key: K): this {
    this.primed.delete(key);
    return super.clear(key);
  }

  override clearAll(): this {
    this.primed.clear();
    return super.clearAll();
  }
}

const isPromiseLike = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | null)?.then === 'function';

/** Loads records of one table by id in one statement per tick; unknown ids give null. */
export function byIdLoader<T extends ObjectLiteral & { id: string }>(tx: TenantTransaction, table: string, entity: new () => T): Loader<string, T | null> {
  return new Loader<string, T | null>(async (ids) => {
    const codec = rowCodec(tx.dataSource, entity);
    const rows = await tx.query(`SELECT ${codec.select('t')} FROM ${table} t WHERE t.workspace_id = $1 AND t.id = ANY($2::uuid[])`, [tx.workspaceId, ids]);
    const byId = new Map(rows.map((r) => [r.id as string, codec.map(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/**
 * The first `limit` children of each parent, in `order`, in one statement for a whole batch of
 * parents: a LATERAL subquery per parent walks the (workspace_id, parent, order) index and stops.
 */
export function childrenLoader<T extends ObjectLiteral>(
  tx: TenantTransaction,
  table: string,
  column: string,
  entity: new () => T,
  order: string,
  limit: number,
  where = 'c.deleted_at IS NULL',
): Loader<string, T[]> {
  return new Loader<string, T[]>(async (parents) => {
    const codec = rowCodec(tx.dataSource, entity);
    const rows = await tx.query(
      `SELECT ${codec.select('c')}, p.id AS __parent FROM unnest($2::uuid[]) AS p(id)
       CROSS JOIN LATERAL (SELECT * FROM ${table} c WHERE c.workspace_id = $1 AND c.${column} = p.id AND ${where} ORDER BY ${order} LIMIT ${limit}) c`,
      [tx.workspaceId, parents],
    );
    const groups = new Map<string, T[]>(parents.map((k) => [k, []]));
    for (const r of rows) groups.get(r.__parent as string)?.push(codec.map(r));
    return parents.map((k) => groups.get(k)!);
  });
}

/** The most children a relation list (`Account.contacts`, `Team.members`) returns per parent. */
export const MAX_CHILDREN = 500;
export const LATEST_ACTIVITIES_MAX = 100;
export const ACTIVITY_PARENTS = ['account', 'contact', 'lead', 'opportunity'] as const;
export type ActivityParent = (typeof ACTIVITY_PARENTS)[number];

export function createLoaders(tx: TenantTransaction) {
  const latest = new Map<string, Loader<string, Activity[]>>();
  return {
    user: byIdLoader(tx, 'app_user', User),
    team: byIdLoader(tx, 'team', Team),
    account: byIdLoader(tx, 'account', Account),
    contact: byIdLoader(tx, 'contact', Contact),
    lead: byIdLoader(tx, 'lead', Lead),
    opportunity: byIdLoader(tx, 'opportunity', Opportunity),
    product: byIdLoader(tx, 'product', Product),
    pipeline: byIdLoader(tx, 'pipeline', Pipeline),
    stage: byIdLoader(tx, 'stage', Stage),
    teamMembers: childrenLoader(tx, 'app_user', 'team_id', User, 'c.name, c.id', MAX_CHILDREN),
    contactsOfAccount: childrenLoader(tx, 'contact', 'account_id', Contact, 'c.last_name, c.id', MAX_CHILDREN),
    opportunitiesOfAccount: childrenLoader(tx, 'opportunity', 'account_id', Opportunity, 'c.created_at DESC, c.id DESC', MAX_CHILDREN),
    stagesOfPipeline: childrenLoader(tx, 'stage', 'pipeline_id', Stage, 'c.position, c.id', MAX_CHILDREN),
    stageHistory: childrenLoader(tx, 'opportunity_stage_history', 'opportunity_id', StageHistoryEntry, 'c.entered_at, c.id', MAX_CHILDREN, 'TRUE'),
    lineItemsOfOpportunity: childrenLoader(tx, 'line_item', 'opportunity_id', LineItem, 'c.position, c.created_at, c.id', MAX_CHILDREN, 'TRUE'),
    /** The newest `first` activities of each record of a kind (account, contact, lead, opportunity). */
    latestActivities(parent: ActivityParent, first: number): Loader<string, Activity[]> {
      if (!Number.isInteger(first) || first < 0 || first > LATEST_ACTIVITIES_MAX) throw badField('first', `must be between 0 and ${LATEST_ACTIVITIES_MAX}`);
      const key = `${parent}:${first}`;
      let loader = latest.get(key);
      if (!loader) {
        loader = childrenLoader(tx, 'activity', `${parent}_id`, Activity, 'c.created_at DESC, c.id DESC', first);
        latest.set(key, loader);
      }
      return loader;
    },
  };
}
export type Loaders = ReturnType<typeof createLoaders>;

/** What a relation resolver returns: the value itself when the loader has it primed, else a load. */
export type Loaded<T> = T | Promise<T>;
