import { Client } from 'pg';
import { TenantTransaction } from '../src/db/tenant-transaction';
import { connect } from '../src/db/data-source';
import { actorOf, scopesOfRole, type Viewer } from '../src/kernel/viewer';
import { apiKey, codes, signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';
import { Role } from '../src/kernel/roles';
import { ENTITIES } from '../src/modules/registry';

describe('tenancy: two walls', () => {
  let t: TestApp;
  let a: SignedUp;
  let b: SignedUp;
  let aRep: { id: string };
  beforeAll(async () => {
    t = await startTestApp();
    a = await signUp(t, 'A');
    b = await signUp(t, 'B');
    aRep = await userWithRole(t, a, 'REP');
    await apiKey(t, a, ['READ']);
  });
  afterAll(() => t.close());

  it("answers another workspace's id exactly like a random id: NOT_FOUND", async () => {
    const foreign = await t.gql('query($id: ID!) { user(id: $id) { id email } }', { id: aRep.id }, b.accessToken);
    const random = await t.gql('query($id: ID!) { user(id: $id) { id email } }', { id: '00000000-0000-4000-8000-000000000000' }, b.accessToken);
    expect(codes(foreign)).toEqual(['NOT_FOUND']);
    expect(foreign.errors![0].message).toBe(random.errors![0].message);
    expect(foreign.data).toEqual(random.data);
    const update = await t.gql(`mutation { updateUser(id: "${aRep.id}", input: { name: "pwned" }) { id } }`, {}, b.accessToken);
    expect(codes(update)).toEqual(['NOT_FOUND']);
    const [row] = await t.sql<{ name: string }>('SELECT name FROM app_user WHERE id = $1', [aRep.id]);
    expect(row.name).not.toBe('pwned');
    const list = await t.gql('{ users(first: 500) { nodes { id } } }', {}, b.accessToken);
    expect(list.data.users.nodes.map((n: { id: string }) => n.id)).toEqual([b.userId]);
  });

  it('the application role is no superuser and cannot bypass RLS', async () => {
    const [r] = await t.ds.query('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user');
    expect(r).toEqual({ rolsuper: false, rolbypassrls: false });
  });

  it('every table with a workspace_id has row-level security enabled and forced', async () => {
    const tables = await t.sql<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
      `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
         AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped) OR c.relname = 'workspace')`,
    );
    expect(tables.length).toBeGreaterThanOrEqual(6);
    for (const table of tables)
      expect({ table: table.relname, enabled: table.relrowsecurity, forced: table.relforcerowsecurity }).toEqual({
        table: table.relname,
        enabled: true,
        forced: true,
      });
  });

  it('RLS alone holds: raw SQL as the application role sees no row without a workspace, and only its own with one', async () => {
    const client = new Client({ connectionString: t.db.appUrl });
    await client.connect();
    try {
      for (const table of ['workspace', 'app_user', 'api_key', 'refresh_token', 'event', 'team']) {
        const total = (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;
        const seen = (await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
        expect({ table, seen }).toEqual({ table, seen: 0 });
        if (table !== 'team') expect(total).toBeGreaterThan(0);
      }
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.workspace_id', $1, true)`, [b.workspaceId]);
      // No workspace filter in the SQL: only the policy stands between B and A's users.
      const users = (await client.query('SELECT workspace_id FROM app_user')).rows;
      expect(users.length).toBeGreaterThan(0);
      expect(users.every((u) => u.workspace_id === b.workspaceId)).toBe(true);
      await expect(client.query(`INSERT INTO team (workspace_id, id, name, version) VALUES ($1, gen_random_uuid(), 'x', 1)`, [a.workspaceId])).rejects.toThrow(
        /row-level security/,
      );
      await client.query('ROLLBACK');
      // After the transaction the setting is gone again.
      expect((await client.query('SELECT count(*)::int AS n FROM app_user')).rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('the application filter alone holds: services scope by workspace even where RLS does not apply', async () => {
    // The superuser bypasses RLS, so only the services' own `workspace_id = $1` keeps B out of A.
    const owner = await connect({ entities: ENTITIES, url: t.db.ownerUrl, poolSize: 1 });
    const tx = new TenantTransaction(owner, b.workspaceId);
    try {
      const viewer: Viewer = {
        kind: 'USER',
        workspaceId: b.workspaceId,
        userId: b.userId,
        apiKeyId: null,
        role: Role.ADMIN,
        teamId: null,
        scopes: scopesOfRole(Role.ADMIN),
      };
      const ctx = { tx, viewer, actor: actorOf(viewer) };
      await expect(t.services.users.get(ctx, aRep.id)).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
      const page = await t.services.users.list(ctx, { first: 500 });
      expect(page.edges.map((e) => e.node.workspaceId)).toEqual([b.workspaceId]);
      expect(await page.countQuery()).toBe(1);
    } finally {
      await tx.rollback();
      await owner.destroy();
    }
  });
});
