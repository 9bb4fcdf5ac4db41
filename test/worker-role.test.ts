import { Client } from 'pg';
import { signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

/**
 * The request role cannot reach across workspaces (finding 10 of issue 17): the workers' SECURITY
 * DEFINER functions (worker_*) are refused to it, and no function it may call returns a password or
 * token hash. The workers connect as their own role (WORKER_DATABASE_URL; generated in embedded
 * mode, as the test setup does), which the request role cannot SET ROLE to.
 */
describe('the request role and the workers’ role', () => {
  let t: TestApp;
  let a: SignedUp;
  let app: Client;
  let worker: Client;

  beforeAll(async () => {
    t = await startTestApp();
    a = await signUp(t, 'Role Co');
    await signUp(t, 'Other Co');
    app = new Client({ connectionString: t.db.appUrl });
    await app.connect();
    worker = new Client({ connectionString: t.db.workerUrl });
    await worker.connect();
  });
  afterAll(async () => {
    await app?.end();
    await worker?.end();
    await t?.close();
  });

  /** Every worker_* function, with a call of it on NULL arguments of its types. */
  const workerFunctions = async () =>
    t.sql<{ signature: string; call: string }>(
      `SELECT p.oid::regprocedure::text AS signature,
              p.proname || '(' || coalesce((SELECT string_agg('NULL::' || format_type(a, NULL), ', ') FROM unnest(p.proargtypes) a), '') || ')' AS call
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'public' AND p.proname LIKE 'worker\\_%' ORDER BY 1`,
    );

  it('refuses every worker_* function to the request role (permission denied), from a bare connection and inside a workspace transaction', async () => {
    const fns = await workerFunctions();
    expect(fns.map((f) => f.signature)).toEqual(
      expect.arrayContaining([
        'worker_events_after(xid8,bigint,integer)',
        'worker_events_head()',
        'worker_claim_webhook_deliveries(timestamp with time zone,integer,integer)',
      ]),
    );
    for (const fn of fns) {
      await expect(app.query(`SELECT * FROM ${fn.call}`)).rejects.toMatchObject({ code: '42501' });
      await app.query('BEGIN');
      await app.query(`SELECT set_config('app.workspace_id', $1, true)`, [a.workspaceId]);
      await expect(app.query(`SELECT * FROM ${fn.call}`)).rejects.toMatchObject({ code: '42501' });
      await app.query('ROLLBACK');
    }
  });

  it('lets the workers’ role call them; the request role cannot become it', async () => {
    // The function returns only events older than every transaction still open on the server, which
    // other test files share: wait until theirs have ended.
    let workspaces = 0;
    for (const deadline = Date.now() + 30_000; workspaces < 2 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      workspaces = (await worker.query(`SELECT DISTINCT workspace_id FROM worker_events_after('0'::xid8, 0, 1000)`)).rows.length;
    }
    expect(workspaces).toBeGreaterThanOrEqual(2);
    const [{ rolname }] = (await worker.query('SELECT current_user AS rolname')).rows;
    for (const role of [rolname, 'trellis_worker', 'trellis_auth', 'postgres']) {
      await expect(app.query(`SET ROLE ${role}`)).rejects.toMatchObject({ code: '42501' });
    }
  });

  it('gives the request role no function that returns a password or token hash', async () => {
    // Every function in the schema the request role may execute, with the columns it returns.
    const reachable = await app.query<{ signature: string; result: string }>(
      `SELECT p.oid::regprocedure::text AS signature, pg_get_function_result(p.oid) AS result
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'public' AND has_function_privilege(p.oid, 'EXECUTE')`,
    );
    expect(reachable.rows.map((r) => r.signature)).toEqual(expect.arrayContaining(['auth_login_candidates(text)']));
    for (const fn of reachable.rows)
      expect({ fn: fn.signature, result: fn.result }).toEqual({ fn: fn.signature, result: expect.not.stringMatching(/hash|password|secret/i) });
    const rows = (await app.query('SELECT * FROM auth_login_candidates($1)', [a.email])).rows;
    expect(rows).toEqual([{ user_id: a.userId, workspace_id: a.workspaceId }]);
    expect(JSON.stringify(rows)).not.toContain('$argon2');
  });

  it('still signs users in, and the workers still read the log', async () => {
    const r = await t.gql(`mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { user { id } } }`, { e: a.email, p: a.password });
    expect(r.data.logIn.user.id).toBe(a.userId);
    const wrong = await t.gql(`mutation($e: String!) { logIn(email: $e, password: "not the password") { user { id } } }`, { e: a.email });
    expect(wrong.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await t.services.eventBus.start().then(() => true)).toBe(true);
  });
});
