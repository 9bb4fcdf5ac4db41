import WebSocket from 'ws';
import { signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

/**
 * A subscriber that stops reading: its messages are not held in the server without end. Once the
 * socket has a megabyte unsent, the subscription waits (ws-transport.ts); its queue then fills and it
 * is cut off with RATE_LIMITED (SUBSCRIBER_TOO_SLOW), to resume with `after`.
 */
describe('WebSocket backpressure', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp({ SUBSCRIPTION_MAX_QUEUE: '10', WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false' });
    admin = await signUp(t, 'Backpressure Co');
  });
  afterAll(() => t.close());

  it('cuts off a subscriber that stops reading, after what its socket and queue hold', async () => {
    const ws = new WebSocket(t.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
    const messages: { type: string; payload?: any }[] = [];
    ws.on('message', (raw) => messages.push(JSON.parse(raw.toString())));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${admin.accessToken}` } }));
    const until = async (done: () => boolean, what: string) => {
      for (const end = Date.now() + 20_000; !done();) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(() => messages.some((m) => m.type === 'connection_ack'), 'the ack');
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { activityFeed { action activity { subject body } } }' } }));
    // The connection watches its credential on the bus, the subscription listens too.
    await until(() => t.services.eventBus.subscriberCount >= 2, 'the subscription');
    const create = (n: number) =>
      t.gql(
        'mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }',
        { i: { type: 'NOTE', subject: `Note ${n}`, body: `${n} `.padEnd(100_000, 'x') } },
        admin.accessToken,
      );
    await create(0);
    await until(() => messages.some((m) => m.type === 'next'), 'the first event');
    // The client stops reading its socket.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const EVENTS = 200; // 20 MB: more than the socket buffers, the megabyte and the queue of 10 together
    for (let n = 1; n <= EVENTS; n++) expect((await create(n)).errors).toBeUndefined();
    // Reading again: what was sent, then the cut-off; nothing after it.
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => messages.some((m) => m.type === 'complete' || m.payload?.errors), 'the cut-off');
    await new Promise((r) => setTimeout(r, 200));
    const nexts = messages.filter((m) => m.type === 'next');
    const delivered = nexts.filter((m) => m.payload.data).map((m) => m.payload.data.activityFeed.activity.subject);
    expect(delivered.length).toBeLessThan(EVENTS);
    // In order and without a gap up to the cut-off.
    expect(delivered).toEqual(delivered.map((_: string, i: number) => `Note ${i}`));
    const last = nexts[nexts.length - 1].payload;
    expect(last.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'SUBSCRIBER_TOO_SLOW' });
    ws.close();
  }, 60_000);
});
