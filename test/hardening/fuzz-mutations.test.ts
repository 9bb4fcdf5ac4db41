import fc from 'fast-check';
import type { Client } from 'pg';
import { buildSchema } from '../../src/server/schema';
import { signUp, type SignedUp, type TestApp } from '../helpers/app';
import { variablesArbitrary } from './support/arbitraries';
import { ownerClient, startHardeningApp } from './support/app';
import { buildFixture, type Fixture } from './support/fixture';
import { documentOf, rootFields } from './support/schema-walk';
import { tableMarks, tenantTables } from './support/snapshot';

/**
 * Property-based fuzzing of every mutation's input: variables of the mutation's own types, with
 * wild values, sent by an ADMIN. Whatever is sent, the answer is well formed: every error has a
 * stable code (never INTERNAL_SERVER_ERROR), no stack trace or file path shows, no 5xx; and when the
 * mutation answered only errors, the database is as it was (every tenant table's rows counted and
 * their versions compared). Seeded: HARDENING_SEED replays a run; HARDENING_FUZZ_RUNS sets the runs
 * per mutation (default 25).
 */

const SEED = Number(process.env.HARDENING_SEED ?? 20251127);
const RUNS = Number(process.env.HARDENING_FUZZ_RUNS ?? 25);
const STABLE_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'QUERY_TOO_COMPLEX',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);
const schema = buildSchema();
const mutations = rootFields(schema, 'Mutation');
/** A per-mutation seed, so that each mutation's run replays on its own. */
const seedOf = (name: string) => [...name].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, SEED);

describe('fuzzing every mutation', () => {
  let t: TestApp;
  let owner: Client;
  let admin: SignedUp;
  let fixture: Fixture;
  let ids: string[];
  let tables: string[];
  beforeAll(async () => {
    // Workers off and rate limits off: nothing changes the database but the mutation under test.
    t = await startHardeningApp({
      WEBHOOK_WORKERS: 'false',
      AUTOMATION_WORKERS: 'false',
      RATE_LIMIT_REFILL_PER_SECOND: '0',
      LOGIN_ATTEMPTS_PER_ACCOUNT: '10000',
      ...(process.env.HARDENING_LOG ? { LOG_LEVEL: process.env.HARDENING_LOG } : {}),
    });
    owner = await ownerClient(t);
    admin = await signUp(t, 'Fuzzed');
    fixture = await buildFixture(t, admin, 'Fuzz', null);
    // Every record's id, but the fuzzing admin's own (a run could demote or deactivate it).
    ids = Object.values(fixture.ids).filter((id) => id !== admin.userId);
    tables = await tenantTables(owner);
  }, 60_000);
  /** Per mutation: how many runs were written, refused by the service, or refused before it (HTTP 400). */
  const tally = new Map<string, { written: number; refused: number; early: number }>();
  afterAll(async () => {
    const lines = [...tally].map(([m, c]) => `${m}: ${c.written} written, ${c.refused} refused by the service, ${c.early} refused before it`);
    console.log(`fuzz (HARDENING_SEED=${SEED}, ${RUNS} runs each):\n${lines.join('\n')}`);
    await owner?.end();
    await t?.close();
  });

  /** Rows per table and the newest row version (xmin): any insert, update or delete changes it. */
  const state = () => tableMarks(owner, tables);

  it('fuzzes every mutation of the schema', () => {
    expect(mutations.length).toBeGreaterThan(60);
  });

  it.each(mutations.map((m) => [m.name, m] as const))(
    '%s: only well-formed errors, and nothing written when it fails',
    async (name, field) => {
      const query = documentOf({ root: 'Mutation', field });
      let before = await state();
      const seed = seedOf(name);
      const property = fc.asyncProperty(variablesArbitrary(field, ids), async (variables) => {
        const res = await fetch(`${t.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.accessToken}` },
          body: JSON.stringify({ query, variables }),
        });
        const text = await res.text();
        const where = `${name} (seed ${seed}): HTTP ${res.status} ${text.slice(0, 600)}`;
        if (res.status >= 500) throw new Error(`5xx: ${where}`);
        if (/stacktrace|\bat \S+ \(|node_modules|\/work\/|\.[jt]s:\d+/.test(text)) throw new Error(`internals shown: ${where}`);
        let body: { data?: Record<string, unknown> | null; errors?: { message?: unknown; extensions?: { code?: unknown } }[] };
        try {
          body = JSON.parse(text);
        } catch {
          throw new Error(`not JSON: ${where}`);
        }
        for (const e of body.errors ?? []) {
          if (typeof e.message !== 'string' || !STABLE_CODES.has(String(e.extensions?.code)))
            throw new Error(`unstable error code ${String(e.extensions?.code)}: ${where}`);
        }
        const failed = !!body.errors?.length && (body.data == null || body.data[name] == null);
        const count = tally.get(name) ?? { written: 0, refused: 0, early: 0 };
        tally.set(name, count);
        count[!failed ? 'written' : res.status === 200 ? 'refused' : 'early']++;
        if (!failed) {
          // It wrote: an import started by it finishes before the next run compares anything.
          await t.services.imports.idle();
        }
        const after = await state();
        if (failed) {
          const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
          if (changed.length) throw new Error(`refused, yet changed ${changed.join(', ')}: ${where}`);
        }
        before = after;
      });
      await fc.assert(property, {
        numRuns: RUNS,
        seed,
        timeout: 20_000,
        // No shrinking unless asked (each step is a request); HARDENING_SHRINK=1 finds a smaller input.
        endOnFailure: process.env.HARDENING_SHRINK !== '1',
        reporter: (run) => {
          if (!run.failed) return;
          const example = JSON.stringify(run.counterexample) ?? 'undefined';
          throw new Error(
            `${name} failed after ${run.numRuns} runs (replay: HARDENING_SEED=${SEED}, fast-check seed ${run.seed}, path "${run.counterexamplePath}")\n` +
              `${String((run.errorInstance as Error | undefined)?.message ?? run.errorInstance).slice(0, 1500)}\ncounterexample: ${example.length > 1500 ? `${example.slice(0, 1500)}... (${example.length} chars)` : example}`,
          );
        },
      });
      // The admin still works afterwards (no run locked it out or broke the connection pool).
      const me = await t.gql('{ me { role workspace { id } } }', {}, admin.accessToken);
      expect(me.data?.me).toEqual({ role: 'ADMIN', workspace: { id: admin.workspaceId } });
    },
    180_000,
  );
});
