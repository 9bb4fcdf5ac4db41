import { Webhook } from 'standardwebhooks';
import { apiKey, signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';
import { startReceiver, type Receiver } from './helpers/receiver';

const CREATE = `mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id url events filter active version } } }`;
const CREATE_ACCOUNT = `mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }`;
const DELIVERIES = `query($e: ID, $s: DeliveryStatus) { webhookDeliveries(endpointId: $e, status: $s, first: 100) { totalCount nodes { id eventId eventType status attempts lastStatusCode lastError lastResponseBody lastDurationMs deliveredAt nextAttemptAt } } }`;

describe('webhooks', () => {
  let t: TestApp;
  let admin: SignedUp;
  let rx: Receiver;

  async function endpoint(input: Record<string, unknown>) {
    const r = await t.gql(CREATE, { i: { url: rx.url, ...input } }, admin.accessToken);
    expect(r.errors).toBeUndefined();
    return r.data.createWebhookEndpoint as { secret: string; endpoint: { id: string } };
  }

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    admin = await signUp(t, 'Hooks Inc');
    rx = await startReceiver();
  });
  afterAll(async () => {
    await t.close();
    await rx.close();
  });
  beforeEach(() => {
    rx.received.length = 0;
    rx.respond = (_req, res) => res.writeHead(200).end('ok');
  });

  it('POSTs each matching event with Standard Webhooks headers that the standardwebhooks library verifies', async () => {
    const { secret, endpoint: ep } = await endpoint({ events: ['account.*'], description: 'CRM sync' });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const id = (await t.gql(CREATE_ACCOUNT, { i: { name: 'Signed Ltd', industry: 'Retail' } }, admin.accessToken)).data.createAccount.id;
    await t.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { industry: "Energy" }) { id } }`, { id }, admin.accessToken);
    await t.gql(
      CREATE_ACCOUNT.replace('createAccount', 'createContact').replace('CreateAccountInput', 'CreateContactInput'),
      { i: { lastName: 'Not an account' } },
      admin.accessToken,
    );
    await rx.waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received).toHaveLength(2);
    const wh = new Webhook(secret);
    for (const got of rx.received) {
      const verified = wh.verify(got.body, {
        'webhook-id': got.headers['webhook-id'] as string,
        'webhook-timestamp': got.headers['webhook-timestamp'] as string,
        'webhook-signature': got.headers['webhook-signature'] as string,
      });
      expect(verified).toEqual(got.json);
      expect(got.headers['webhook-id']).toBe(got.json.data.id);
    }
    expect(rx.received.map((r) => r.json.type)).toEqual(['account.created', 'account.updated']);
    const updated = rx.received[1].json;
    expect(updated).toMatchObject({
      type: 'account.updated',
      data: {
        type: 'account.updated',
        entityType: 'account',
        entityId: id,
        actor: { type: 'USER', id: admin.userId },
        changes: [{ field: 'industry', old: 'Retail', new: 'Energy' }],
      },
    });
    expect(updated.data.data.industry).toBe('Energy');
    expect(new Date(updated.timestamp).toISOString()).toBe(updated.timestamp);
    // A tampered body does not verify.
    expect(() => wh.verify(rx.received[0].body.replace('Signed', 'Forged'), rx.received[0].headers as Record<string, string>)).toThrow();

    const log = await t.gql(DELIVERIES, { e: ep.id }, admin.accessToken);
    expect(log.data.webhookDeliveries.totalCount).toBe(2);
    expect(log.data.webhookDeliveries.nodes[0]).toMatchObject({
      status: 'DELIVERED',
      attempts: 1,
      lastStatusCode: 200,
      lastResponseBody: 'ok',
      lastError: null,
    });
    await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id active } }`, { id: ep.id }, admin.accessToken);
  });

  it('applies a record filter in the filter language of the events’ entity', async () => {
    const { endpoint: ep } = await endpoint({ events: ['account.created'], filter: { industry: { eq: 'Retail' } } });
    await t.gql(CREATE_ACCOUNT, { i: { name: 'Retail One', industry: 'Retail' } }, admin.accessToken);
    await t.gql(CREATE_ACCOUNT, { i: { name: 'Energy One', industry: 'Energy' } }, admin.accessToken);
    await t.gql(CREATE_ACCOUNT, { i: { name: 'Retail Two', industry: 'Retail' } }, admin.accessToken);
    await rx.waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received.map((r) => r.json.data.data.name)).toEqual(['Retail One', 'Retail Two']);
    await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id: ep.id }, admin.accessToken);
  });

  it('validates endpoints: patterns, URL, filter (typed as the entity filter), permissions; nothing written on error', async () => {
    const bad = async (input: Record<string, unknown>, token = admin.accessToken) =>
      t.gql(CREATE, { i: { url: rx.url, events: ['account.*'], ...input } }, token);
    expect((await bad({ events: ['account.'] })).errors?.[0].extensions.fields?.[0].field).toBe('input.events');
    expect((await bad({ url: 'ftp://example.com/x' })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await bad({ url: 'https://user:pw@example.com/x' })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await bad({ filter: { industry: { eq: 'Retail' } }, events: ['*'] })).errors?.[0].extensions.fields?.[0].field).toBe('input.filter');
    const typed = await bad({ filter: { employees: { gte: 'many' } } });
    expect(typed.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(typed.errors?.[0].extensions.fields?.[0].field).toMatch(/^input\.filter\.employees/);
    expect((await bad({ filter: { nonsense: { eq: 1 } } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    const rep = await userWithRole(t, admin, 'REP');
    expect((await bad({}, rep.token)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    const key = await apiKey(t, admin, ['READ', 'WRITE']);
    expect((await bad({}, key.secret)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    const list = await t.gql(`{ webhookEndpoints { id } }`, {}, admin.accessToken);
    expect(list.data.webhookEndpoints).toEqual([]);
  });

  it('rotates the secret: both sign for a day, and the new one verifies', async () => {
    const { secret: first, endpoint: ep } = await endpoint({ events: ['account.created'] });
    const rot = await t.gql(
      `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { previousSecretExpiresAt } } }`,
      { id: ep.id },
      admin.accessToken,
    );
    const second = rot.data.rotateWebhookSecret.secret;
    expect(second).not.toBe(first);
    expect(Date.parse(rot.data.rotateWebhookSecret.endpoint.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
    await t.gql(CREATE_ACCOUNT, { i: { name: 'Rotated' } }, admin.accessToken);
    await rx.waitFor(1);
    const got = rx.received[0];
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const s of [first, second]) expect(new Webhook(s).verify(got.body, got.headers as Record<string, string>)).toEqual(got.json);
    await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id: ep.id }, admin.accessToken);
  });

  it('410 Gone disables the endpoint and tells the admins; redeliver and replay send again with the same webhook-id', async () => {
    const { endpoint: ep } = await endpoint({ events: ['account.created'] });
    rx.respond = (_req, res) => res.writeHead(410).end('gone');
    const before = await t.gql(`{ changes(first: 1000) { endCursor } }`, {}, admin.accessToken);
    await t.gql(CREATE_ACCOUNT, { i: { name: 'Gone One' } }, admin.accessToken);
    await rx.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    const eps = await t.gql(`{ webhookEndpoints { id active disabledReason } }`, {}, admin.accessToken);
    expect(eps.data.webhookEndpoints.find((e: { id: string }) => e.id === ep.id)).toMatchObject({
      active: false,
      disabledReason: expect.stringContaining('410'),
    });
    const inbox = await t.gql(`{ notifications { title body } }`, {}, admin.accessToken);
    expect(inbox.data.notifications[0].title).toContain('Webhook endpoint disabled');
    const failed = await t.gql(DELIVERIES, { e: ep.id, s: 'FAILED' }, admin.accessToken);
    expect(failed.data.webhookDeliveries.nodes).toHaveLength(1);

    // Enabled again, a redelivery goes out with the same webhook-id.
    rx.respond = (_req, res) => res.writeHead(204).end();
    await t.gql(`mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { active: true }) { active } }`, { id: ep.id }, admin.accessToken);
    const firstId = rx.received[0].headers['webhook-id'];
    await t.gql(
      `mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { status attempts } }`,
      { d: failed.data.webhookDeliveries.nodes[0].id },
      admin.accessToken,
    );
    await rx.waitFor(2);
    expect(rx.received[1].headers['webhook-id']).toBe(firstId);

    // Replay from a cursor before it: sent once more.
    const replayed = await t.gql(
      `mutation($e: ID!, $a: String!) { replayWebhookEvents(endpointId: $e, after: $a) }`,
      { e: ep.id, a: before.data.changes.endCursor },
      admin.accessToken,
    );
    expect(replayed.data.replayWebhookEvents).toBe(1);
    await rx.waitFor(3);
    expect(rx.received[2].headers['webhook-id']).toBe(firstId);
    await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id: ep.id }, admin.accessToken);
  });

  it('keeps each workspace to its own endpoints and deliveries', async () => {
    const other = await signUp(t, 'Other Hooks');
    const { endpoint: ep } = await endpoint({ events: ['*'] });
    const mine = await t.gql(DELIVERIES, { e: ep.id }, other.accessToken);
    expect(mine.errors?.[0].extensions.code).toBe('NOT_FOUND');
    await t.gql(CREATE_ACCOUNT, { i: { name: 'Of the other workspace' } }, other.accessToken);
    await new Promise((r) => setTimeout(r, 500));
    expect(JSON.stringify(rx.received)).not.toContain('Of the other workspace');
    expect((await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id: ep.id }, other.accessToken)).errors?.[0].extensions.code).toBe(
      'NOT_FOUND',
    );
    await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id: ep.id }, admin.accessToken);
  });
});
