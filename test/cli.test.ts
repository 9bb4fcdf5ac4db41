import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { MAVEN_DIR } from '../src/modules/workspaces/maven-dataset';
import { startTestAppOn, type TestApp } from './helpers/app';
import { createTestDatabase, ownerQuery } from './helpers/db';

// The admin CLI as an operator runs it: the compiled script in a child process, configured by its
// environment, against a real database; its effects are checked through the API and in SQL.
const CLI = join(__dirname, '..', 'scripts', 'trellis.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI (or `command prefix... args`, e.g. the bin through npx) from the repository root. */
function cli(args: string[], env: Record<string, string | undefined>, command = process.execPath, prefix = [CLI]): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Only what the CLI is given here: no DATABASE_URL or data folder leaks in from the test runner.
    const base = { PATH: process.env.PATH, HOME: process.env.HOME };
    const child = spawn(command, [...prefix, ...args], { env: { ...base, ...env }, cwd: join(__dirname, '..', '..') });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The value printed after `label` on its own indented line. */
function field(out: string, label: string): string {
  const m = new RegExp(`^\\s+${label}\\s+(\\S+)`, 'm').exec(out);
  if (!m) throw new Error(`no "${label}" in:\n${out}`);
  return m[1];
}

describe('the admin CLI', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let ws: { id: string; email: string; password: string; key: string };
  const events = (workspaceId: string) =>
    t.sql<{ type: string; actor_type: string; entity_id: string }>('SELECT type, actor_type, entity_id FROM event WHERE workspace_id = $1 ORDER BY id', [
      workspaceId,
    ]);

  beforeAll(async () => {
    const db = await createTestDatabase();
    env = { DATABASE_URL: db.appUrl, MIGRATION_DATABASE_URL: db.ownerUrl };
    // API_KEY_CACHE_MS=0: a key revoked by the CLI is refused at the next request.
    t = await startTestAppOn(db, { API_KEY_CACHE_MS: '0' });
  });
  afterAll(() => t?.close());

  it('workspace:create makes a workspace, its ADMIN and a working API key, each write with its SYSTEM event', async () => {
    const r = await cli(['workspace:create', '--name', 'Acme', '--admin-email', 'ada@acme.test', '--admin-name', 'Ada Lovelace'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    ws = { id: field(r.stdout, 'workspace id'), email: 'ada@acme.test', password: field(r.stdout, 'password'), key: field(r.stdout, 'API key') };
    expect(ws.password.length).toBeGreaterThanOrEqual(10);

    const me = await t.gql('{ me { kind scopes workspace { id name } } pipelines { nodes { name stages { name } } } }', {}, ws.key);
    expect(me.errors).toBeUndefined();
    expect(me.data.me).toEqual({ kind: 'API_KEY', scopes: ['READ', 'WRITE'], workspace: { id: ws.id, name: 'Acme' } });
    // The workspace initializers ran, as for a sign-up: the default pipeline is there.
    expect(me.data.pipelines.nodes[0].stages).toHaveLength(6);

    const login = await t.gql('mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { user { name role } workspace { id } } }', {
      e: ws.email,
      p: ws.password,
    });
    expect(login.errors).toBeUndefined();
    expect(login.data.logIn).toEqual({ user: { name: 'Ada Lovelace', role: 'ADMIN' }, workspace: { id: ws.id } });

    const log = await events(ws.id);
    expect(log.filter((e) => e.type !== 'user.logged_in').map((e) => [e.type, e.actor_type])).toEqual(
      expect.arrayContaining([
        ['workspace.created', 'SYSTEM'],
        ['pipeline.created', 'SYSTEM'],
        ['user.created', 'SYSTEM'],
        ['api_key.created', 'SYSTEM'],
      ]),
    );
    expect(log.filter((e) => e.type !== 'user.logged_in').every((e) => e.actor_type === 'SYSTEM')).toBe(true);
  });

  it('apikey:create gives a key with exactly the scopes asked for', async () => {
    const r = await cli(['apikey:create', '--workspace', ws.id, '--name', 'BI tool', '--scopes', 'READ'], env);
    expect(r.code).toBe(0);
    const secret = field(r.stdout, 'secret');
    const read = await t.gql('{ me { scopes } }', {}, secret);
    expect(read.data.me.scopes).toEqual(['READ']);
    const write = await t.gql('mutation { createAccount(input: { name: "Nope" }) { id } }', {}, secret);
    expect(write.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect((await events(ws.id)).filter((e) => e.type === 'api_key.created' && e.entity_id === field(r.stdout, 'id'))).toEqual([
      expect.objectContaining({ actor_type: 'SYSTEM' }),
    ]);
  });

  it('apikey:revoke stops a key', async () => {
    const created = await cli(['apikey:create', '--workspace', ws.id, '--name', 'ERP', '--scopes', 'READ,WRITE'], env);
    const id = field(created.stdout, 'id');
    const secret = field(created.stdout, 'secret');
    expect((await t.gql('{ me { kind } }', {}, secret)).errors).toBeUndefined();

    const r = await cli(['apikey:revoke', '--workspace', ws.id, '--id', id], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('API key "ERP" revoked.');
    expect((await t.gql('{ me { kind } }', {}, secret)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await events(ws.id)).filter((e) => e.type === 'api_key.revoked')).toEqual([expect.objectContaining({ entity_id: id, actor_type: 'SYSTEM' })]);
  });

  it('password:reset sets a generated or given password and ends the sessions', async () => {
    const session = await t.gql('mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { refreshToken } }', { e: ws.email, p: ws.password });
    const generated = await cli(['password:reset', '--workspace', ws.id, '--email', 'ADA@acme.test'], env);
    expect(generated.code).toBe(0);
    const password = field(generated.stdout, 'password');
    const logIn = (p: string) => t.gql('mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }', { e: ws.email, p });
    expect((await logIn(ws.password)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await logIn(password)).errors).toBeUndefined();
    const refresh = await t.gql('mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }', { t: session.data.logIn.refreshToken });
    expect(refresh.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');

    const given = await cli(['password:reset', '--workspace', ws.id, '--email', ws.email, '--password', 'a chosen passphrase'], env);
    expect(given.code).toBe(0);
    expect(given.stdout).not.toContain('a chosen passphrase');
    expect((await logIn('a chosen passphrase')).errors).toBeUndefined();
    expect((await events(ws.id)).filter((e) => e.type === 'user.updated' && e.actor_type === 'SYSTEM')).toHaveLength(2);
  });

  it.each([
    [['workspace:create', '--name', 'X', '--admin-name', 'Y'], /required option '--admin-email <email>'/],
    [['workspace:create', '--name', 'X', '--admin-name', 'Y', '--admin-email', 'not-an-email'], /--admin-email must be an email/],
    [
      ['workspace:create', '--name', 'X', '--admin-name', 'Y', '--admin-email', 'y@x.test', '--password', 'short'],
      /--password must be longer than or equal to 10 characters/,
    ],
    [['apikey:create', '--workspace', 'abc', '--name', 'k', '--scopes', 'READ'], /--workspace must be a workspace id/],
    [['apikey:create', '--workspace', '00000000-0000-4000-8000-000000000000', '--name', 'k', '--scopes', 'READ'], /no workspace 00000000/],
    [
      ['apikey:create', '--workspace', '00000000-0000-4000-8000-000000000000', '--name', 'k', '--scopes', 'ADMIN'],
      /--scopes must be READ, WRITE or READ,WRITE/,
    ],
    [['apikey:revoke', '--workspace', '00000000-0000-4000-8000-000000000000', '--id', 'nope'], /--id must be an API key id/],
    [['password:reset', '--workspace', '00000000-0000-4000-8000-000000000000'], /required option '--email <email>'/],
    [['workspace:delete'], /unknown command 'workspace:delete'/],
    [[], /Usage: trellis/],
  ])('refuses bad arguments with a clear message and exit code 2: %j', async (args, message) => {
    const r = await cli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    // One line, except for the usage shown when no command is given at all.
    if (args.length) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses an unknown API key id and an unknown email of an existing workspace (exit 2)', async () => {
    const key = await cli(['apikey:revoke', '--workspace', ws.id, '--id', '00000000-0000-4000-8000-000000000000'], env);
    expect([key.code, key.stderr.trim()]).toEqual([2, 'trellis: API key not found']);
    const user = await cli(['password:reset', '--workspace', ws.id, '--email', 'nobody@acme.test'], env);
    expect([user.code, user.stderr.trim()]).toEqual([2, `trellis: no user with email nobody@acme.test in workspace ${ws.id}`]);
  });

  it('import and export hand their arguments to the API scripts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-cli-'));
    try {
      const file = join(dir, 'contacts.csv');
      writeFileSync(file, 'firstName,lastName,email\nGrace,Hopper,grace@navy.test\nAlan,Turing,alan@bletchley.test\n');
      const api = { TRELLIS_URL: `${t.url}/graphql`, TRELLIS_API_KEY: ws.key };
      const imported = await cli(['import', '--file', file, '--entity', 'contacts'], api);
      expect(imported.stdout).toContain('2 rows: 2 created, 0 updated, 0 unchanged, 0 failed (matched on EMAIL)');
      expect(imported.code).toBe(0);
      const exported = await cli(['export', '--entity', 'contacts', '--format', 'ndjson', '--filter', '{"email":{"eq":"grace@navy.test"}}'], api);
      expect(exported.code).toBe(0);
      expect(
        exported.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).lastName),
      ).toEqual(['Hopper']);
      // The scripts' own argument checks still apply.
      const bad = await cli(['export', '--entity', 'planets'], api);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/--entity must be one of/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('as the package bin (npx trellis), against the API', () => {
    const BIN = join(__dirname, '..', '..', 'bin', 'trellis.js');
    const run = (args: string[], env: Record<string, string>, command = process.execPath, prefix = [BIN]) => cli(args, env, command, prefix);
    let dir: string;
    let api: Record<string, string>;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'trellis-cli-'));
      api = { TRELLIS_URL: `${t.url}/graphql`, TRELLIS_API_KEY: ws.key };
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('npx trellis export writes NDJSON and nothing else on stdout (no npm banner)', async () => {
      const r = await run(['trellis', 'export', '--entity', 'contacts', '--format', 'ndjson'], api, 'npx', ['--no-install']);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const line of lines) expect(JSON.parse(line)).toHaveProperty('id');
      expect(r.stderr).toMatch(/exported \d+ in/);
    });

    it('a missing input file is one line naming it, exit 1', async () => {
      const r = await run(['import', '--file', join(dir, 'nope.csv'), '--entity', 'contacts'], api);
      expect([r.code, r.stderr.trim()]).toEqual([1, `trellis import: cannot read ${join(dir, 'nope.csv')}: no such file`]);
      expect(r.stdout).toBe('');
    });

    it('an unreachable server is named with the cause', async () => {
      // A port nothing listens on: taken from the system, then let go.
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo;
          probe.close(() => resolve(port));
        });
      });
      writeFileSync(join(dir, 'one.csv'), 'lastName\nLovelace\n');
      for (const command of [
        ['export', '--entity', 'contacts'],
        ['import', '--file', join(dir, 'one.csv'), '--entity', 'contacts'],
      ]) {
        const r = await run(command, { ...api, TRELLIS_URL: `http://127.0.0.1:${port}/graphql` });
        expect(r.code).toBe(1);
        expect(r.stderr.trim().split('\n').pop()).toBe(
          `trellis ${command[0]}: cannot reach http://127.0.0.1:${port}/graphql: connect ECONNREFUSED 127.0.0.1:${port} (is the server running? set TRELLIS_URL or --url)`,
        );
      }
      const notCsv = await run(['import', '--file', join(__dirname, '..', '..', 'package.json'), '--entity', 'contacts'], api);
      expect([notCsv.code, notCsv.stderr]).toEqual([1, expect.stringMatching(/^trellis import: \S+package\.json is not CSV: /)]);
      // Something else on the port (not GraphQL) is said to be so.
      const r = await run(['export', '--entity', 'contacts'], { ...api, TRELLIS_URL: `${t.url}/healthz-not-here` });
      expect(r.stderr).toMatch(/answered HTTP 404 .*not GraphQL/);
    });

    it('import progress prints periodic lines when stderr is not a terminal, ending with the total', async () => {
      const file = join(dir, 'many.csv');
      writeFileSync(file, 'lastName,email\n' + Array.from({ length: 1500 }, (_, i) => `Bulk${i},bulk${i}@cli.test\n`).join(''));
      const r = await run(['import', '--file', file, '--entity', 'contacts'], { ...api, TRELLIS_PROGRESS_INTERVAL_MS: '50' });
      expect(r.code).toBe(0);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('importing'));
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines[lines.length - 1]).toMatch(/100% \| 1500 \/ 1500 rows/);
      expect(r.stdout).toContain('1500 rows: 1500 created, 0 updated, 0 unchanged, 0 failed (matched on EMAIL)');
    });
  });

  it('seed:demo loads the Maven sample once', async () => {
    const first = await cli(['seed:demo'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Demo workspace "Demo Company" created.');
    const key = field(first.stdout, 'API key');
    const deals = parse(readFileSync(join(MAVEN_DIR, 'sales_pipeline.csv')), { columns: true }) as unknown[];
    const r = await t.gql('{ me { workspace { name } } opportunities { totalCount } accounts { totalCount } }', {}, key);
    expect(r.data).toEqual({ me: { workspace: { name: 'Demo Company' } }, opportunities: { totalCount: deals.length }, accounts: { totalCount: 85 } });

    const again = await cli(['seed:demo'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('The demo workspace exists already.');
    expect(field(again.stdout, 'workspace id')).toBe(field(first.stdout, 'workspace id'));
    expect(await t.sql(`SELECT id FROM workspace WHERE name = 'Demo Company'`)).toHaveLength(1);
  }, 120_000);

  it('migrate applies the migrations to an empty database, then finds nothing to do', async () => {
    const name = `trellis_cli_${Date.now()}`;
    const server = t.db.ownerUrl.replace(/\/[^/]+$/, '/postgres');
    await ownerQuery(server, `CREATE DATABASE ${name}`);
    try {
      const empty = { DATABASE_URL: t.db.appUrl.replace(/\/[^/]+$/, `/${name}`), MIGRATION_DATABASE_URL: t.db.ownerUrl.replace(/\/[^/]+$/, `/${name}`) };
      const before = await cli(['workspace:create', '--name', 'Early', '--admin-email', 'e@x.test', '--admin-name', 'E'], empty);
      expect([before.code, before.stderr.trim()]).toEqual([1, 'trellis: the database has no Trellis tables yet: run `npm run trellis -- migrate` first']);
      const first = await cli(['migrate'], empty);
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^Applied \d+ migration\(s\):\n {2}Foundation\d+\n/);
      const second = await cli(['migrate'], empty);
      expect(second.stdout).toBe('The database is up to date.\n');
      const created = await cli(['workspace:create', '--name', 'Late', '--admin-email', 'l@x.test', '--admin-name', 'L'], empty);
      expect(created.code).toBe(0);
    } finally {
      await ownerQuery(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  }, 60_000);

  it('without DATABASE_URL, starts the embedded PostgreSQL of the data folder, migrates it, and stops it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trellis-cli-data-'));
    try {
      const embedded = { TRELLIS_DATA_DIR: dataDir };
      // Arguments are checked before any database is started.
      const refused = await cli(['workspace:create', '--name', 'Laptop', '--admin-email', 'nope', '--admin-name', 'Me'], embedded);
      expect(refused.code).toBe(2);
      expect(existsSync(join(dataDir, 'pg'))).toBe(false);
      const created = await cli(['workspace:create', '--name', 'Laptop', '--admin-email', 'me@laptop.test', '--admin-name', 'Me'], embedded);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      expect(existsSync(join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
      expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
      // The data stayed: a second run finds the workspace.
      const key = await cli(['apikey:create', '--workspace', field(created.stdout, 'workspace id'), '--name', 'k', '--scopes', 'READ'], embedded);
      expect(key.code).toBe(0);
      expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
