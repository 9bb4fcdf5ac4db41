import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiKey, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';
import { runProgram } from './helpers/programs';

const ROOT = join(__dirname, '..', '..');

describe('examples/', () => {
  it('commits the types graphql-codegen generates today (run `npm run codegen` when this fails)', () => {
    // What `npm run codegen` would write, without writing it. In a child process: graphql-codegen's
    // plugins load ES modules that jest's module system cannot.
    const generated = execFileSync(process.execPath, [join(ROOT, 'dist', 'scripts', 'codegen.js'), '--stdout'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(readFileSync(join(ROOT, 'examples', 'generated', 'graphql.ts'), 'utf8')).toBe(generated);
  }, 60_000);

  describe('run against a server', () => {
    let t: TestApp;
    let admin: SignedUp;
    let env: Record<string, string>;
    // Compiled as a user would (`npx tsc -p examples`), into dist/examples.
    const built = (file: string) => join(ROOT, 'dist', 'examples', file);

    beforeAll(async () => {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'examples', 'tsconfig.json')], {
        stdio: 'pipe',
      });
      t = await startTestApp();
      admin = await signUp(t, 'Examples Inc');
      const key = await apiKey(t, admin, ['READ']);
      env = { TRELLIS_URL: `${t.url}/graphql`, TRELLIS_WS_URL: `${t.url.replace('http', 'ws')}/graphql`, TRELLIS_API_KEY: key.secret };
    }, 60_000);
    afterAll(() => t?.close());

    it('the typed client lists the open opportunities, biggest first', async () => {
      for (const [name, amount] of [
        ['Small deal', '1000.00'],
        ['Big deal', '250000.00'],
        ['Middle deal', '42000.50'],
      ]) {
        const r = await t.gql(
          'mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id } }',
          { i: { name, amount: { amount, currency: 'EUR' } } },
          admin.accessToken,
        );
        expect(r.errors).toBeUndefined();
      }
      const run = await runProgram(built('client/list-opportunities.js'), { env });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const lines = run.stdout.trim().split('\n');
      expect(lines[0]).toBe('3 open opportunities');
      expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([
        ['Big deal', '250000.00 EUR'],
        ['Middle deal', '42000.50 EUR'],
        ['Small deal', '1000.00 EUR'],
      ]);
    });

    it('the activity-feed listener prints activities as they are logged', async () => {
      let n = 0;
      const run = await runProgram(built('activity-feed/listen.js'), {
        env: { ...env, ONLY_TYPES: 'CALL' },
        until: 'Call with Grace',
        // Activities keep coming until the listener (connected some time after it starts) shows one.
        // A tick may still be on its way when the listener has shown what we waited for and the
        // test moves on: its failure then says nothing about the listener.
        onTick: async () => {
          n++;
          try {
            await t.gql(
              'mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }',
              { i: { type: 'NOTE', subject: `Note ${n}` } },
              admin.accessToken,
            );
            await t.gql(
              'mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }',
              { i: { type: 'CALL', subject: `Call with Grace ${n}` } },
              admin.accessToken,
            );
          } catch {
            /* see above */
          }
        },
      });
      expect(run.stdout).toMatch(/CREATED +CALL +Call with Grace \d+ {2}\(.+; by USER\)/);
      // The filter holds: no NOTE comes through.
      expect(run.stdout).not.toContain('NOTE');
    });
  });
});
