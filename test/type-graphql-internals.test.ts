import { graphql, type GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Authorized,
  buildSchemaSync,
  type ClassType,
  type ContainerType,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Info,
  Int,
  type MiddlewareFn,
  ObjectType,
  Query,
  Resolver,
  Root,
  UseMiddleware,
} from 'type-graphql';
import { callFieldResolversDirectly } from '../src/server/direct-resolvers';
import {
  type FieldResolverDeclaration,
  fieldResolverDeclarations,
  objectTypeName,
  objectTypeNames,
  queryRoles,
  resolverClasses,
} from '../src/kernel/type-graphql-internals';

/**
 * What src/kernel/type-graphql-internals.ts reads of type-graphql's metadata storage (no public
 * API), pinned on a few classes declared the ways Trellis declares its own: an entity with a getter
 * and a method as fields, a resolver factory's abstract base with a query and a field resolver, and
 * field resolvers that type-graphql's handler must keep running (@Authorized, @UseMiddleware, an
 * argument, a property of the parent). A type-graphql upgrade that changes what is recorded, or
 * when, fails here: read the test's name for what changed, then type-graphql-internals.ts.
 */
type Context = { name: string };

@ObjectType('PinnedOwner')
class Owner {
  @Field(() => ID) id!: string;
}

@ObjectType('PinnedDeal')
class Deal {
  @Field(() => ID) id!: string;
  ownerId!: string;

  @Field(() => String)
  get label(): string {
    return `deal ${this.id}`;
  }

  @Field(() => String)
  greeting(@Ctx() ctx: Context): string {
    return `hello ${ctx.name}`;
  }
}

const calls: string[] = [];
const noted: MiddlewareFn = async (_data, next) => {
  calls.push('middleware');
  return next();
};

/** As modules/common/crud.resolver.ts makes them: an abstract base per entity, extended by the registered resolver. */
function recordResolver<T extends Deal>(entity: ClassType<T>) {
  @Resolver(() => entity)
  abstract class RecordResolver {
    @Authorized('READ')
    @Query(() => [entity], { name: 'pinnedDeals' })
    all(): Deal[] {
      return [Object.assign(new Deal(), { id: 'd1', ownerId: 'o1' })];
    }

    @FieldResolver(() => Owner, { nullable: true })
    owner(@Root() deal: Deal, @Ctx() _ctx: Context, @Info() _info: GraphQLResolveInfo): Owner {
      calls.push('owner');
      return Object.assign(new Owner(), { id: deal.ownerId });
    }
  }
  return RecordResolver;
}
const DealBase = recordResolver(Deal);

@Resolver(() => Deal)
class DealResolver extends DealBase {
  @Authorized()
  @FieldResolver(() => String)
  guarded(@Root() deal: Deal): string {
    return `guarded ${deal.id}`;
  }

  @UseMiddleware(noted)
  @FieldResolver(() => String)
  watched(@Root() deal: Deal): string {
    return `watched ${deal.id}`;
  }

  @FieldResolver(() => String)
  repeated(@Root() deal: Deal, @Arg('times', () => Int) times: number): string {
    return deal.id.repeat(times);
  }

  @FieldResolver(() => String)
  idOnly(@Root('id') id: string): string {
    return `id ${id}`;
  }
}

const beforeBuild = fieldResolverDeclarations();
const resolver = new DealResolver();
const container: ContainerType = { get: (cls) => (cls === DealResolver ? resolver : undefined) };
const schema = buildSchemaSync({ resolvers: [DealResolver], container, authChecker: () => true, validate: false });
// The storage is the process's, and may hold other classes too (the test run's setup loads the
// entities): only this file's are looked at.
const ours = (declarations: FieldResolverDeclaration[]) => declarations.filter((d) => [Deal, DealBase, DealResolver].includes(d.declaredOn as never));
const declared = (field: string) => ours(fieldResolverDeclarations()).filter((d) => d.field === field);

