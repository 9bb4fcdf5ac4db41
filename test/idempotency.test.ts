import { codes, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

const CREATE = 'mutation($n: String!) { createAccount(input: { name: $n }) { id name } }';

describe('idempotency keys', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Idem Co');
  });
  afterAll(() => t.close());
  const send = (key: string, name: string) => t.gql(CREATE, { n: name }, admin.accessToken, { 'idempotency-key': key });
  const count = async (name: string) => (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM account WHERE name = $1', [name]))[0].n;

  it('runs a mutation once; a retry with the same key and body gets the stored response', async () => {
    const first = await send('key-1', 'Once');
    const again = await send('key-1', 'Once');
    expect(first.errors).toBeUndefined();
    expect(again.data).toEqual(first.data);
    expect(await count('Once')).toBe(1);
    const events = await t.sql('SELECT 1 FROM event WHERE entity_id = $1', [first.data.createAccount.id]);
    expect(events).toHaveLength(1);
  });

  it('the same key with another body is CONFLICT and writes nothing', async () => {
    await send('key-2', 'Original');
    const other = await send('key-2', 'Different');
    expect(codes(other)).toEqual(['CONFLICT']);
    expect(await count('Different')).toBe(0);
  });

  it('two concurrent requests with one key never both write', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => send('key-3', 'Concurrent')));
    expect(results.every((r) => !r.errors)).toBe(true);
    expect(new Set(results.map((r) => r.data.createAccount.id)).size).toBe(1);
    expect(await count('Concurrent')).toBe(1);
  });

  it('keys are per credential, and requests without a key or queries are not affected', async () => {
    const other = await signUp(t, 'Other idem');
    const mine = await send('key-4', 'Mine');
    const theirs = await t.gql(CREATE, { n: 'Mine' }, other.accessToken, { 'idempotency-key': 'key-4' });
    expect(theirs.data.createAccount.id).not.toBe(mine.data.createAccount.id);
    await t.gql(CREATE, { n: 'No key' }, admin.accessToken);
    await t.gql(CREATE, { n: 'No key' }, admin.accessToken);
    expect(await count('No key')).toBe(2);
    const q = await t.gql('{ accounts { totalCount } }', {}, admin.accessToken, { 'idempotency-key': 'key-5' });
    expect(q.errors).toBeUndefined();
  });

  it('a key kept past 24 hours runs again', async () => {
    await send('key-6', 'Expiring');
    await t.sql(`UPDATE idempotency_key SET expires_at = now() - interval '1 second' WHERE key = 'key-6'`);
    await send('key-6', 'Expiring');
    expect(await count('Expiring')).toBe(2);
  });

  it('a malformed key is BAD_USER_INPUT', async () => {
    expect(codes(await send('x'.repeat(300), 'Long key'))).toEqual(['BAD_USER_INPUT']);
    expect(await count('Long key')).toBe(0);
  });
});
