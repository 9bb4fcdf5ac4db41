import { Writable } from 'node:stream';
import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import { createLogger } from '../src/kernel/logger';
import { createTestDatabase, ownerQuery, type TestDatabase } from './helpers/db';
import { startServerProcess, type ServerProcess } from './helpers/server-process';

// A statement that fails in a way the service does not foresee is logged as an internal error. Its
// error (TypeORM's QueryFailedError, pg's DatabaseError within) carries the bound parameters and
// pg's detail ("Failing row contains (...)"): customer data, which must not reach the logs.
const SECRET = { lastName: 'Zebulon-Quixote', email: 'hidden.person@private.test', company: 'Covert Holdings' };

describe('logs of failed statements', () => {
  let db: TestDatabase;
  let server: ServerProcess;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServerProcess(db, { LOG_LEVEL: 'info', NODE_ENV: 'test', WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false' });
    const r = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'mutation { signUp(input: { workspaceName: "Logs Co", name: "Admin", email: "admin@logs.test", password: "correct horse battery" }) { accessToken } }',
      }),
    });
    token = ((await r.json()) as { data: { signUp: { accessToken: string } } }).data.signUp.accessToken;
    // A constraint the service knows nothing of: inserting a lead without a phone now fails in SQL
    // (23502, with the whole row in pg's detail).
    await ownerQuery(db.ownerUrl, 'ALTER TABLE lead ALTER COLUMN phone SET NOT NULL');
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  const failures = () => server.logs().filter((l) => l.level === 50);
  const expectNoSecret = (text: string) => {
    for (const value of Object.values(SECRET)) expect(text).not.toContain(value);
  };

  it('over GraphQL: the error is logged with its SQLSTATE and statement, without parameters or row data', async () => {
    const before = failures().length;
    const r = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation($i: CreateLeadInput!) { createLead(input: $i) { id } }', variables: { i: SECRET } }),
    });
    const body = (await r.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    await waitFor(() => failures().length > before);
    const [entry] = failures().slice(before);
    expect(entry.msg).toBe('internal error');
    const err = entry.err as Record<string, any>;
    // Still useful: what failed and where.
    expect(err.message).toMatch(/null value in column "phone"/);
    expect(err.driverError?.code ?? err.code).toBe('23502');
    expect(err.query).toMatch(/INSERT INTO/i);
    expect(err.parameters).toBe('[redacted]');
    expectNoSecret(JSON.stringify(entry));
    expectNoSecret(server.stdout() + server.stderr());
  });

  it('from the public intake: the same', async () => {
    const rotated = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation { rotateIntakeToken }' }),
    });
    const intake = ((await rotated.json()) as { data: { rotateIntakeToken: string } }).data.rotateIntakeToken;
    const before = failures().length;
    const r = await fetch(`${server.url}/intake/${intake}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SECRET) });
    expect(r.status).toBe(500);
    await waitFor(() => failures().length > before);
    const [entry] = failures().slice(before);
    expect(entry.msg).toBe('intake failed');
    expect((entry.err as Record<string, unknown>).parameters).toBe('[redacted]');
    expectNoSecret(server.stdout() + server.stderr());
  });
});

describe('the error serializer, on real pg errors of every shape', () => {
  let db: TestDatabase;
  let pg: Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.ownerUrl });
    await pg.connect();
    await pg.query('CREATE TABLE secret_row (id int PRIMARY KEY, email text UNIQUE, note text NOT NULL)');
    await pg.query(`INSERT INTO secret_row VALUES (1, $1, 'x')`, [SECRET.email]);
  });
  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  });

  /** What one `log.error({ err })` writes. */
  const logged = (err: unknown) => {
    let line = '';
    const log = createLogger('info', new Writable({ write: (chunk, _enc, done) => void ((line += String(chunk)), done()) }) as never);
    log.error({ err }, 'failed');
    (log as unknown as { flush?: () => void }).flush?.();
    return line;
  };
  const failing = async (sql: string, params: unknown[]) => {
    try {
      await pg.query(sql, params);
    } catch (err) {
      return err as Error & { code: string };
    }
    throw new Error('the statement did not fail');
  };

  it.each([
    ['a unique key (detail: Key (email)=(...))', `INSERT INTO secret_row VALUES (2, $1, 'y')`, [SECRET.email], '23505'],
    ['a not-null column (detail: Failing row contains (...))', `INSERT INTO secret_row VALUES (3, $1, NULL)`, [SECRET.company], '23502'],
    ['a value of the wrong type (the value in the message)', `SELECT $1::uuid`, [SECRET.lastName], '22P02'],
    ['a date out of range (the value in the message)', `SELECT $1::date`, [`${SECRET.lastName} 2024-13-45`], '22007'],
  ])('%s', async (_what, sql, params, code) => {
    const driverError = await failing(sql, params);
    expect(driverError.code).toBe(code);
    expect(JSON.stringify({ ...driverError, message: driverError.message })).toMatch(new RegExp(Object.values(SECRET).join('|')));
    const shapes: [string, unknown][] = [
      ['pg error', driverError],
      ['QueryFailedError', new QueryFailedError(sql, params, driverError)],
      ['as a cause', new Error('outer', { cause: new QueryFailedError(sql, params, driverError) })],
      ['in an AggregateError', new AggregateError([new QueryFailedError(sql, params, driverError)], 'several')],
    ];
    for (const [shape, err] of shapes) {
      const line = logged(err);
      // What failed is still said (the code, or for a cause, its message).
      expect([shape, line]).toEqual([shape, expect.stringMatching(shape === 'as a cause' ? driverError.message.slice(0, 20) : code)]);
      for (const value of Object.values(SECRET)) expect([shape, line]).toEqual([shape, expect.not.stringContaining(value)]);
    }
  });
});

async function waitFor(done: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the log line');
    await new Promise((r) => setTimeout(r, 20));
  }
}
