import { type GraphQLInputType, getNamedType, isInputObjectType } from 'graphql';
import type { Client } from 'pg';
import { buildSchema } from '../../src/server/schema';
import { signUp, type SignedUp, type TestApp } from '../helpers/app';
import { ownerClient, startHardeningApp } from './support/app';
import { buildFixture, type Fixture } from './support/fixture';
import { fillFrom } from './support/probes';
import { documentOf, inject, type Operation, rootFields, variablesOf } from './support/schema-walk';
import { tableMarks, tenantTables } from './support/snapshot';

/**
 * The deterministic half of the input fuzzing (fuzz-mutations.test.ts is the random half): every
 * input field of every mutation, one at a time, set to an explicit null and to the edge values of
 * its type (NUL, a lone surrogate, 100 000 characters, the ends of Int, money past numeric(20,4),
 * the year 0000, JSON 1000 levels deep...), everything else valid. Each answer is well formed,
 * never INTERNAL_SERVER_ERROR, and a refusal writes nothing.
 */

const deep = (depth: number, array: boolean): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
};
const EDGES: Record<string, unknown[]> = {
  String: ['', '\u0000', 'a\ud800b', 'x'.repeat(100_000), '😀'.repeat(40), "'; DROP TABLE account; --"],
  Int: [-1, 0, 2147483647, -2147483648],
  Float: [-1e308, 5e-324],
  Decimal: ['0', '-0', '999999999999999999.999999', '9999999999999999.9999', '0.000001'],
  Date: ['0001-01-01', '9999-12-31', '2024-02-29'],
  DateTime: ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59-14:00', '1970-01-01T00:00:00Z'],
  JSON: [
    deep(1000, false),
    deep(1000, true),
    Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])),
    JSON.parse('{"__proto__": {"polluted": true}}'),
    'text',
    42,
    [],
  ],
  ID: ['00000000-0000-0000-0000-000000000000', 'not-a-uuid', ''],
  MoneyInput: [
    { amount: '999999999999999999' },
    { amount: '10000000000000000' },
    { amount: '1', currency: 'XXX' },
    { amount: '1', currency: 'usd' },
    { amount: '-0' },
  ],
};
const STABLE_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'QUERY_TOO_COMPLEX',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
]);
/** Mutations that use up the records they are given go last, so that the others meet them. */
const CONSUMES = /^(delete|remove|merge|deactivate|revoke|convert|complete|restore)/;

interface Case {
  op: Operation;
  path: string[];
  type: string;
  values: unknown[];
}

function cases(): Case[] {
  const out: Case[] = [];
  const mutations = rootFields(buildSchema(), 'Mutation').sort((a, b) => Number(CONSUMES.test(a.name)) - Number(CONSUMES.test(b.name)));
  for (const field of mutations) {
    const op: Operation = { root: 'Mutation', field };
    const add = (path: string[], type: GraphQLInputType) => {
      const named = getNamedType(type).name;
      out.push({ op, path, type: named, values: [null, ...(EDGES[named] ?? [])] });
    };
    for (const a of field.args) {
      add([a.name], a.type);
      const named = getNamedType(a.type);
      if (isInputObjectType(named)) for (const f of Object.values(named.getFields())) add([a.name, f.name], f.type);
    }
  }
  return out;
}

describe('edge values in every input field of every mutation', () => {
  let t: TestApp;
  let owner: Client;
  let admin: SignedUp;
  let fixture: Fixture;
  let tables: string[];
  beforeAll(async () => {
    t = await startHardeningApp({ WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false', RATE_LIMIT_REFILL_PER_SECOND: '0' });
    owner = await ownerClient(t);
    admin = await signUp(t, 'Edges');
    fixture = await buildFixture(t, admin, 'Edge', null);
    tables = await tenantTables(owner);
  }, 60_000);
  afterAll(async () => {
    await owner?.end();
    await t?.close();
  });

  async function state(): Promise<string> {
    return Object.entries(await tableMarks(owner, tables))
      .map(([table, mark]) => `${table}:${mark}`)
      .join(' ');
  }

  const all = cases();
  const byMutation = [...new Set(all.map((c) => c.op.field.name))];

  it('covers every mutation', () => {
    expect(byMutation).toEqual(
      rootFields(buildSchema(), 'Mutation')
        .filter((f) => f.args.length)
        .sort((a, b) => Number(CONSUMES.test(a.name)) - Number(CONSUMES.test(b.name)))
        .map((f) => f.name),
    );
    expect(all.reduce((n, c) => n + c.values.length, 0)).toBeGreaterThan(1000);
  });

  it.each(byMutation)(
    '%s',
    async (name) => {
      const problems: string[] = [];
      let before = await state();
      for (const c of all.filter((x) => x.op.field.name === name)) {
        for (const value of c.values) {
          const fill = fillFrom(fixture);
          // The admin's own user is never the target: a null role or a deactivation would end the run.
          const vars = inject(c.op, variablesOf(c.op, fill), c.path, value, fill);
          if (JSON.stringify(vars).includes(admin.userId)) continue;
          const shown = JSON.stringify(value)?.slice(0, 40) ?? 'undefined';
          const res = await fetch(`${t.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.accessToken}` },
            body: JSON.stringify({ query: documentOf(c.op), variables: vars }),
          });
          const text = await res.text();
          const where = `${c.path.join('.')} = ${shown}: HTTP ${res.status} ${text.slice(0, 300)}`;
          if (res.status >= 500) problems.push(`5xx: ${where}`);
          if (/stacktrace|\bat \S+ \(|node_modules|\/work\/|\.[jt]s:\d+/.test(text)) problems.push(`internals shown: ${where}`);
          const body = JSON.parse(text) as { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
          for (const e of body.errors ?? []) if (!STABLE_CODES.has(String(e.extensions?.code))) problems.push(`${String(e.extensions?.code)}: ${where}`);
          const failed = !!body.errors?.length && (body.data == null || body.data[name] == null);
          if (!failed) await t.services.imports.idle();
          const after = await state();
          if (failed && after !== before) problems.push(`refused, yet wrote: ${where}`);
          before = after;
        }
      }
      expect(problems).toEqual([]);
    },
    120_000,
  );
});
