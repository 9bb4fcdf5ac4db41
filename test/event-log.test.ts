import { Client, type Notification } from 'pg';
import { codes, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

interface EventRow {
  id: string;
  type: string;
  entity_type: string;
  entity_id: string;
  actor_type: string;
  actor_id: string | null;
  changes: { field: string; old: unknown; new: unknown }[];
  data: Record<string, unknown> | null;
  workspace_id: string;
}

describe('the event log', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Events Inc');
  });
  afterAll(() => t.close());

  const eventsOf = (entityId: string) => t.sql<EventRow>('SELECT * FROM event WHERE entity_id = $1 ORDER BY id', [entityId]);

  it('records the workspace and its first user at sign-up, with the actor and the created fields', async () => {
    const [ws] = await eventsOf(admin.workspaceId);
    expect(ws).toMatchObject({
      type: 'workspace.created',
      entity_type: 'workspace',
      actor_type: 'USER',
      actor_id: admin.userId,
      workspace_id: admin.workspaceId,
    });
    const [user] = (await eventsOf(admin.userId)).filter((e) => e.type === 'user.created');
    expect(user.data).toMatchObject({ id: admin.userId, email: admin.email, role: 'ADMIN', active: true });
    expect(user.changes).toContainEqual({ field: 'email', old: null, new: admin.email });
    expect(JSON.stringify(user)).not.toMatch(/argon2|password/i);
  });

  it('records an update with exactly the fields that changed, old and new, and nothing for a no-op', async () => {
    const created = await t.gql('mutation { createTeam(input: { name: "Hunters" }) { id version } }', {}, admin.accessToken);
    const id = created.data.createTeam.id;
    const renamed = await t.gql(`mutation { updateTeam(id: "${id}", input: { name: "Farmers" }) { version } }`, {}, admin.accessToken);
    expect(renamed.data.updateTeam.version).toBe(2);
    const same = await t.gql(`mutation { updateTeam(id: "${id}", input: { name: "Farmers" }) { version } }`, {}, admin.accessToken);
    expect(same.data.updateTeam.version).toBe(2);
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['team.created', 'team.updated']);
    expect(events[1].changes).toEqual([{ field: 'name', old: 'Hunters', new: 'Farmers' }]);
    expect(events[1].data).toMatchObject({ id, name: 'Farmers' });
    expect(Number(events[1].id)).toBeGreaterThan(Number(events[0].id));
  });

  it('a failed write leaves neither the row nor its event', async () => {
    const before = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM event');
    const dup = await t.gql(`mutation { createUser(input: { name: "Dup", email: "${admin.email}", role: REP }) { id } }`, {}, admin.accessToken);
    expect(codes(dup)).toEqual(['CONFLICT']);
    expect(await t.sql('SELECT count(*)::int AS n FROM event')).toEqual(before);
    expect(await t.sql('SELECT count(*)::int AS n FROM app_user WHERE lower(email) = lower($1)', [admin.email])).toEqual([{ n: 1 }]);
  });

  it('a failed mutation does not undo an earlier one of the same request', async () => {
    const r = await t.gql(`mutation { a: createTeam(input: { name: "Kept" }) { id } b: createTeam(input: { name: "Kept" }) { id } }`, {}, admin.accessToken);
    expect(codes(r)).toEqual(['CONFLICT']);
    // b's error nulls the whole (non-null) data, but a committed: mutations are independent.
    const kept = await t.sql<{ id: string }>(`SELECT id FROM team WHERE name = 'Kept'`);
    expect(kept).toHaveLength(1);
    const id = kept[0].id;
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['team.created']);
  });

  it('announces new events with NOTIFY on commit, carrying the newest event id', async () => {
    const listener = new Client({ connectionString: t.db.appUrl });
    await listener.connect();
    try {
      const received: Notification[] = [];
      listener.on('notification', (n) => received.push(n));
      await listener.query('LISTEN trellis_events');
      const r = await t.gql('mutation { createTeam(input: { name: "Announced" }) { id } }', {}, admin.accessToken);
      const [event] = await eventsOf(r.data.createTeam.id);
      for (let i = 0; i < 50 && !received.some((n) => n.payload === event.id); i++) await new Promise((res) => setTimeout(res, 20));
      expect(received.map((n) => n.payload)).toContain(event.id);
      expect(received.every((n) => n.channel === 'trellis_events')).toBe(true);
    } finally {
      await listener.end();
    }
  });

  it('every row written by these flows has a matching event (no write path skips the log)', async () => {
    for (const [table, type] of [
      ['app_user', 'user'],
      ['team', 'team'],
      ['api_key', 'api_key'],
    ] as const) {
      const missing = await t.sql(
        `SELECT r.id FROM ${table} r WHERE NOT EXISTS (SELECT 1 FROM event e WHERE e.entity_id = r.id AND e.type = '${type}.created')`,
      );
      expect({ table, missing }).toEqual({ table, missing: [] });
    }
  });
});
