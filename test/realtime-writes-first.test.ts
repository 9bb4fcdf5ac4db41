import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { startServerProcess, type ServerProcess } from './helpers/server-process';

// Issue 21: delivery must never cost writes. A server process whose one workspace has hundreds of
// subscribers, fed writes faster than it can fan them out, keeps answering every write: the
// subscribers fall behind, the writes do not fail. Before, the event bus handed an event batch to 500
// subscribers per turn of the event loop: the workspace's writes held their connections for seconds
// and, past DB_CONNECT_TIMEOUT_MS, were refused with SERVICE_UNAVAILABLE.

const SUBSCRIBERS = 1000;
const WRITES = 300;
const PER_SECOND = 100;

describe('writes first beside a saturating fan-out', () => {
  let db: TestDatabase;
  let server: ServerProcess;
  beforeAll(async () => {
    db = await createTestDatabase();
    // A small pool and a short wait for a connection (3 s): a write held up by delivery work fails.
    server = await startServerProcess(db, {
      LOG_LEVEL: 'silent',
      WEBHOOK_WORKERS: 'false',
      AUTOMATION_WORKERS: 'false',
      DB_POOL_SIZE: '4',
      DB_CONNECT_TIMEOUT_MS: '3000',
      RATE_LIMIT_REFILL_PER_SECOND: '1000000',
    });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  const post = async (body: unknown, token?: string) => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return (await res.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
  };

  it('every write succeeds while its workspace has 1000 subscribers, and every delivery arrives', async () => {
    const up = await post({
      query: 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }',
      variables: { i: { workspaceName: 'Busy', name: 'Admin', email: 'admin@busy.test', password: 'correct horse battery' } },
    });
    const token = up.data.signUp.accessToken;
    // Connections are capped per credential (100): subscribers share keys up to that.
    const keys: string[] = [];
    for (let k = 0; k < SUBSCRIBERS / 100; k++)
      keys.push((await post({ query: 'mutation { createApiKey(input: { name: "sub", scopes: [READ] }) { secret } }' }, token)).data.createApiKey.secret);

    let received = 0;
    const sockets: WebSocket[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      sockets.push(
        await new Promise<WebSocket>((resolve, reject) => {
          // A bare graphql-transport-ws client: little client work per message, so the server is what saturates.
          const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
          ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${keys[i % keys.length]}` } })));
          ws.on('message', (raw) => {
            const text = raw.toString();
            // Most messages are deliveries: counted without parsing (the client must not be what saturates).
            if (text.includes('"next"')) return void received++;
            const msg = JSON.parse(text);
            if (msg.type === 'connection_ack') {
              ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { recordChanged(types: [ACTIVITY]) { entityId } }' } }));
              resolve(ws);
            }
          });
          ws.on('error', reject);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 500));

    const started = Date.now();
    const writes: Promise<string>[] = [];
    for (let n = 0; n < WRITES; n++) {
      const wait = started + (n * 1000) / PER_SECOND - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      writes.push(
        post(
          { query: 'mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }', variables: { i: { type: 'NOTE', subject: `Event ${n}` } } },
          token,
        ).then(
          (r) => (r.errors ? (r.errors[0].extensions?.code ?? 'ERROR') : 'ok'),
          (err: Error) => `NETWORK ${err.message}`,
        ),
      );
    }
    const outcomes = await Promise.all(writes);
    const failed = outcomes.filter((o) => o !== 'ok');
    expect({ failed: failed.length, codes: [...new Set(failed)] }).toEqual({ failed: 0, codes: [] });
    // The subscribers fell behind, not out: every one gets every event.
    const deadline = Date.now() + 60_000;
    while (received < WRITES * SUBSCRIBERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(received).toBe(WRITES * SUBSCRIBERS);
    for (const s of sockets) s.terminate();
  }, 120_000);
});
