import { request as httpRequest } from 'node:http';
import type { Client } from 'pg';
import { apiKey, codes, signUp, type GqlResponse, type SignedUp, type TestApp } from '../helpers/app';
import { expectNoStack, ownerClient, startHardeningApp, within } from './support/app';
import { crossReferences, tenantTables, workspaceIds } from './support/snapshot';
import { wsOnce } from './support/ws';

/**
 * The tenant context under pressure: one pooled connection shared by two workspaces' requests,
 * thousands of them interleaved (reads, writes, batches rolled back half-way, mutations that fail
 * after a first one succeeded, requests abandoned mid-flight, some over WebSocket), with the
 * background workers on the same connection. No answer to one workspace may hold an id or a name of
 * the other; every write lands in its own workspace; nothing hangs.
 */

const SEED = Number(process.env.HARDENING_SEED ?? 20251127);
const REQUESTS = Number(process.env.HARDENING_PRESSURE_REQUESTS ?? 2400);
const IN_FLIGHT = 40;

/** mulberry32: a small seeded generator, so that a failing run can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Tenant {
  tag: string;
  admin: SignedUp;
  key: string;
  accounts: string[];
  answers: string[];
  /** External ids of batches that were refused whole: none of them may exist. */
  refused: string[];
  /** Names that a mutation created before a later field of the same request failed: all must exist. */
  kept: string[];
  /** Names of the failing fields: none may exist. */
  dropped: string[];
}

