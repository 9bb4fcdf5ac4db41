import { codes, signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';

// Finding 9 of issue 17: the stored answer of an idempotent mutation held its secret (an API key, a
// signing secret, tokens) in plain text for 24 hours, and a retry was answered without asking whether
// the credential may still do what the first request did.

describe('idempotency keys and secrets', () => {
  let t: TestApp;
  let admin: SignedUp;
  let endpointId: string;
  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    admin = await signUp(t, 'Secret Idem Co');
    const ep = await t.gql(
      `mutation { createWebhookEndpoint(input: { url: "https://example.com/hook", events: ["account.*"] }) { endpoint { id } } }`,
      {},
      admin.accessToken,
    );
    endpointId = ep.data.createWebhookEndpoint.endpoint.id;
  });
  afterAll(() => t.close());

  /** Every stored answer, as text. */
  const stored = async () => JSON.stringify(await t.sql(`SELECT * FROM idempotency_key WHERE workspace_id = $1`, [admin.workspaceId]));
  const rows = async (sql: string) => (await t.sql<{ n: number }>(sql, [admin.workspaceId]))[0].n;

  // Each: the mutation, where its secrets are in the answer, and how to count what it did.
  const SECRET_MUTATIONS: [name: string, query: () => string, secrets: (data: any) => string[], effect: string][] = [
    [
      'createApiKey',
      () => 'mutation { createApiKey(input: { name: "Sync", scopes: [READ] }) { secret apiKey { id } } }',
      (d) => [d.createApiKey.secret],
      'SELECT count(*)::int AS n FROM api_key WHERE workspace_id = $1',
    ],
    [
      'createApiKey, its secret aliased',
      () => 'mutation { k: createApiKey(input: { name: "Aliased", scopes: [READ] }) { s: secret } }',
      (d) => [d.k.s],
      'SELECT count(*)::int AS n FROM api_key WHERE workspace_id = $1',
    ],
    [
      'createWebhookEndpoint',
      () => 'mutation { createWebhookEndpoint(input: { url: "https://example.com/other", events: ["lead.*"] }) { secret endpoint { id } } }',
      (d) => [d.createWebhookEndpoint.secret],
      'SELECT count(*)::int AS n FROM webhook_endpoint WHERE workspace_id = $1',
    ],
    [
      'rotateWebhookSecret',
      () => `mutation { rotateWebhookSecret(id: "${endpointId}") { secret } }`,
      (d) => [d.rotateWebhookSecret.secret],
      'SELECT count(*)::int AS n FROM event WHERE workspace_id = $1',
    ],
    ['rotateIntakeToken', () => 'mutation { rotateIntakeToken }', (d) => [d.rotateIntakeToken], 'SELECT count(*)::int AS n FROM event WHERE workspace_id = $1'],
    [
      'updateWorkspace, its intake token selected',
      () => 'mutation { updateWorkspace(input: { name: "Secret Idem Co" }) { intakeToken } }',
      (d) => [d.updateWorkspace.intakeToken].filter(Boolean),
      'SELECT count(*)::int AS n FROM event WHERE workspace_id = $1',
    ],
    [
      'logIn (with a bearer token)',
      () => `mutation { logIn(email: "${admin.email}", password: "${admin.password}") { accessToken refreshToken } }`,
      (d) => [d.logIn.accessToken, d.logIn.refreshToken],
      'SELECT count(*)::int AS n FROM refresh_token WHERE workspace_id = $1',
    ],
  ];

  it.each(SECRET_MUTATIONS)('%s: the secret is never stored, and a retry does not run it again', async (name, query, secrets, effect) => {
    const key = `secret-${name.replace(/\W+/g, '-')}`;
    const first = await t.gql(query(), {}, admin.accessToken, { 'idempotency-key': key });
    expect(first.errors).toBeUndefined();
    const values = secrets(first.data);
    const text = await stored();
    for (const s of values) expect(text).not.toContain(s);
    const before = await rows(effect);
    const retry = await t.gql(query(), {}, admin.accessToken, { 'idempotency-key': key });
    expect(codes(retry)).toEqual(['CONFLICT']);
    expect(retry.errors![0].message).toMatch(/secret/);
    expect(retry.data ?? null).toBeNull();
    expect(await rows(effect)).toBe(before);
  });

  it('the same mutation without its secret selected is replayed as usual', async () => {
    const q = 'mutation { createWebhookEndpoint(input: { url: "https://example.com/third", events: ["contact.*"] }) { endpoint { id url } } }';
    const first = await t.gql(q, {}, admin.accessToken, { 'idempotency-key': 'no-secret' });
    const retry = await t.gql(q, {}, admin.accessToken, { 'idempotency-key': 'no-secret' });
    expect(retry.errors).toBeUndefined();
    expect(retry.data).toEqual(first.data);
  });

  it('a replay is re-authorised: a user whose role changed gets FORBIDDEN, not the stored answer', async () => {
    const user = await userWithRole(t, admin, 'MANAGER');
    const q = 'mutation { createAccount(input: { name: "Made by a manager" }) { id } }';
    const first = await t.gql(q, {}, user.token, { 'idempotency-key': 'role-change' });
    expect(first.errors).toBeUndefined();
    expect((await t.gql(q, {}, user.token, { 'idempotency-key': 'role-change' })).data).toEqual(first.data);
    const demoted = await t.gql(`mutation($id: ID!) { updateUser(id: $id, input: { role: READ_ONLY }) { role } }`, { id: user.id }, admin.accessToken);
    expect(demoted.errors).toBeUndefined();
    const replay = await t.gql(q, {}, user.token, { 'idempotency-key': 'role-change' });
    expect(codes(replay)).toEqual(['FORBIDDEN']);
    expect(replay.data ?? null).toBeNull();
    expect(await rows(`SELECT count(*)::int AS n FROM account WHERE workspace_id = $1 AND name = 'Made by a manager'`)).toBe(1);
  });

  it('a replay is re-authorised: a revoked API key gets UNAUTHENTICATED', async () => {
    const created = await t.gql(
      'mutation { createApiKey(input: { name: "Short-lived", scopes: [READ, WRITE] }) { secret apiKey { id } } }',
      {},
      admin.accessToken,
    );
    const { secret, apiKey } = created.data.createApiKey;
    const q = 'mutation { createAccount(input: { name: "Made by a key" }) { id } }';
    expect((await t.gql(q, {}, secret, { 'idempotency-key': 'revoked' })).errors).toBeUndefined();
    await t.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: apiKey.id }, admin.accessToken);
    expect(codes(await t.gql(q, {}, secret, { 'idempotency-key': 'revoked' }))).toEqual(['UNAUTHENTICATED']);
  });
});
