import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { signUp, startSecondInstance, startTestApp, type SignedUp, type TestApp } from './helpers/app';

const RECORD_CHANGED = 'subscription { recordChanged(types: [ACCOUNT]) { id } }';

/** One subscription on a shared client: what it received, and how it ended. */
function open(client: Client) {
  const s = { received: 0, errors: undefined as { extensions?: { code?: string }; message: string }[] | undefined, stop: () => {} };
  s.stop = client.subscribe(
    { query: RECORD_CHANGED },
    { next: () => void s.received++, error: (e) => void (s.errors = Array.isArray(e) ? e : [{ message: String(e) }]), complete: () => {} },
  );
  return s;
}

async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false' });
    admin = await signUp(t, 'Limit Co');
  });
  afterAll(() => t.close());

  it.each([1, 2, 5])('with a limit of %i, exactly that many run on one connection and one more is refused', async (limit) => {
    const instance = await startSecondInstance(t, { WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(limit) });
    const client = createClient({
      url: instance.url.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${admin.accessToken}` },
      retryAttempts: 0,
    });
    try {
      const account = async () =>
        expect((await t.gql('mutation { createAccount(input: { name: "Seen" }) { id } }', {}, admin.accessToken)).errors).toBeUndefined();
      /** Opens one and waits until it is live: it sees an account created after it (it may start listening after the first). */
      const live = async () => {
        const s = open(client);
        for (let tries = 0; s.received === 0 && !s.errors; tries++) {
          if (tries === 50) throw new Error('the subscription saw no account');
          await account();
          await until(() => s.received > 0 || !!s.errors, 'the account', 200).catch(() => undefined);
        }
        expect(s.errors).toBeUndefined();
        return s;
      };
      const refused = async () => {
        const s = open(client);
        await until(() => !!s.errors, 'the operation past the limit to be refused');
        expect(s.errors!.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
        expect(s.errors![0].message).toBe(`At most ${limit} operations at once on one connection`);
      };
      const held: ReturnType<typeof open>[] = [];
      for (let i = 0; i < limit; i++) held.push(await live());
      await refused();
      // The refused one took no place: one ends, another starts, and again none past the limit.
      held.shift()!.stop();
      held.push(await live());
      await refused();
      // Every one held is still live.
      const before = held.map((s) => s.received);
      await account();
      await until(() => held.every((s, i) => s.received > before[i]), 'every held subscription to see the account');
    } finally {
      await client.dispose();
      await instance.close();
    }
  });

  it.each([1, 3, 5])('with a limit of %i, operations sent all at once: exactly that many run, the rest are refused', async (limit) => {
    const instance = await startSecondInstance(t, { WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(limit) });
    const client = createClient({
      url: instance.url.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${admin.accessToken}` },
      retryAttempts: 0,
      lazy: false,
    });
    try {
      await new Promise<void>((resolve) => client.on('connected', () => resolve()));
      const all = Array.from({ length: limit + 3 }, () => open(client));
      await until(() => all.filter((s) => s.errors).length >= 3, 'three to be refused');
      // Accounts until the held ones have seen one (each starts listening when its subscribe is done).
      for (let tries = 0; all.filter((s) => s.received > 0).length < limit; tries++) {
        if (tries === 50) throw new Error('the held subscriptions saw no account');
        expect((await t.gql('mutation { createAccount(input: { name: "Seen" }) { id } }', {}, admin.accessToken)).errors).toBeUndefined();
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(all.map((s) => (s.errors ? s.errors[0].extensions?.code : s.received > 0 ? 'live' : 'silent'))).toEqual([
        ...Array(limit).fill('live'),
        'RATE_LIMITED',
        'RATE_LIMITED',
        'RATE_LIMITED',
      ]);
    } finally {
      await client.dispose();
      await instance.close();
    }
  });
});
