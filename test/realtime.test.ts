import { inWorkspace } from '../src/db/tenant-transaction';
import { apiKey, signUp, startSecondInstance, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';
import { subscribe, waitUntil, type Subscriber } from './helpers/subscriber';
import { ActorType } from '../src/kernel/roles';

const RECORD_CHANGED = `subscription($types: [EntityType!], $ids: [ID!], $after: String) {
  recordChanged(types: $types, ids: $ids, after: $after) { cursor id type entityType entityId changes { field old new } data actor { type id } }
}`;
const ACTIVITY_FEED = `subscription($filter: ActivityFilter) {
  activityFeed(filter: $filter) { action cursor changes { field } actor { type } activity { id subject status owner { id name } } }
}`;
const CREATE_ACCOUNT = `mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }`;
const CREATE_ACTIVITY = `mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }`;

describe('real-time subscriptions (graphql-ws)', () => {
  let t: TestApp;
  let b: Awaited<ReturnType<typeof startSecondInstance>>;
  let admin: SignedUp;
  let other: SignedUp;
  const subs: Subscriber[] = [];
  const track = (s: Subscriber) => (subs.push(s), s);

  /** Subscribes on an instance and waits until that instance's event bus has the listener. */
  async function subscribeOn(instance: { url: string; services: TestApp['services'] }, auth: string, query: string, variables?: Record<string, unknown>) {
    const before = instance.services.eventBus.subscriberCount;
    const s = track(await subscribe(instance.url, `Bearer ${auth}`, query, variables));
    // One listener watches the connection's credential, one feeds the subscription.
    await waitUntil(() => instance.services.eventBus.subscriberCount >= before + 2 || !!s.failure || s.completed, 5_000, 'the subscription to register');
    return s;
  }

  const createAccount = async (token: string, name: string) => {
    const r = await t.gql(CREATE_ACCOUNT, { i: { name } }, token);
    expect(r.errors).toBeUndefined();
    return r.data.createAccount.id as string;
  };

  beforeAll(async () => {
    t = await startTestApp();
    b = await startSecondInstance(t);
    admin = await signUp(t, 'Live Co');
    other = await signUp(t, 'Other Co');
  });
  afterAll(async () => {
    await Promise.all(subs.map((s) => s.close()));
    await b.close();
    await t.close();
  });

  it('a mutation through instance A reaches a subscriber on instance B, with the event as the change feed has it', async () => {
    const s = await subscribeOn(b, admin.accessToken, RECORD_CHANGED, { types: ['ACCOUNT'] });
    const id = await createAccount(admin.accessToken, 'Cross Instance Ltd');
    await s.waitFor(1);
    const e = s.data[0].recordChanged;
    expect(e).toMatchObject({ type: 'account.created', entityType: 'account', entityId: id, actor: { type: 'USER', id: admin.userId } });
    expect(e.data.name).toBe('Cross Instance Ltd');
    expect(e.changes).toEqual(expect.arrayContaining([{ field: 'name', old: null, new: 'Cross Instance Ltd' }]));
    // The cursor is a change feed cursor: the feed continues right after this event.
    const feed = await t.gql(`query($a: String) { changes(after: $a, types: [ACCOUNT]) { events { id } } }`, { a: e.cursor }, admin.accessToken);
    expect(feed.data.changes.events.map((x: { id: string }) => x.id)).not.toContain(e.id);
  });

  it('resumes: a subscriber that was away for 100 events gets all of them in order after `after`, then live ones, with no gap or duplicate', async () => {
    const first = await subscribeOn(b, admin.accessToken, RECORD_CHANGED, { types: ['ACCOUNT'] });
    await createAccount(admin.accessToken, 'Before the break');
    await first.waitFor(1);
    const cursor = first.data[0].recordChanged.cursor;
    await first.close();

    const missed: string[] = [];
    // 100 events, some from concurrent transactions, so that ids and commits interleave.
    for (let i = 0; i < 10; i++)
      missed.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => createAccount(admin.accessToken, `Missed ${i * 10 + j}`)))));

    const again = await subscribeOn(b, admin.accessToken, RECORD_CHANGED, { types: ['ACCOUNT'], after: cursor });
    await again.waitFor(100);
    const live = await createAccount(admin.accessToken, 'After the reconnect');
    await again.waitFor(101);
    await new Promise((r) => setTimeout(r, 300)); // anything duplicated would arrive by now
    const got = again.data.map((d) => d.recordChanged.entityId);
    expect(got).toHaveLength(101);
    expect(new Set(got.slice(0, 100))).toEqual(new Set(missed));
    expect(got[100]).toBe(live);
    // In order: the same order as the change feed after that cursor.
    const feed = await t.gql(
      `query($a: String) { changes(after: $a, types: [ACCOUNT], first: 200) { events { entityId } } }`,
      { a: cursor },
      admin.accessToken,
    );
    expect(got).toEqual(feed.data.changes.events.map((x: { entityId: string }) => x.entityId));
  });

  it('resumes across the seam while writes keep coming: every event exactly once', async () => {
    const first = await subscribeOn(t, admin.accessToken, RECORD_CHANGED, { types: ['ACCOUNT'] });
    await createAccount(admin.accessToken, 'Seam start');
    await first.waitFor(1);
    const cursor = first.data[0].recordChanged.cursor;
    await first.close();
    for (let i = 0; i < 30; i++) await createAccount(admin.accessToken, `Seam backlog ${i}`);
    // Writes continue while the new subscription replays and goes live.
    const writing = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) ids.push(await createAccount(admin.accessToken, `Seam live ${i}`));
      return ids;
    })();
    const again = await subscribeOn(b, admin.accessToken, RECORD_CHANGED, { types: ['ACCOUNT'], after: cursor });
    const liveIds = await writing;
    await again.waitFor(60);
    await new Promise((r) => setTimeout(r, 300));
    const got = again.data.map((d) => d.recordChanged.entityId);
    expect(got).toHaveLength(60);
    expect(new Set(got).size).toBe(60);
    expect(got.slice(-30)).toEqual(liveIds);
  });

  it('a subscriber of workspace B never sees an event of workspace A', async () => {
    const spy = await subscribeOn(t, other.accessToken, RECORD_CHANGED);
    await createAccount(admin.accessToken, 'Secret of A');
    const own = await createAccount(other.accessToken, 'Of B');
    await spy.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(spy.data.map((d) => d.recordChanged.entityId)).toEqual([own]);
    expect(JSON.stringify(spy.results)).not.toContain('Secret of A');
  });

  it('filters by types and ids', async () => {
    const watched = await createAccount(admin.accessToken, 'Watched');
    const s = await subscribeOn(t, admin.accessToken, RECORD_CHANGED, { ids: [watched] });
    await createAccount(admin.accessToken, 'Not watched');
    await t.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { industry: "Retail" }) { id } }`, { id: watched }, admin.accessToken);
    // The watched account's creation may still reach a subscriber that joined just after it
    // committed (the bus sees an event once older transactions have ended): only updates are asserted.
    const changes = () => s.data.map((d) => [d.recordChanged.type, d.recordChanged.entityId]).filter(([type]) => type !== 'account.created');
    await waitUntil(() => changes().length > 0, 10_000, 'the update');
    await new Promise((r) => setTimeout(r, 200));
    expect(changes()).toEqual([['account.updated', watched]]);
    expect(s.data.every((d) => d.recordChanged.entityId === watched)).toBe(true);
  });

  it('refuses a subscription without READ (an API key with only WRITE) and a malformed cursor, with their codes', async () => {
    const key = await apiKey(t, admin, ['WRITE']);
    const s = track(await subscribe(t.url, `Bearer ${key.secret}`, RECORD_CHANGED));
    await s.ended();
    expect(JSON.stringify(s.results.length ? s.results : s.failure)).toContain('FORBIDDEN');
    const bad = track(await subscribe(t.url, `Bearer ${admin.accessToken}`, RECORD_CHANGED, { after: 'not-a-cursor' }));
    await bad.ended();
    expect(JSON.stringify(bad.results.length ? bad.results : bad.failure)).toContain('BAD_USER_INPUT');
  });

  describe('activityFeed', () => {
    let rep: { token: string; id: string };
    beforeAll(async () => {
      rep = await userWithRole(t, admin, 'REP');
    });

    it("a REP sees what a REP may read: the workspace's activities, including those it does not own, as the filter selects", async () => {
      const feed = await subscribeOn(b, rep.token, ACTIVITY_FEED, { filter: { type: { eq: 'CALL' } } });
      const call = await t.gql(CREATE_ACTIVITY, { i: { type: 'CALL', subject: 'Admin call' } }, admin.accessToken);
      await t.gql(CREATE_ACTIVITY, { i: { type: 'NOTE', subject: 'Admin note (filtered out)' } }, admin.accessToken);
      const own = await t.gql(CREATE_ACTIVITY, { i: { type: 'CALL', subject: 'Rep call' } }, rep.token);
      await t.gql(CREATE_ACTIVITY, { i: { type: 'CALL', subject: 'Call of another workspace' } }, other.accessToken);
      await feed.waitFor(2);
      await new Promise((r) => setTimeout(r, 300));
      const items = feed.data.map((d) => d.activityFeed);
      expect(items.map((i) => [i.action, i.activity.subject])).toEqual([
        ['CREATED', 'Admin call'],
        ['CREATED', 'Rep call'],
      ]);
      expect(items[0].activity.id).toBe(call.data.createActivity.id);
      expect(items[1].activity.owner.id).toBe(rep.id);
      expect(items[1].activity.id).toBe(own.data.createActivity.id);
    });

    it('reports updates and completions, and resolves relations afresh for every event (no stale loader cache)', async () => {
      const task = await t.gql(CREATE_ACTIVITY, { i: { type: 'TASK', subject: 'Follow up', ownerId: rep.id } }, admin.accessToken);
      const id = task.data.createActivity.id;
      const feed = await subscribeOn(t, admin.accessToken, ACTIVITY_FEED, { filter: { id: { eq: id } } });
      await t.gql(`mutation($id: ID!) { updateActivity(id: $id, input: { subject: "Follow up today" }) { id } }`, { id }, admin.accessToken);
      // As above: the task's creation may reach the feed too; updates and completions are asserted.
      const items = () => feed.data.map((d) => d.activityFeed).filter((i) => i.action !== 'CREATED');
      await waitUntil(() => items().length >= 1, 10_000, 'the update');
      await t.gql(`mutation($id: ID!) { updateUser(id: $id, input: { name: "Renamed Rep" }) { id } }`, { id: rep.id }, admin.accessToken);
      await t.gql(`mutation($id: ID!) { completeTask(id: $id) { id } }`, { id }, admin.accessToken);
      await waitUntil(() => items().length >= 2, 10_000, 'the completion');
      const [updated, completed] = items();
      expect(updated).toMatchObject({ action: 'UPDATED', activity: { subject: 'Follow up today', owner: { name: 'REP' } } });
      expect(updated.changes.map((c: { field: string }) => c.field)).toEqual(['subject']);
      expect(completed).toMatchObject({ action: 'COMPLETED', activity: { status: 'COMPLETED', owner: { name: 'Renamed Rep' } } });
    });
  });

  it('many subscribers of one workspace each get every event, in commit order, the same for all: results ready at once and results that wait on a relation', async () => {
    const plain = await Promise.all(Array.from({ length: 4 }, () => subscribeOn(t, admin.accessToken, RECORD_CHANGED, { types: ['ACTIVITY'] })));
    const related = await Promise.all(
      Array.from({ length: 4 }, () => subscribeOn(t, admin.accessToken, ACTIVITY_FEED, { filter: { subject: { startsWith: 'Burst ' } } })),
    );
    const reference = await subscribeOn(b, admin.accessToken, RECORD_CHANGED, { types: ['ACTIVITY'] });
    // 60 events in one commit (one batch on the bus, executed side by side), then 20 one by one.
    const batch = Array.from({ length: 60 }, (_, i) => ({ externalId: `burst-${i}`, type: 'NOTE', subject: `Burst ${i}` }));
    expect(
      (await t.gql(`mutation($i: [UpsertActivityInput!]!) { upsertActivities(inputs: $i) { created } }`, { i: batch }, admin.accessToken)).data.upsertActivities
        .created,
    ).toBe(60);
    for (let i = 60; i < 80; i++)
      expect((await t.gql(CREATE_ACTIVITY, { i: { type: 'NOTE', subject: `Burst ${i}` } }, admin.accessToken)).errors).toBeUndefined();
    await reference.waitFor(80);
    await Promise.all([...plain, ...related].map((x) => x.waitFor(80)));
    await new Promise((r) => setTimeout(r, 200));
    // The order of the change feed: the bus's order, which a second instance's subscriber sees too.
    const order = reference.data.map((d) => d.recordChanged);
    expect(order).toHaveLength(80);
    for (const x of plain) expect(x.data.map((d) => d.recordChanged)).toEqual(order);
    const feed = related[0].data.map((d) => d.activityFeed);
    expect(feed.map((f) => f.cursor)).toEqual(order.map((e: { cursor: string }) => e.cursor));
    expect(feed.map((f) => f.activity.id)).toEqual(order.map((e: { entityId: string }) => e.entityId));
    expect(new Set(feed.map((f) => f.activity.subject)).size).toBe(80);
    expect(feed.every((f) => f.activity.owner.name === 'Admin')).toBe(true);
    for (const x of related) expect(x.data.map((d) => d.activityFeed)).toEqual(feed);
    for (const x of [...plain, ...related]) expect(x.results.filter((r) => r.errors)).toEqual([]);
  });

  describe('notificationReceived', () => {
    it('delivers a notification to its user only; the inbox lists it and marks it read', async () => {
      const rep = await userWithRole(t, admin, 'REP');
      const mine = await subscribeOn(b, rep.token, `subscription { notificationReceived { id title body entityType readAt } }`);
      const admins = await subscribeOn(b, admin.accessToken, `subscription { notificationReceived { id title } }`);
      await inWorkspace(t.ds, admin.workspaceId, (tx) =>
        t.services.notifications.send(
          {
            tx,
            viewer: { kind: 'USER', workspaceId: admin.workspaceId, userId: null, apiKeyId: null, role: null, teamId: null, scopes: [] },
            actor: { type: ActorType.SYSTEM, id: null },
          },
          [{ userId: rep.id, title: 'Deal is stale', body: 'No activity for 14 days', entityType: 'opportunity' }],
        ),
      );
      await mine.waitFor(1);
      const n = mine.data[0].notificationReceived;
      expect(n).toMatchObject({ title: 'Deal is stale', body: 'No activity for 14 days', entityType: 'opportunity', readAt: null });
      await new Promise((r) => setTimeout(r, 200));
      expect(admins.results).toHaveLength(0);

      const inbox = await t.gql(`{ notifications(unreadOnly: true) { id title } }`, {}, rep.token);
      expect(inbox.data.notifications).toEqual([{ id: n.id, title: 'Deal is stale' }]);
      expect((await t.gql(`{ notifications { id } }`, {}, admin.accessToken)).data.notifications).toEqual([]);
      // Another user cannot mark it read; its user can, once.
      expect((await t.gql(`mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`, { ids: [n.id] }, admin.accessToken)).data.markNotificationsRead).toBe(
        0,
      );
      expect(
        (await t.gql(`mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`, { ids: [n.id, 'not-a-uuid'] }, rep.token)).data.markNotificationsRead,
      ).toBe(1);
      expect((await t.gql(`mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`, { ids: [n.id] }, rep.token)).data.markNotificationsRead).toBe(0);
      expect((await t.gql(`{ notifications(unreadOnly: true) { id } }`, {}, rep.token)).data.notifications).toEqual([]);
      const events = await t.sql<{ type: string }>(`SELECT type FROM event WHERE entity_id = $1 ORDER BY id`, [n.id]);
      expect(events.map((e) => e.type)).toEqual(['notification.created', 'notification.read']);
    });

    it('an API key has no inbox: FORBIDDEN', async () => {
      const key = await apiKey(t, admin, ['READ']);
      const s = track(await subscribe(t.url, `Bearer ${key.secret}`, `subscription { notificationReceived { id } }`));
      await s.ended();
      expect(JSON.stringify(s.results.length ? s.results : s.failure)).toContain('FORBIDDEN');
    });
  });

  it('importJobProgress: the job now, then each step, ending once it has completed', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => `Progress ${i},progress${i}.example`).join('\n');
    const start = await t.gql(
      `mutation($i: StartImportInput!) { startImport(input: $i) { id } }`,
      { i: { entityType: 'ACCOUNT', csv: `name,domain\n${rows}`, mapping: { name: 'name', domain: 'domain' }, matchOn: 'DOMAIN' } },
      admin.accessToken,
    );
    const id = start.data.startImport.id;
    const s = track(
      await subscribe(b.url, `Bearer ${admin.accessToken}`, `subscription($id: ID!) { importJobProgress(id: $id) { id status processed created failed } }`, {
        id,
      }),
    );
    await s.ended(30_000);
    expect(s.failure).toBeUndefined();
    const seen = s.data.map((d) => d.importJobProgress);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen[seen.length - 1]).toMatchObject({ id, status: 'COMPLETED', processed: 1200, created: 1200 });
    const processed = seen.map((j) => j.processed);
    expect(processed).toEqual([...processed].sort((x, y) => x - y));

    const other2 = track(await subscribe(t.url, `Bearer ${other.accessToken}`, `subscription($id: ID!) { importJobProgress(id: $id) { id } }`, { id }));
    await other2.ended();
    expect(JSON.stringify(other2.results.length ? other2.results : other2.failure)).toContain('NOT_FOUND');
  });

  describe('connection rules', () => {
    it('caps the connections of one credential (4429) and the operations of one connection (RATE_LIMITED)', async () => {
      const c = await startSecondInstance(t, { WS_MAX_CONNECTIONS_PER_CREDENTIAL: '2', WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '1' });
      try {
        const key = await apiKey(t, admin, ['READ']);
        const s1 = track(await subscribe(c.url, `Bearer ${key.secret}`, RECORD_CHANGED));
        const s2 = track(await subscribe(c.url, `Bearer ${key.secret}`, RECORD_CHANGED));
        const s3 = track(await subscribe(c.url, `Bearer ${key.secret}`, RECORD_CHANGED));
        await s3.ended();
        expect(s3.failure?.close?.code).toBe(4429);
        expect(s1.failure).toBeUndefined();
        expect(s2.failure).toBeUndefined();
        // Once one leaves, another may connect.
        await s1.close();
        await waitUntil(() => c.services.eventBus.subscriberCount <= 2, 5_000, 'the first connection to go');
        const s4 = track(await subscribe(c.url, `Bearer ${key.secret}`, RECORD_CHANGED));
        await new Promise((r) => setTimeout(r, 200));
        expect(s4.failure).toBeUndefined();
      } finally {
        await c.close();
      }
    });

    it('closes the sockets of a revoked API key (4403)', async () => {
      const key = await apiKey(t, admin, ['READ']);
      const s = await subscribeOn(b, key.secret, RECORD_CHANGED);
      await t.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: key.id }, admin.accessToken);
      await s.ended();
      expect(s.failure?.close?.code).toBe(4403);
    });

    it('a subscription sent over HTTP is refused with a clear error', async () => {
      const r = await t.gql(`subscription { recordChanged { id } }`, {}, admin.accessToken);
      expect(r.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(r.body)).not.toMatch(/at .*\.js:\d+/);
    });
  });
});