describe('tenant context under pressure: one connection, two workspaces', () => {
  let t: TestApp;
  let owner: Client;
  let A: Tenant;
  let B: Tenant;
  beforeAll(async () => {
    // Rate limiting stays on: charging a credential first seen reads its bucket, through the held connection.
    // A large bucket: 2400 requests at full speed, each priced at what its relation lists may fetch, would drain the default one.
    t = await startHardeningApp({ DB_POOL_SIZE: '1', RATE_LIMIT_CAPACITY: '1000000000' });
    expect(t.config.dbPoolSize).toBe(1);
    owner = await ownerClient(t);
    const tenant = async (tag: string): Promise<Tenant> => {
      const admin = await signUp(t, `${tag} workspace`);
      const key = (await apiKey(t, admin, ['READ', 'WRITE'])).secret;
      const accounts: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await t.gql(
          'mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }',
          { i: { name: `${tag} seed ${i}`, domain: `${tag.toLowerCase()}-${i}.example.com` } },
          admin.accessToken,
        );
        accounts.push(r.data.createAccount.id);
      }
      return { tag, admin, key, accounts, answers: [], refused: [], kept: [], dropped: [] };
    };
    // With a pool of one, a request that waits for a second connection while holding the only one hangs forever.
    A = await within(20_000, 'seeding workspace A on a pool of one', tenant('Ambertenant'));
    B = await within(20_000, 'seeding workspace B on a pool of one', tenant('Birchtenant'));
  }, 60_000);
  afterAll(async () => {
    await owner?.end();
    await t?.close();
  });

  /** A request abandoned by its client after `ms`: the server must still end its transaction. */
  function abandoned(token: string, body: object, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const req = httpRequest(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.end(JSON.stringify(body));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, ms);
    });
  }

  it(`${REQUESTS} interleaved requests never show one workspace the other's rows (seed ${SEED})`, async () => {
    const random = rng(SEED);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
    let n = 0;
    const statuses: number[] = [];
    const internal: string[] = [];

    async function one(me: Tenant, other: Tenant): Promise<void> {
      const i = n++;
      const token = random() < 0.3 ? me.key : me.admin.accessToken;
      const roll = random();
      let r: GqlResponse | undefined;
      if (roll < 0.25) {
        // 20 a page: each account's contacts are priced at their cap (500), and 50 would cost more than the limit.
        r = await t.gql('{ accounts(first: 20) { totalCount nodes { id name domain owner { id email } contacts { id name } } } }', {}, token);
        expect(r.data?.accounts?.totalCount ?? 0).toBeGreaterThanOrEqual(10);
      } else if (roll < 0.35) {
        r = await t.gql('{ me { workspace { id name } } users { nodes { id email name } } }', {}, token);
        expect(r.data.me.workspace.id).toBe(me.admin.workspaceId);
      } else if (roll < 0.42) {
        // The other workspace's id, guessed: NOT_FOUND or null, never its row.
        r = await t.gql('query($id: ID!) { account(id: $id) { id name } }', { id: pick(other.accounts) }, token);
        expect(r.data?.account ?? null).toBeNull();
      } else if (roll < 0.5) {
        r = await t.gql(
          'query($q: String!) { search(query: $q, first: 20) { id title } changes(first: 20) { events { entityId type data } } }',
          { q: other.tag.slice(0, 5) },
          token,
        );
      } else if (roll < 0.65) {
        r = await t.gql('mutation($i: CreateAccountInput!) { createAccount(input: $i) { id name } }', { i: { name: `${me.tag} made ${i}` } }, token);
        if (r.data?.createAccount) me.accounts.push(r.data.createAccount.id);
      } else if (roll < 0.73) {
        r = await t.gql(
          'mutation($id: ID!, $n: String!) { updateAccount(id: $id, input: { industry: $n }) { id industry } }',
          { id: pick(me.accounts.slice(0, 10)), n: `${me.tag} industry ${i}` },
          token,
        );
      } else if (roll < 0.81) {
        // A batch that writes rows, then meets a bad one: allOrNone rolls all of it back.
        const ext = [`${me.tag}-batch-${i}-a`, `${me.tag}-batch-${i}-b`];
        r = await t.gql(
          'mutation($i: [UpsertAccountInput!]!) { upsertAccounts(inputs: $i, allOrNone: true) { failed results { status errors { field } } } }',
          {
            i: [
              { externalId: ext[0], name: `${me.tag} batch ${i}` },
              { externalId: ext[1], name: `${me.tag} batch ${i}` },
              { externalId: `${me.tag}-batch-${i}-c`, name: '' },
            ],
          },
          token,
        );
        me.refused.push(...ext);
      } else if (roll < 0.88) {
        // The first mutation succeeds, the second fails after it: its savepoint alone is rolled back.
        const [good, bad] = [`${me.tag} kept ${i}`, `${me.tag} dropped ${i}`];
        r = await t.gql(
          'mutation($g: String!, $b: String!, $o: ID!) { a: createAccount(input: { name: $g }) { id } b: createContact(input: { lastName: $b, accountId: $o }) { id } }',
          { g: good, b: bad, o: pick(other.accounts) },
          me.admin.accessToken,
        );
        expect(codes(r)).toEqual([expect.stringMatching(/^(NOT_FOUND|BAD_USER_INPUT)$/)]);
        if (r.data?.a) me.accounts.push(r.data.a.id);
        me.kept.push(good);
        me.dropped.push(bad);
      } else if (roll < 0.9) {
        // Signing in again with the old token still sent (as clients do): the sign-in takes
        // connections of its own and must not wait for one while the request holds the only one.
        r = await t.gql(
          'mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { user { id } workspace { id name } } }',
          { e: me.admin.email, p: me.admin.password },
          me.admin.accessToken,
        );
        expect(r.data.logIn.workspace.id).toBe(me.admin.workspaceId);
      } else if (roll < 0.93) {
        const o = await wsOnce(t.url, `Bearer ${token}`, '{ accounts(first: 20) { nodes { id name } } me { workspace { id } } }');
        me.answers.push(o.raw);
        expect(o.results[0]?.data).toMatchObject({ me: { workspace: { id: me.admin.workspaceId } } });
        return;
      } else {
        await abandoned(token, { query: `mutation { createAccount(input: { name: "${me.tag} abandoned ${i}" }) { id } }` }, Math.floor(random() * 5));
        return;
      }
      statuses.push(r.status);
      if (codes(r).includes('INTERNAL_SERVER_ERROR')) internal.push(JSON.stringify(r.body));
      expectNoStack(r.body);
      me.answers.push(JSON.stringify(r.body));
    }

    const queue = Array.from({ length: REQUESTS }, () => (random() < 0.5 ? [A, B] : [B, A]));
    const workers = Array.from({ length: IN_FLIGHT }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await within(30_000, 'a request under pressure', one(job[0], job[1]));
    });
    await Promise.all(workers);

    expect(internal).toEqual([]);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    const tables = await tenantTables(owner);
    for (const [me, other] of [
      [A, B],
      [B, A],
    ]) {
      const otherIds = await workspaceIds(owner, other.admin.workspaceId, tables);
      const foreign = new RegExp(`${other.tag}|${other.admin.email}`, 'i');
      const leaks = me.answers.filter((text) => foreign.test(text) || otherIds.some((id) => text.includes(id)));
      expect({ workspace: me.tag, leaks: leaks.slice(0, 3), count: leaks.length }).toEqual({ workspace: me.tag, leaks: [], count: 0 });
      // Every row landed in the workspace of the one who wrote it, and refers to nothing of the other.
      const misplaced = await owner.query(`SELECT count(*)::int AS n FROM account WHERE workspace_id = $1 AND name LIKE $2`, [
        me.admin.workspaceId,
        `${other.tag}%`,
      ]);
      expect(misplaced.rows[0].n).toBe(0);
      expect(await crossReferences(owner, me.admin.workspaceId, otherIds, tables)).toEqual([]);
      const refused = await owner.query(`SELECT external_id FROM account WHERE external_id = ANY($1)`, [me.refused]);
      expect(refused.rows).toEqual([]);
      const kept = await owner.query(`SELECT count(*)::int AS n FROM account WHERE workspace_id = $1 AND name = ANY($2)`, [me.admin.workspaceId, me.kept]);
      expect(kept.rows[0].n).toBe(me.kept.length);
      const dropped = await owner.query(`SELECT count(*)::int AS n FROM contact WHERE last_name = ANY($1)`, [me.dropped]);
      expect(dropped.rows[0].n).toBe(0);
    }
    expect(A.answers.length + B.answers.length).toBeGreaterThan(REQUESTS * 0.9);
    expect(A.refused.length + A.kept.length).toBeGreaterThan(0);
  }, 240_000);

  it('afterwards the one connection is back in the pool, outside any transaction', async () => {
    const r = await within(5_000, 'readyz', fetch(`${t.url}/readyz`));
    expect(r.status).toBe(200);
    const me = await t.gql('{ me { workspace { id } } }', {}, A.admin.accessToken);
    expect(me.data.me.workspace.id).toBe(A.admin.workspaceId);
    const { rows } = await owner.query<{ state: string }>(
      `SELECT state FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'trellis' AND pid <> pg_backend_pid()`,
    );
    expect(rows.length).toBeLessThanOrEqual(1);
    expect(rows.filter((x) => x.state.startsWith('idle in transaction'))).toEqual([]);
  });
});