describe('type-graphql internals that Trellis relies on (type-graphql-internals.ts)', () => {
  it('objectTypes: each @ObjectType class with its GraphQL name', () => {
    expect(objectTypeNames().get(Deal)).toBe('PinnedDeal');
    expect(objectTypeName(Owner)).toBe('PinnedOwner');
    expect(objectTypeName(DealResolver)).toBeUndefined();
  });

  it('fieldResolvers: building a schema fills in the object type of every field resolver on the records themselves', () => {
    const before = ours(beforeBuild);
    const after = ours(fieldResolverDeclarations());
    expect(before.map((d) => d.field).sort()).toEqual(['greeting', 'guarded', 'idOnly', 'label', 'owner', 'repeated', 'watched']);
    expect(before.map((d) => [d.field, d.objectClass])).toEqual(before.map((d) => [d.field, undefined]));
    expect(after.map((d) => [d.field, d.objectClass])).toEqual(before.map((d) => [d.field, Deal]));
  });

  it('fieldResolvers: an entity getter or method with @Field is recorded on the entity, with its parameters', () => {
    expect(declared('label')).toEqual([{ field: 'label', objectClass: Deal, on: 'entity', method: 'label', declaredOn: Deal, guarded: false, params: [] }]);
    expect(declared('greeting')).toEqual([
      {
        field: 'greeting',
        objectClass: Deal,
        on: 'entity',
        method: 'greeting',
        declaredOn: Deal,
        guarded: false,
        params: [{ index: 0, kind: 'context', property: undefined }],
      },
    ]);
  });

  it("fieldResolvers: an abstract base resolver's @FieldResolver stays declared on the base, its root typed by the parameter's declared type", () => {
    expect(declared('owner')).toEqual([
      {
        field: 'owner',
        objectClass: Deal,
        on: 'resolver',
        method: 'owner',
        declaredOn: DealBase,
        guarded: false,
        params: [
          { index: 0, kind: 'root', property: undefined, type: Deal },
          { index: 1, kind: 'context', property: undefined },
          { index: 2, kind: 'info' },
        ],
      },
    ]);
  });

  it('fieldResolvers: @Authorized (even without roles) and @UseMiddleware are recorded; arguments and a property of the parent are parameters of another kind', () => {
    expect(declared('guarded')[0]).toMatchObject({ declaredOn: DealResolver, guarded: true });
    expect(declared('watched')[0]).toMatchObject({ declaredOn: DealResolver, guarded: true });
    expect(declared('repeated')[0]).toMatchObject({
      guarded: false,
      params: [
        { index: 0, kind: 'root', property: undefined, type: Deal },
        { index: 1, kind: 'other' },
      ],
    });
    expect(declared('idOnly')[0]).toMatchObject({ guarded: false, params: [{ index: 0, kind: 'root', property: 'id' }] });
  });

  it('resolverClasses: every @Resolver class, abstract bases included', () => {
    expect(resolverClasses()).toEqual(expect.arrayContaining([DealBase, DealResolver]));
  });

  it("queries: a base class's query is recorded on the base, with its @Authorized roles", () => {
    expect(queryRoles('pinnedDeals', [DealResolver])).toEqual([['READ']]);
    expect(queryRoles('pinnedDeals', [Owner])).toEqual([]);
  });

  it('the resolve type-graphql sets on a field is the one graphql-js calls: direct-resolvers.ts replaces it, with the same answers', async () => {
    const deal = schema.getType('PinnedDeal') as GraphQLObjectType;
    const before = Object.fromEntries(Object.entries(deal.getFields()).map(([name, f]) => [name, f.resolve]));
    expect(callFieldResolversDirectly(schema, container)).toBe(3);
    const replaced = Object.entries(deal.getFields())
      .filter(([name, f]) => f.resolve !== before[name])
      .map(([name]) => name);
    expect(replaced.sort()).toEqual(['greeting', 'label', 'owner']);

    calls.length = 0;
    const result = await graphql({
      schema,
      source: '{ pinnedDeals { id label greeting owner { id } guarded watched repeated(times: 2) idOnly } }',
      contextValue: { name: 'Ada' },
    });
    expect(result).toEqual({
      data: {
        pinnedDeals: [
          {
            id: 'd1',
            label: 'deal d1',
            greeting: 'hello Ada',
            owner: { id: 'o1' },
            guarded: 'guarded d1',
            watched: 'watched d1',
            repeated: 'd1d1',
            idOnly: 'id d1',
          },
        ],
      },
    });
    expect(calls.sort()).toEqual(['middleware', 'owner']);
  });
});
