import { randomUUID } from 'node:crypto';
import { type GraphQLEnumType, type GraphQLInputType, getNamedType, isEnumType, isInputObjectType } from 'graphql';
import { signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';
import { documentOf, type Fill, type Operation, rootFields, variablesOf } from './hardening/support/schema-walk';

// Issue 18, point 2: every value of every enum a query or mutation takes (as an argument, or as a
// field of an input argument) is tried, generated from the schema, and none may be an internal
// error. Filters' own enum conditions are left to the filter tests: this sweeps what an operation means.

interface EnumPosition {
  op: Operation;
  /** Argument name, then the input field's name when the enum is inside an input argument. */
  path: string[];
  type: GraphQLEnumType;
}

function enumPositions(app: TestApp): EnumPosition[] {
  const out: EnumPosition[] = [];
  for (const root of ['Query', 'Mutation'] as const) {
    for (const field of rootFields(app.app.schema, root)) {
      const op = { root, field };
      for (const a of field.args) {
        const named = getNamedType(a.type);
        if (isEnumType(named)) out.push({ op, path: [a.name], type: named });
        else if (isInputObjectType(named) && !named.name.endsWith('Filter')) {
          for (const f of Object.values(named.getFields())) {
            const inner = getNamedType(f.type as GraphQLInputType);
            if (isEnumType(inner)) out.push({ op, path: [a.name, f.name], type: inner });
          }
        }
      }
    }
  }
  return out;
}

describe('every enum value of every operation', () => {
  let t: TestApp;
  let admin: SignedUp;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    admin = await signUp(t, 'Enum Sweep');
  });
  afterAll(() => t?.close());

  it('revenue by QUARTER has one point per calendar quarter (it was an internal error: no "1 quarter" interval)', async () => {
    const r = await t.gql(`{ revenue(period: QUARTER, from: "2024-01-01", to: "2024-12-31") { periodStart count } }`, {}, admin.accessToken);
    expect(r.errors).toBeUndefined();
    expect(r.data.revenue.map((p: { periodStart: string }) => p.periodStart)).toEqual(['2024-01-01', '2024-04-01', '2024-07-01', '2024-10-01']);
  });

  it('is answered without an internal error', async () => {
    const positions = enumPositions(t);
    // Preconditions, so that the sweep cannot pass by sweeping nothing.
    expect(positions.length).toBeGreaterThan(20);
    expect(positions.map((p) => `${p.op.field.name}.${p.path.join('.')}`)).toEqual(expect.arrayContaining(['revenue.period', 'startImport.input.entityType']));
    const internal: string[] = [];
    let tried = 0;
    for (const pos of positions) {
      for (const value of pos.type.getValues()) {
        // The enum at its path, every other required value valid (ids: a random one, NOT_FOUND at worst).
        const fill: Fill = ({ path, type, name }) => {
          if (path.join('.') === pos.path.join('.')) return value.name;
          if (type.name === 'ID') return randomUUID();
          // A date range, so that period-based answers have periods to fill (empty ones too).
          if (type.name === 'Date' && path.length === 1 && (name === 'from' || name === 'to')) return name === 'from' ? '2024-01-01' : '2024-12-31';
          return undefined;
        };
        const r = await t.gql(documentOf(pos.op), variablesOf(pos.op, fill), admin.accessToken);
        tried++;
        for (const e of r.errors ?? []) {
          if (e.extensions?.code === 'INTERNAL_SERVER_ERROR' || r.status >= 500)
            internal.push(`${pos.op.field.name}(${pos.path.join('.')}: ${value.name}): ${e.message}`);
        }
      }
    }
    expect(tried).toBeGreaterThan(100);
    expect(internal).toEqual([]);
  }, 300_000);
});
