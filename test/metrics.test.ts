import { signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';
import { subscribe, waitUntil } from './helpers/subscriber';

describe('/metrics (Prometheus)', () => {
  let t: TestApp;
  let admin: SignedUp;
  const scrape = async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line ? Number(line.slice(series.length + 1)) : undefined;
  };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Metrics Co');
  });
  afterAll(() => t.close());

  it('counts requests by operation and outcome, with their durations', async () => {
    await t.gql(`query Dashboard { me { kind } }`, {}, admin.accessToken);
    await t.gql(`query Dashboard { me { kind } }`, {}, admin.accessToken);
    await t.gql(`query Broken { account(id: "00000000-0000-0000-0000-000000000000") { id } }`, {}, admin.accessToken);
    const text = await scrape();
    expect(value(text, 'trellis_graphql_requests_total{operation="Dashboard",outcome="ok"}')).toBe(2);
    expect(value(text, 'trellis_graphql_requests_total{operation="Broken",outcome="NOT_FOUND"}')).toBe(1);
    expect(value(text, 'trellis_graphql_request_duration_seconds_count{operation="Dashboard",outcome="ok"}')).toBe(2);
    expect(text).toContain('trellis_process_resident_memory_bytes');
  });

  it('reports the database pool, the webhook backlog and open subscriptions', async () => {
    const sub = await subscribe(t.url, `Bearer ${admin.accessToken}`, `subscription { recordChanged { id } }`);
    try {
      await waitUntil(() => t.services.eventBus.subscriberCount >= 2, 5000, 'the subscription');
      const text = await scrape();
      expect(value(text, 'trellis_subscriptions_open')).toBeGreaterThanOrEqual(1);
      expect(value(text, 'trellis_websocket_connections')).toBeGreaterThanOrEqual(1);
      expect(value(text, 'trellis_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
      expect(value(text, 'trellis_webhook_backlog{state="pending"}')).toBe(0);
    } finally {
      await sub.close();
    }
  });

  it('keeps client-chosen operation names from growing the series without bound', async () => {
    for (let i = 0; i < 210; i++) await t.gql(`query Op${i} { me { kind } }`, {}, admin.accessToken);
    await t.gql(`query { me { kind } }`, {}, admin.accessToken);
    const text = await scrape();
    const ops = new Set([...text.matchAll(/trellis_graphql_requests_total\{operation="([^"]+)"/g)].map((m) => m[1]));
    expect(ops.size).toBeLessThanOrEqual(202);
    expect(ops.has('other')).toBe(true);
    expect(ops.has('anonymous')).toBe(true);
  });
});
