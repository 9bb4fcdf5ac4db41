import { startTestApp, type TestApp } from './helpers/app';

/** GET /readyz: ready when the database answers and has applied every migration this code has. */
describe('/readyz', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false' });
  });
  afterAll(() => t.close());

  const ready = async () => {
    const res = await fetch(`${t.url}/readyz`);
    return { status: res.status, body: await res.json() };
  };

  it('answers 200 when every migration of the code is applied', async () => {
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('answers 503 naming the migrations the database has not applied, and 200 again once they are', async () => {
    const applied = await t.sql<{ id: number; timestamp: string; name: string }>(`SELECT id, timestamp::text, name FROM migrations ORDER BY id DESC LIMIT 2`);
    expect(applied).toHaveLength(2);
    // As if the code were a version ahead of the database: its last two migrations are not there yet.
    await t.sql(`DELETE FROM migrations WHERE id = ANY($1::int[])`, [applied.map((m) => m.id)]);
    try {
      expect(await ready()).toEqual({ status: 503, body: { status: 'pending migrations', pending: applied.map((m) => m.name).reverse() } });
    } finally {
      for (const m of applied) await t.sql(`INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)`, [m.id, m.timestamp, m.name]);
    }
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('a database from before the service role could read the migrations table counts as one with pending migrations', async () => {
    await t.sql(`REVOKE SELECT ON migrations FROM trellis_app`);
    try {
      expect(await ready()).toEqual({ status: 503, body: { status: 'pending migrations' } });
    } finally {
      await t.sql(`GRANT SELECT ON migrations TO trellis_app`);
    }
    expect((await ready()).status).toBe(200);
  });

  it('a migration applied that this code does not know (a newer instance’s, in a rolling deploy) does not make it unready', async () => {
    await t.sql(`INSERT INTO migrations (timestamp, name) VALUES (9999999999999, 'FromTheFuture9999999999999')`);
    try {
      expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });
    } finally {
      await t.sql(`DELETE FROM migrations WHERE name = 'FromTheFuture9999999999999'`);
    }
  });
});
