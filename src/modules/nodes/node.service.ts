import { type GraphQLSchema, isInterfaceType } from 'graphql';
import type { RequestContext, ServiceContext } from '../../data/context';
import { AppError } from '../../kernel/errors';
import type { Loader, Loaders } from '../../data/loaders';
import { objectTypeNames, queryRoles } from '../../kernel/type-graphql-internals';
import { assertPermissions, type Permission } from '../../kernel/viewer';

/** What `node` answers for one id: the record, null (none the caller may see by that id), or the error its kind's lookup gives. */
export type NodeResult = object | null | Error;

/** One kind of record `node(id)` can return. */
export interface NodeKind {
  /** Its GraphQL object type (the entity class). */
  type: Function;
  /** Its table, where `node` looks for the id. */
  table: string;
  /**
   * The root query whose rules reading this kind follows (`account`, `apiKeys`, `pipelines` for a
   * stage): its @Authorized roles are checked before anything is read, with the same error, so a
   * rule is written once, on that query. `load` then delegates to what that query reads with (the
   * kind's service, or the loader that runs the same statement), with the checks it makes itself.
   */
  rulesOf: string;
  /** The records of these ids (canonical, lowercase), in order: null where the kind's own lookup answers NOT_FOUND. */
  load(ctx: RequestContext, ids: string[]): Promise<NodeResult[]>;
}

/** A kind read through its service's `get` (one statement per id): NOT_FOUND is null, any other error stays that id's. */
export const viaGet =
  (get: (ctx: ServiceContext, id: string) => Promise<object>): NodeKind['load'] =>
  (ctx, ids) =>
    Promise.all(
      ids.map((id) => get(ctx.auth, id).catch((err: unknown): NodeResult => (err instanceof AppError && err.code === 'NOT_FOUND' ? null : asError(err)))),
    );

/**
 * A kind read through its per-request loader, whose statement is the kind's `get` by id for a whole
 * batch (`SELECT ... WHERE workspace_id = $1 AND id = ANY($2)`, deleted records included): used where
 * that `get` checks nothing more, so that `nodes` of 100 accounts is one statement, not 100.
 */
export const viaLoader =
  (pick: (loaders: Loaders) => Loader<string, object | null>): NodeKind['load'] =>
  (ctx, ids) => {
    const loader = pick(ctx.loaders);
    return Promise.all(ids.map((id) => loader.get(id)));
  };

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Relay's `node(id)` and `nodes(ids)` over every kind of record. Ids are the records' own UUIDs,
 * unique across kinds, so the kind is found in the database: one statement looks each id up in every
 * kind's table (UNION ALL of primary key probes, within the caller's workspace: row-level security
 * and `workspace_id = $1` both), then each kind loads its records as its own lookup would, under
 * that lookup's rules. Another workspace's id, an unknown one and one the kind's lookup would answer
 * NOT_FOUND are all null; an id the lookup would refuse (FORBIDDEN) gets the same error.
 */
export class NodeService {
  private readonly statement: string;
  private roles?: Map<NodeKind, Permission[]>;

  constructor(private readonly kinds: readonly NodeKind[]) {
    this.statement = kinds
      .map((k, i) => `SELECT ${i} AS k, id::text AS id FROM ${k.table} WHERE workspace_id = $1 AND id = ANY($2::uuid[])`)
      .join('\nUNION ALL ');
  }

  /**
   * Checks, once the schema is built, that every type implementing Node has a kind here (a type
   * added to Node but not here would make `node` answer null for its records: refused at start
   * instead), and reads each kind's rules from its lookup's @Authorized.
   */
  assertCovers(schema: GraphQLSchema, resolvers: readonly Function[]): void {
    const node = schema.getType('Node');
    if (!isInterfaceType(node)) throw new Error('the schema has no Node interface');
    const nameOf = objectTypeNames();
    const handled = new Set(this.kinds.map((k) => nameOf.get(k.type)));
    const missing = schema.getPossibleTypes(node).filter((t) => !handled.has(t.name));
    if (missing.length) throw new Error(`node(id) cannot fetch ${missing.map((t) => t.name).join(', ')}: add them to modules/nodes/node-kinds.ts`);
    const roles = new Map<NodeKind, Permission[]>();
    for (const kind of this.kinds) {
      // Those of the resolvers the schema was built from, declared on them or on a base class of theirs.
      const declared = queryRoles(kind.rulesOf, resolvers);
      if (declared.length !== 1 || !schema.getQueryType()?.getFields()[kind.rulesOf])
        throw new Error(`node kind ${nameOf.get(kind.type)}: no single query ${kind.rulesOf} to take its rules from`);
      roles.set(kind, [...((declared[0] ?? []) as Permission[])]);
    }
    this.roles = roles;
  }

  /** The records of `ids` (UUIDs, checked by the caller), in order, duplicates included. */
  async find(ctx: RequestContext, ids: string[]): Promise<NodeResult[]> {
    if (!this.roles) throw new Error('NodeService.assertCovers(schema) was not called');
    const { tx } = ctx.auth;
    const wanted = ids.map((id) => id.toLowerCase());
    const found = await tx.query<{ k: number; id: string }>(this.statement, [tx.workspaceId, [...new Set(wanted)]]);
    // An id in two tables cannot be made through the API; were it there, the first kind listed wins.
    const kindOf = new Map<string, number>();
    for (const r of found) if (!kindOf.has(r.id) || r.k < kindOf.get(r.id)!) kindOf.set(r.id, r.k);
    const byKind = new Map<number, string[]>();
    for (const [id, k] of kindOf) byKind.set(k, [...(byKind.get(k) ?? []), id]);

    const results = new Map<string, NodeResult>();
    for (const [k, kindIds] of byKind) {
      const kind = this.kinds[k];
      let loaded: NodeResult[];
      try {
        assertPermissions(ctx, this.roles.get(kind)!);
        loaded = await kind.load(ctx, kindIds);
      } catch (err) {
        loaded = kindIds.map(() => asError(err));
      }
      kindIds.forEach((id, i) => results.set(id, loaded[i]));
    }
    return wanted.map((id) => results.get(id) ?? null);
  }
}
