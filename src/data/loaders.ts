import DataLoader from 'dataloader';
import type { ObjectLiteral } from 'typeorm';
import { rowCodec } from './row-codec';
import type { TenantTransaction } from '../db/tenant-transaction';

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

/**
 * The per-request loaders, by name: `ctx.loaders.account`. This layer names none of them: each
 * record kind declares its own (by augmenting this interface next to its descriptor) and gives
 * their factories (`LoaderFactories`), which the composition root hands to `defineLoaders` once.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface Loaders {}

/** How each loader of a request is made from its transaction. */
export type LoaderFactories = { readonly [K in keyof Loaders]: (tx: TenantTransaction) => Loaders[K] };

let factories: LoaderFactories | undefined;

/** Sets the loaders every request gets (the composition root, once; again with the same set is harmless). */
export function defineLoaders(all: LoaderFactories): void {
  factories = all;
}

/** A request's loaders, made for its transaction: they batch and cache within this request only. */
export function createLoaders(tx: TenantTransaction): Loaders {
  if (!factories) throw new Error('No loaders defined: the composition root (createServices) calls defineLoaders first');
  const loaders: Record<string, unknown> = {};
  for (const [name, make] of Object.entries(factories) as [string, (tx: TenantTransaction) => unknown][]) loaders[name] = make(tx);
  return loaders as unknown as Loaders;
}

/** What a relation resolver returns: the value itself when the loader has it primed, else a load. */
export type Loaded<T> = T | Promise<T>;
