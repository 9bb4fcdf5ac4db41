import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, Authorized, type ClassType, Ctx, Field, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext, ServiceContext } from '../../data/context';
import type { Loaded } from '../../data/loaders';
import { type ConnectionBase, selectsRows } from '../../data/connection';
import { ListArgs } from '../../graphql/list-args';
import { columnProperties } from '../../data/row-codec';
import { columnsNeeded } from '../../data/columns';
import { includesOf, type IncludeSpec, toOne } from '../../data/lookahead';
import { User } from '../users/user.entity';
import { BatchResult, MatchOn, MAX_BATCH } from '../../graphql/batch.types';
import type { ListInput } from './crud.service';
import type { CrudRow } from '../../data/record-store';

/** What the generated resolver needs of an entity's service. */
interface CrudApi<T, C, U> {
  get(ctx: ServiceContext, id?: string | null, externalId?: string | null): Promise<T>;
  list(ctx: ServiceContext, args: ListInput): Promise<ConnectionBase<T>>;
  create(ctx: ServiceContext, input: C): Promise<T>;
  update(ctx: ServiceContext, id: string, input: U, expectedVersion?: number | null): Promise<T>;
  delete(ctx: ServiceContext, id: string): Promise<T>;
  restore(ctx: ServiceContext, id: string): Promise<T>;
  upsert(ctx: ServiceContext, inputs: object[], matchOn: MatchOn, allOrNone: boolean): Promise<BatchResult>;
}

interface CrudResolverConfig<T extends object, C extends object, U extends object> {
  /** The GraphQL type name, e.g. `Account`. */
  name: string;
  /** The list field name, e.g. `accounts`. */
  plural: string;
  entity: ClassType<T>;
  connection: ClassType<ConnectionBase<T>>;
  filter: ClassType;
  order: ClassType;
  createInput: ClassType<C>;
  updateInput: ClassType<U>;
  owned: boolean;
  /** The input of `upsert<Things>`, for kinds that integrations sync. */
  upsertInput?: ClassType;
  /** Relation fields a page of this list may fetch in its own statement (`owner` comes with `owned`). */
  includes?: Record<string, IncludeSpec>;
}

const lcfirst = (s: string) => s[0].toLowerCase() + s.slice(1);

/**
 * The six operations of API.md for one entity (`account`, `accounts`, `createAccount`,
 * `updateAccount`, `deleteAccount`, `restoreAccount`) and its `owner`, generated once and thin:
 * arguments in, service call, result out.
 */
