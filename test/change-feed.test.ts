import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { codes, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

const FEED =
  'query($after: String, $types: [EntityType!], $first: Int) { changes(after: $after, types: $types, first: $first) { endCursor hasMore events { id type entityType entityId } } }';

describe('the change feed', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Feed Co');
  });
  afterAll(() => t.close());
  const feed = (v: Record<string, unknown> = {}) => t.gql(FEED, v, admin.accessToken);

  /**
   * The feed trails the oldest transaction running anywhere in the cluster, and other test files run
   * transactions of their own meanwhile: wait until what must show has shown.
   */
  async function readUntil(want: string[], after?: string): Promise<{ ids: string[]; cursor: string }> {
    const deadline = Date.now() + 30_000;
    let got = await readAll(after);
    while (!want.every((id) => got.ids.includes(id)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const more = await readAll(got.cursor);
      got = { ids: [...got.ids, ...more.ids], cursor: more.cursor };
    }
    return got;
  }

  async function readAll(after?: string, first = 3): Promise<{ ids: string[]; cursor: string }> {
    const ids: string[] = [];
    let cursor = after;
    for (;;) {
      const r = await feed({ after: cursor, first });
      expect(r.errors).toBeUndefined();
      ids.push(...r.data.changes.events.map((e: { id: string }) => e.id));
      cursor = r.data.changes.endCursor;
      if (!r.data.changes.hasMore) return { ids, cursor: cursor! };
    }
  }

  it('pages through every event of the workspace once, and resumes from the cursor', async () => {
    for (let i = 0; i < 5; i++) await t.gql(`mutation { createAccount(input: { name: "Feed ${i}" }) { id } }`, {}, admin.accessToken);
    const all = (await t.sql<{ id: string }>('SELECT id FROM event WHERE workspace_id = $1 ORDER BY tx_id, id', [admin.workspaceId])).map((e) => e.id);
    const { ids, cursor } = await readUntil(all);
    expect(ids).toEqual(all);
    await t.gql('mutation { createAccount(input: { name: "Later" }) { id } }', {}, admin.accessToken);
    const [later] = (await t.sql<{ id: string }>('SELECT max(id)::text AS id FROM event WHERE workspace_id = $1', [admin.workspaceId])).map((e) => e.id);
    const next = await readUntil([later], cursor);
    expect(next.ids).toEqual([later]);
    const empty = await feed({ after: next.cursor });
    expect(empty.data.changes).toMatchObject({ events: [], hasMore: false, endCursor: next.cursor });
  });

  it('filters by kind of record', async () => {
    const r = await feed({ types: ['WORKSPACE'], first: 100 });
    expect(r.data.changes.events.map((e: { type: string }) => e.type)).toEqual(['workspace.created']);
  });

  it('never skips an event whose transaction commits after a later one (the sequence gap problem)', async () => {
    const everything = (await t.sql<{ id: string }>('SELECT id FROM event WHERE workspace_id = $1', [admin.workspaceId])).map((e) => e.id);
    const { cursor } = await readUntil(everything);
    const connect = async () => {
      const c = new Client({ connectionString: t.db.appUrl });
      await c.connect();
      await c.query('BEGIN');
      await c.query(`SELECT set_config('app.workspace_id', $1, true)`, [admin.workspaceId]);
      return c;
    };
    const insert = (c: Client, type: string) =>
      c.query(`INSERT INTO event (workspace_id, type, entity_type, entity_id, actor_type) VALUES ($1, $2, 'account', $3, 'SYSTEM') RETURNING id`, [
        admin.workspaceId,
        type,
        randomUUID(),
      ]);
    const a = await connect();
    const b = await connect();
    try {
      await a.query('SELECT pg_current_xact_id()'); // A takes the older transaction id...
      await b.query('SELECT pg_current_xact_id()');
      const idB = (await insert(b, 'test.b')).rows[0].id; // ...but B takes the lower event id
      const idA = (await insert(a, 'test.a')).rows[0].id;
      expect(Number(idB)).toBeLessThan(Number(idA));
      await a.query('COMMIT');
      const seen = await readAll(cursor);
      // A committed; B is still running, so its (lower) event id must not be passed over: not shown yet.
      expect(seen.ids).not.toContain(idB);
      await b.query('COMMIT');
      const later = await readUntil(
        [idA, idB].filter((id) => !seen.ids.includes(id)),
        seen.cursor,
      );
      expect([...seen.ids, ...later.ids].sort()).toEqual([idA, idB].sort());
    } finally {
      await a.end().catch(() => undefined);
      await b.end().catch(() => undefined);
    }
  });

  it('refuses a malformed cursor and an expired one with a clear error', async () => {
    expect(codes(await feed({ after: 'garbage' }))).toEqual(['BAD_USER_INPUT']);
    const old = Buffer.from(`1:1:${Date.now() - 31 * 86_400_000}`).toString('base64url');
    const r = await feed({ after: old });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].extensions.reason).toBe('CURSOR_EXPIRED');
    expect(r.errors![0].message).toMatch(/retention/);
  });

  it("shows nothing of another workspace's events", async () => {
    const other = await signUp(t, 'Other feed');
    const theirs = (await t.sql<{ id: string }>('SELECT id FROM event WHERE workspace_id = $1', [other.workspaceId])).map((e) => e.id).sort();
    const deadline = Date.now() + 30_000;
    let seen: string[] = [];
    while (seen.length < theirs.length && Date.now() < deadline) {
      const r = await t.gql(FEED, { first: 1000 }, other.accessToken);
      seen = r.data.changes.events.map((e: { id: string }) => e.id).sort();
      if (seen.length < theirs.length) await new Promise((res) => setTimeout(res, 100));
    }
    expect(seen).toEqual(theirs);
  });
});
