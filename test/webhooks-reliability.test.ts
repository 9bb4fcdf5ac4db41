import { createLogger } from '../src/kernel/logger';
import { FAILING_LIMIT_MS, RETRY_SCHEDULE_MS } from '../src/modules/webhooks/webhook-worker';
import { WebhookRuntime } from '../src/modules/webhooks/webhooks';
import { signUp, startTestApp, userWithRole, type TestApp } from './helpers/app';
import { startReceiver, type Receiver } from './helpers/receiver';
import { collapse, createAccount, createEndpoint, deliveries, eventsByRecord, until, updateAccount } from './helpers/webhooks';

// Point 7 of issue #6 on a fake clock: the receiver down then up (every event, in order per record,
// on schedule), a hanging receiver holding up no other, the whole retry schedule with the 3-day
// disable, Retry-After, and no redirects. The app's own workers are off: the test drives a
// WebhookRuntime of its own (real dispatcher, worker and sender) and moves its clock.
// Timeouts, the SSRF guard, SIGKILL and two instances: webhooks-reliability-live.test.ts.

describe('webhook retries on a fake clock', () => {
  let t: TestApp;
  let rx: Receiver;
  let runtime: WebhookRuntime;
  let fakeNow = new Date();
  /** Every request the receiver got, with the fake time it was made at and the answer it got. */
  let log: { id: string; entityId: string; at: number; status: number }[] = [];

  /** Answers each request with `status(fakeTime)` and logs it. */
  function answer(status: (at: number) => number, headers: Record<string, string> = {}) {
    rx.respond = (req, res) => {
      const at = fakeNow.getTime();
      const s = status(at);
      log.push({ id: String(req.headers['webhook-id']), entityId: req.json.data.entityId, at, status: s });
      res.writeHead(s, headers).end(String(s));
    };
  }

  /** Dispatches what is committed and sends what is due at the fake time, until nothing more is due. */
  async function settle(): Promise<number> {
    await runtime.dispatcher.run();
    let attempted = 0;
    for (let n; (n = await runtime.worker.tick()) > 0;) attempted += n;
    return attempted;
  }

  /**
   * Dispatches until the endpoint has `count` deliveries: an event is read once every transaction
   * older than its own has ended, anywhere in the cluster (other test files run beside this one).
   */
  async function dispatched(endpointId: string, count: number): Promise<void> {
    await until(`${count} deliveries`, async () => {
      await runtime.dispatcher.run();
      return (await deliveries(t, endpointId)).length >= count;
    });
  }

  /** Moves the fake clock ahead of the real one, so that deliveries created from now on are due at once. */
  function clockAhead(): number {
    fakeNow = new Date(Math.max(fakeNow.getTime(), Date.now()) + 60_000);
    return fakeNow.getTime();
  }

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_WORKERS: 'false', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    rx = await startReceiver();
    runtime = new WebhookRuntime(t.workerDs, t.services.eventBus, t.services.recordFilters, t.services.webhookEndpoints, createLogger('silent'), {
      enabled: true,
      allowPrivateNetworks: true,
      timeoutMs: 2000,
      now: () => fakeNow,
      jitter: 0,
      pollMs: 3_600_000,
    });
    runtime.start();
  });
  afterAll(async () => {
    await runtime.stop();
    await t.close();
    await rx.close();
  });
  beforeEach(() => {
    rx.received.length = 0;
    log = [];
  });
  // Each test's endpoints end with it (even when it fails), so that none sends during the next one.
  afterEach(async () => {
    await t.sql(`UPDATE webhook_endpoint SET active = false, deleted_at = now() WHERE deleted_at IS NULL`);
    await runtime.worker.tick(); // and what is still in flight is recorded
  });

  it('receiver down for a while, then up: every event arrives, in order per record, each attempted on schedule', async () => {
    const admin = await signUp(t, 'Down Then Up');
    const T0 = clockAhead();
    const UP_AT = T0 + 20 * 60_000;
    answer((at) => (at < UP_AT ? 503 : 200));
    const ep = await createEndpoint(t, admin, { url: rx.url });

    // Four records, each created then updated twice, their events interleaved in commit order.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await createAccount(t, admin, `Down ${i}`));
    for (let round = 0; round < 2; round++) for (const id of ids) await updateAccount(t, admin, id, { industry: `Round ${round}` });
    await dispatched(ep, 12);
    await settle();
    let commit = await eventsByRecord(t, admin.workspaceId);
    // Only the first event of each record was tried: the others wait behind it.
    expect(log.map((l) => l.id).sort()).toEqual(ids.map((id) => commit.get(id)![0]).sort());

    // Five seconds later the first events are tried again; meanwhile more events happen, one on a new record.
    fakeNow = new Date(T0 + RETRY_SCHEDULE_MS[1]);
    expect(await settle()).toBe(4);
    const late = await createAccount(t, admin, 'Created while down');
    await updateAccount(t, admin, late, { industry: 'While down' });
    for (const id of ids) await updateAccount(t, admin, id, { industry: 'While down' });
    ids.push(late);
    await dispatched(ep, 18);
    await settle();

    // Walk the clock from one due attempt to the next until nothing is scheduled (those held behind
    // an earlier event of their record are due already, and go out as soon as it is delivered).
    for (let step = 0; step < 50; step++) {
      const [{ next }] = await t.sql<{ next: Date | null }>(
        `SELECT min(next_attempt_at) AS next FROM webhook_delivery WHERE endpoint_id = $1 AND status = 'PENDING' AND next_attempt_at > $2`,
        [ep, fakeNow],
      );
      if (!next) break;
      // Nothing is tried a millisecond before it is due.
      fakeNow = new Date(next.getTime() - 1);
      expect(await settle()).toBe(0);
      // One tick sends what is due, and the events held behind one it delivers, without waiting for a poll.
      fakeNow = next;
      expect(await runtime.worker.tick()).toBeGreaterThan(0);
      expect(await settle()).toBe(0);
    }

    commit = await eventsByRecord(t, admin.workspaceId);
    const all = [...commit.values()].flat();
    expect(all).toHaveLength(4 * 4 + 2);
    const rows = await deliveries(t, ep);
    expect(rows.map((r) => r.status)).toEqual(all.map(() => 'DELIVERED'));
    // Every event arrived exactly once with a 2xx, and nothing else did.
    const delivered = log.filter((l) => l.status === 200).map((l) => l.id);
    expect([...delivered].sort()).toEqual([...all].sort());
    expect(log.every((l) => (l.status === 200) === l.at >= UP_AT)).toBe(true);

    for (const id of ids) {
      const mine = log.filter((l) => l.entityId === id);
      // In commit order, and never a later event of the record before the earlier one was delivered.
      expect(collapse(mine.map((l) => l.id))).toEqual(commit.get(id));
      const [head, ...rest] = commit.get(id)!;
      // The first event: tried immediately, after 5 s, 5 min and 30 min; the fourth try finds the receiver up.
      const tries = mine.filter((l) => l.id === head);
      expect(tries.map((l) => l.status)).toEqual([503, 503, 503, 200]);
      const gaps = tries.slice(1).map((l, i) => l.at - tries[i].at);
      expect(gaps).toEqual(RETRY_SCHEDULE_MS.slice(1, 4));
      expect(rows.find((r) => r.event_id === head)!.attempts).toBe(4);
      // The rest went out once each, right after the first was delivered.
      for (const e of rest) {
        expect(mine.filter((l) => l.id === e).map((l) => l.at)).toEqual([tries[3].at]);
        expect(rows.find((r) => r.event_id === e)!.attempts).toBe(1);
      }
    }
  });

  it('a hanging endpoint holds up no other: meanwhile a record’s events go out back to back', async () => {
    const admin = await signUp(t, 'Noisy Neighbour');
    // A clock behind the database's while the events are written: nothing is due until it moves on.
    fakeNow = new Date(Date.now() - 3600_000);
    answer(() => 200);
    const hanging = await startReceiver();
    hanging.respond = () => undefined; // never answered: the 2 s timeout ends each attempt
    try {
      const slow = await createEndpoint(t, admin, { url: hanging.url });
      const fast = await createEndpoint(t, admin, { url: rx.url });
      const id = await createAccount(t, admin, 'Busy');
      for (let i = 1; i <= 5; i++) await updateAccount(t, admin, id, { industry: `Busy ${i}` });
      await dispatched(slow, 6);
      await dispatched(fast, 6);
      expect(await runtime.worker.tick()).toBe(0);
      clockAhead();
      const ticking = runtime.worker.tick();
      // All six reach the healthy endpoint while the other one's first request still hangs (2 s timeout).
      await until('the healthy endpoint to get every event', () => log.length === 6, 1500);
      expect(hanging.received).toHaveLength(1);
      const [first] = await deliveries(t, slow);
      expect(first.attempts).toBe(0);
      expect(collapse(log.map((l) => l.id))).toEqual((await eventsByRecord(t, admin.workspaceId)).get(id));
      await ticking;
      await settle();
      expect((await deliveries(t, slow)).map((d) => [d.status, d.attempts, d.last_error])).toEqual([
        ['PENDING', 1, 'timed out'],
        ...Array(5).fill(['PENDING', 0, null]),
      ]);
      expect((await deliveries(t, fast)).every((d) => d.status === 'DELIVERED')).toBe(true);
    } finally {
      await hanging.close();
    }
  });

  it("a failing endpoint's backlog takes one delivery per claim, and no endpoint row is rewritten per failure (issue 17)", async () => {
    const a = await signUp(t, 'Failing Backlog');
    const b = await signUp(t, 'Healthy Neighbour');
    const T0 = clockAhead();
    answer(() => 500);
    const failing = await createEndpoint(t, a, { url: rx.url });
    const backlog = new Set<string>();
    for (let i = 0; i < 12; i++) backlog.add(await createAccount(t, a, `Backlog ${i}`));
    await dispatched(failing, 12);
    await settle(); // every first attempt fails: the endpoint is failing from now on
    const version = async () => (await t.sql<{ xmin: string }>(`SELECT xmin::text FROM webhook_endpoint WHERE id = $1`, [failing]))[0].xmin;
    const before = await version();

    // The retries come due together: attempted one claim after another, each failing.
    fakeNow = new Date(T0 + RETRY_SCHEDULE_MS[1]);
    expect(await settle()).toBe(12);
    expect((await deliveries(t, failing)).every((d) => d.attempts === 2 && d.status === 'PENDING')).toBe(true);
    expect(await version()).toBe(before);

    // Another workspace's deliveries and the failing backlog are due at once: one claim takes all of the
    // healthy endpoint's and one of the failing one's. B's receiver answers; its deliveries are made
    // due again behind the worker's back (the worker would send them as soon as they are dispatched).
    rx.respond = (req, res) => res.writeHead(req.json.data.entityId && backlog.has(req.json.data.entityId) ? 500 : 200).end();
    const healthy = await createEndpoint(t, b, { url: rx.url });
    for (let i = 0; i < 3; i++) await createAccount(t, b, `Neighbour ${i}`);
    await dispatched(healthy, 3);
    await until('delivered', async () => (await deliveries(t, healthy)).every((d) => d.status === 'DELIVERED'));
    fakeNow = new Date(T0 + RETRY_SCHEDULE_MS[1] + RETRY_SCHEDULE_MS[2]);
    await t.sql(`UPDATE webhook_delivery SET status = 'PENDING', attempts = 0, next_attempt_at = $2 WHERE endpoint_id = $1`, [healthy, fakeNow]);
    const ids = (await deliveries(t, healthy)).map((d) => d.id);
    const claimed = await t.workerDs.query<{ id: string; endpoint_id: string }[]>(`SELECT * FROM worker_claim_webhook_deliveries($1, $2, $3)`, [
      fakeNow,
      10,
      60,
    ]);
    expect(
      claimed
        .filter((c) => c.endpoint_id === healthy)
        .map((c) => c.id)
        .sort(),
    ).toEqual([...ids].sort());
    expect(claimed.filter((c) => c.endpoint_id === failing)).toHaveLength(1);
    expect(claimed).toHaveLength(4);
  });

  it('walks the whole schedule: 10 attempts, FAILED and kept, endpoint disabled and admins told, re-deliverable', async () => {
    const admin = await signUp(t, 'Always 500');
    const admin2 = await userWithRole(t, admin, 'ADMIN');
    const rep = await userWithRole(t, admin, 'REP');
    const T0 = clockAhead();
    answer(() => 500);
    const ep = await createEndpoint(t, admin, { url: rx.url });
    await createAccount(t, admin, 'Never delivered');
    await dispatched(ep, 1);
    await settle();

    let expectedAt = T0;
    for (let attempt = 1; attempt <= RETRY_SCHEDULE_MS.length; attempt++) {
      const [d] = await deliveries(t, ep);
      expect(d).toMatchObject({ attempts: attempt, last_status_code: 500 });
      expect(d.last_attempt_at!.getTime()).toBe(expectedAt);
      const [e] = await t.sql<{ active: boolean; failing_since: Date; disabled_reason: string | null }>(
        `SELECT active, failing_since, disabled_reason FROM webhook_endpoint WHERE id = $1`,
        [ep],
      );
      expect(e.failing_since.getTime()).toBe(T0);
      if (attempt === RETRY_SCHEDULE_MS.length) {
        // The last attempt: failed for good, kept; its endpoint has been failing for more than 3 days.
        expect(d.status).toBe('FAILED');
        expect(d.next_attempt_at).toBeNull();
        expect(expectedAt - T0).toBeGreaterThanOrEqual(FAILING_LIMIT_MS);
        expect(e).toMatchObject({ active: false, disabled_reason: expect.stringContaining('3 days') });
        break;
      }
      expect(d.status).toBe('PENDING');
      expect(d.next_attempt_at!.getTime() - d.last_attempt_at!.getTime()).toBe(RETRY_SCHEDULE_MS[attempt]);
      expect(e.active).toBe(true);
      expectedAt = d.next_attempt_at!.getTime();
      fakeNow = new Date(expectedAt - 1);
      expect(await settle()).toBe(0);
      fakeNow = new Date(expectedAt);
      expect(await settle()).toBe(1);
    }
    expect(log).toHaveLength(10);
    expect(new Set(log.map((l) => l.id)).size).toBe(1);
    expect(log.slice(1).map((l, i) => l.at - log[i].at)).toEqual(RETRY_SCHEDULE_MS.slice(1));
    // Nothing more is ever tried.
    fakeNow = new Date(fakeNow.getTime() + 30 * 24 * 3600_000);
    expect(await settle()).toBe(0);

    // Both admins are told, the rep is not.
    for (const token of [admin.accessToken, admin2.token]) {
      const inbox = await t.gql(`{ notifications { title body entityType entityId } }`, {}, token);
      expect(inbox.data.notifications).toEqual([
        { title: expect.stringContaining('Webhook endpoint disabled'), body: expect.stringContaining('3 days'), entityType: 'webhook_endpoint', entityId: ep },
      ]);
    }
    expect((await t.gql(`{ notifications { id } }`, {}, rep.token)).data.notifications).toEqual([]);

    // Kept in the log as FAILED; re-enabled and redelivered, it goes out with the same webhook-id.
    const failed = await t.gql(
      `query($e: ID) { webhookDeliveries(endpointId: $e, status: FAILED) { nodes { id attempts status } } }`,
      { e: ep },
      admin.accessToken,
    );
    expect(failed.data.webhookDeliveries.nodes).toEqual([{ id: expect.any(String), attempts: 10, status: 'FAILED' }]);
    answer(() => 200);
    expect(
      (await t.gql(`mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { active: true }) { active failingSince } }`, { id: ep }, admin.accessToken))
        .data.updateWebhookEndpoint,
    ).toEqual({ active: true, failingSince: null });
    const again = await t.gql(
      `mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { status attempts } }`,
      { d: failed.data.webhookDeliveries.nodes[0].id },
      admin.accessToken,
    );
    expect(again.data.redeliverWebhook).toEqual({ status: 'PENDING', attempts: 0 });
    expect(await settle()).toBe(1);
    expect(log).toHaveLength(11);
    expect(log[10]).toMatchObject({ id: log[0].id, status: 200 });
    expect((await deliveries(t, ep))[0]).toMatchObject({ status: 'DELIVERED', attempts: 1 });
  });

  it('disables an endpoint once every attempt has failed for 3 days, not a millisecond before', async () => {
    const admin = await signUp(t, 'Three Days');
    const T0 = clockAhead();
    answer(() => 500);
    const ep = await createEndpoint(t, admin, { url: rx.url });
    await createAccount(t, admin, 'First failure');
    await dispatched(ep, 1);
    await settle();
    expect(log).toHaveLength(1);
    const state = async () =>
      (await t.sql<{ active: boolean; failing_since: Date | null }>(`SELECT active, failing_since FROM webhook_endpoint WHERE id = $1`, [ep]))[0];
    expect(await state()).toEqual({ active: true, failing_since: new Date(T0) });

    // Its second attempt, 1 ms short of 3 days after the first failure: still enabled.
    fakeNow = new Date(T0 + FAILING_LIMIT_MS - 1);
    expect(await settle()).toBe(1);
    expect((await state()).active).toBe(true);

    // A new event fails at exactly 3 days: disabled, and nothing more is sent.
    fakeNow = new Date(T0 + FAILING_LIMIT_MS);
    await createAccount(t, admin, 'Second failure');
    await dispatched(ep, 2);
    await settle();
    expect(log.map((l) => l.at)).toEqual([T0, T0 + FAILING_LIMIT_MS - 1, T0 + FAILING_LIMIT_MS]);
    expect((await state()).active).toBe(false);
    const inbox = await t.gql(`{ notifications { title entityId } }`, {}, admin.accessToken);
    expect(inbox.data.notifications).toEqual([{ title: expect.stringContaining('Webhook endpoint disabled'), entityId: ep }]);
    fakeNow = new Date(fakeNow.getTime() + 7 * 24 * 3600_000);
    expect(await settle()).toBe(0);
    expect((await deliveries(t, ep)).map((d) => [d.status, d.attempts])).toEqual([
      ['PENDING', 2],
      ['PENDING', 1],
    ]);
  });

  it('honours Retry-After (seconds or a date) when it asks for longer than the schedule', async () => {
    const admin = await signUp(t, 'Slow Down');
    const T0 = clockAhead();
    answer(() => 429, { 'retry-after': '3600' });
    const ep = await createEndpoint(t, admin, { url: rx.url });
    await createAccount(t, admin, 'Rate limited');
    await dispatched(ep, 1);
    await settle();
    expect(log).toHaveLength(1);
    let [d] = await deliveries(t, ep);
    expect(d).toMatchObject({ status: 'PENDING', attempts: 1, last_status_code: 429 });
    expect(d.next_attempt_at!.getTime()).toBe(T0 + 3600_000);
    // Not at the schedule's 5 s, nor a millisecond before the hour.
    fakeNow = new Date(T0 + RETRY_SCHEDULE_MS[1]);
    expect(await settle()).toBe(0);
    fakeNow = new Date(T0 + 3600_000 - 1);
    expect(await settle()).toBe(0);

    // A Retry-After shorter than the schedule does not bring the attempt forward (5 min after the second).
    answer(() => 503, { 'retry-after': '1' });
    fakeNow = new Date(T0 + 3600_000);
    expect(await settle()).toBe(1);
    [d] = await deliveries(t, ep);
    expect(d.next_attempt_at!.getTime() - fakeNow.getTime()).toBe(RETRY_SCHEDULE_MS[2]);

    // An HTTP date two hours ahead.
    answer(() => 503, { 'retry-after': new Date(Date.now() + 2 * 3600_000).toUTCString() });
    fakeNow = d.next_attempt_at!;
    expect(await settle()).toBe(1);
    [d] = await deliveries(t, ep);
    expect(Math.abs(d.next_attempt_at!.getTime() - fakeNow.getTime() - 2 * 3600_000)).toBeLessThan(5_000);
    expect(d.attempts).toBe(3);
  });

  it('follows no redirect: a 302 or 307 is a failed attempt and the other receiver gets nothing', async () => {
    const admin = await signUp(t, 'Redirected');
    clockAhead();
    const elsewhere = await startReceiver();
    const r302 = await startReceiver();
    const r307 = await startReceiver();
    try {
      r302.respond = (_req, res) => res.writeHead(302, { location: elsewhere.url }).end();
      r307.respond = (_req, res) => res.writeHead(307, { location: elsewhere.url }).end();
      const eps = [await createEndpoint(t, admin, { url: r302.url }), await createEndpoint(t, admin, { url: r307.url })];
      await createAccount(t, admin, 'Moved');
      for (const ep of eps) await dispatched(ep, 1);
      await settle();
      expect([r302.received.length, r307.received.length, elsewhere.received.length]).toEqual([1, 1, 0]);
      for (const [i, ep] of eps.entries()) {
        const [d] = await deliveries(t, ep);
        expect(d).toMatchObject({ status: 'PENDING', attempts: 1, last_status_code: i === 0 ? 302 : 307 });
        expect(d.next_attempt_at!.getTime() - d.last_attempt_at!.getTime()).toBe(RETRY_SCHEDULE_MS[1]);
      }
      // Tried again on schedule: still not followed.
      fakeNow = new Date(fakeNow.getTime() + RETRY_SCHEDULE_MS[1]);
      expect(await settle()).toBe(2);
      expect([r302.received.length, r307.received.length, elsewhere.received.length]).toEqual([2, 2, 0]);
    } finally {
      await Promise.all([elsewhere.close(), r302.close(), r307.close()]);
    }
  });
});