export function CrudResolver<T extends CrudRow, C extends object, U extends object>(cfg: CrudResolverConfig<T, C, U>) {
  const { name, entity } = cfg;
  const includes: Record<string, IncludeSpec> = { ...(cfg.owned ? { owner: toOne('app_user', User, 'owner_id', (l) => l.user) } : {}), ...cfg.includes };

  @ArgsType()
  class EntityListArgs extends ListArgs {
    @Field(() => cfg.filter, { nullable: true, description: `Conditions the ${cfg.plural} must meet.` }) filter?: object;
    @Field(() => [cfg.order], { nullable: true, description: 'Sort keys, in order; the id breaks ties.' }) orderBy?: never[];
  }

  @Resolver(() => entity)
  abstract class BaseCrudResolver {
    protected abstract readonly service: CrudApi<T, C, U>;

    @Authorized('READ')
    @Query(() => entity, { name: lcfirst(name), nullable: true, description: `One ${name}, by id or by externalId; NOT_FOUND if there is none.` })
    getOne(
      @Ctx() ctx: RequestContext,
      @Arg('id', () => ID, { nullable: true, description: `The ${name} id.` }) id?: string,
      @Arg('externalId', () => String, { nullable: true, description: `The ${name}'s externalId.` }) externalId?: string,
    ): Promise<T> {
      return this.service.get(ctx.auth, id, externalId);
    }

    @Authorized('READ')
    @Query(() => cfg.connection, { name: cfg.plural, description: `A page of ${cfg.plural}: filtered, sorted, keyset-paginated.` })
    list(@Ctx() ctx: RequestContext, @Args(() => EntityListArgs) args: EntityListArgs, @Info() info: GraphQLResolveInfo): Promise<ConnectionBase<T>> {
      const rows = selectsRows(info);
      const tx = ctx.auth.tx;
      const include = rows ? includesOf(info, includes, tx, ctx.loaders) : [];
      const columns = columnsNeeded(info, name, columnProperties(tx.dataSource, entity));
      return this.service.list(ctx.auth, { ...(args as ListInput), rows, include, columns });
    }

    @Authorized('WRITE')
    @Mutation(() => entity, { name: `create${name}`, description: `Creates a ${name}.` })
    create(@Ctx() ctx: RequestContext, @Arg('input', () => cfg.createInput, { description: `The new ${name}.` }) input: C): Promise<T> {
      return this.service.create(ctx.auth, input);
    }

    @Authorized('WRITE')
    @Mutation(() => entity, { name: `update${name}`, description: `Changes a ${name}; omitted fields stay as they are.` })
    update(
      @Ctx() ctx: RequestContext,
      @Arg('id', () => ID, { description: `The ${name} id.` }) id: string,
      @Arg('input', () => cfg.updateInput, { description: 'The changes; omitted fields stay as they are.' }) input: U,
      @Arg('expectedVersion', () => Int, { nullable: true, description: 'The version you read; if it changed since, CONFLICT and nothing is written.' })
      expectedVersion?: number,
    ): Promise<T> {
      return this.service.update(ctx.auth, id, input, expectedVersion);
    }

    @Authorized('WRITE')
    @Mutation(() => entity, { name: `delete${name}`, description: `Soft-deletes a ${name}; restore${name} brings it back.` })
    delete(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: `The ${name} id.` }) id: string): Promise<T> {
      return this.service.delete(ctx.auth, id);
    }

    @Authorized('WRITE')
    @Mutation(() => entity, { name: `restore${name}`, description: `Restores a deleted ${name}.` })
    restore(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: `The ${name} id.` }) id: string): Promise<T> {
      return this.service.restore(ctx.auth, id);
    }
  }

  const upsertName = `upsert${cfg.plural[0].toUpperCase()}${cfg.plural.slice(1)}`;

  @Resolver(() => entity)
  abstract class SyncedCrudResolver extends BaseCrudResolver {
    @Authorized('WRITE')
    @Mutation(() => BatchResult, {
      name: upsertName,
      description: `Creates or updates up to ${MAX_BATCH} ${cfg.plural} matched by a key; one result per input, in order.`,
    })
    upsert(
      @Ctx() ctx: RequestContext,
      // Each input is validated on its own: a bad one FAILS alone instead of failing the batch.
      @Arg('inputs', () => [cfg.upsertInput ?? cfg.createInput], { validate: false, description: `The ${cfg.plural}, at most ${MAX_BATCH}.` }) inputs: object[],
      @Arg('matchOn', () => MatchOn, { defaultValue: MatchOn.EXTERNAL_ID, description: 'How inputs find their record.' }) matchOn: MatchOn,
      @Arg('allOrNone', () => Boolean, { defaultValue: false, description: 'If any input fails, write none.' }) allOrNone: boolean,
    ): Promise<BatchResult> {
      return this.service.upsert(ctx.auth, inputs, matchOn, allOrNone);
    }
  }
  const Synced = cfg.upsertInput ? SyncedCrudResolver : BaseCrudResolver;
  if (!cfg.owned) return Synced;

  @Resolver(() => entity)
  abstract class OwnedCrudResolver extends Synced {
    @FieldResolver(() => User, { nullable: true, description: 'The user who owns the record.' })
    owner(@Root() record: T, @Ctx() ctx: RequestContext): Loaded<User | null> | null {
      return record.ownerId ? ctx.loaders.user.get(record.ownerId) : null;
    }
  }
  return OwnedCrudResolver;
}
