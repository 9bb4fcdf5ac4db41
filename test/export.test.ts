import { Writable } from 'node:stream';
import { exportRows } from '../scripts/export';
import { apiKey, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

/** What the export wrote, kept in memory. */
function sink(): Writable & { text(): string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(w, { text: () => chunks.join('') });
}

describe('export through the API in parallel ranges of creation time', () => {
  let t: TestApp;
  let admin: SignedUp;
  let client: { url: string; token: string };
  let ids: string[];

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Export Co');
    client = { url: `${t.url}/graphql`, token: (await apiKey(t, admin, ['READ', 'WRITE'])).secret };
    // Five batches, five creation times: ranges cut between them.
    for (let b = 0; b < 5; b++) {
      const inputs = Array.from({ length: 500 }, (_, i) => ({ externalId: `c-${b}-${i}`, lastName: `Person ${b}-${i}`, email: `p${b}-${i}@export.test`, title: b % 2 ? 'Buyer' : 'CEO' }));
      const r = await t.gql(`mutation($i: [UpsertContactInput!]!) { upsertContacts(inputs: $i) { created } }`, { i: inputs }, client.token);
      expect(r.data.upsertContacts.created).toBe(500);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const all = await t.sql<{ id: string }>(`SELECT id FROM contact WHERE workspace_id = $1 AND deleted_at IS NULL`, [admin.workspaceId]);
    ids = all.map((r) => r.id).sort();
  });
  afterAll(() => t.close());

  it('pages on past a cursor row whose sort key is null (contacts without a first name, by last then first name)', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 4; i++) {
      const r: any = await t.gql(`query($a: String) { contacts(first: 1, after: $a, filter: { lastName: { startsWith: "Person 0-1" } }) { pageInfo { endCursor } nodes { firstName lastName } } }`, { a: after }, client.token);
      expect(r.errors).toBeUndefined();
      expect(r.data.contacts.nodes[0].firstName).toBeNull();
      seen.push(r.data.contacts.nodes[0].lastName);
      after = r.data.contacts.pageInfo.endCursor;
    }
    expect(seen).toEqual(['Person 0-1', 'Person 0-10', 'Person 0-100', 'Person 0-101']);
  });

  it.each([1, 2, 3, 8])('with %i range(s): every row exactly once', async (parallel) => {
    const out = sink();
    const { rows } = await exportRows(client, { entity: 'contacts', format: 'ndjson', out, quiet: true, parallel });
    const got = out.text().trim().split('\n').map((l) => JSON.parse(l).id as string);
    expect(rows).toBe(2500);
    expect(got.length).toBe(2500);
    expect([...got].sort()).toEqual(ids);
  });

  it('with a filter, in CSV: the matching rows once, one header', async () => {
    const out = sink();
    const { rows } = await exportRows(client, { entity: 'contacts', format: 'csv', out, quiet: true, parallel: 3, filter: { title: { eq: 'Buyer' } } });
    const lines = out.text().trim().split('\n');
    expect(rows).toBe(1000);
    expect(lines.length).toBe(1001);
    expect(lines[0].split(',')).toContain('email');
    expect(lines.filter((l) => l.startsWith('id,'))).toHaveLength(1);
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(1000);
  });

  it('stops at a limit, and refuses a parallelism out of range', async () => {
    const out = sink();
    expect((await exportRows(client, { entity: 'contacts', format: 'ndjson', out, quiet: true, parallel: 2, limit: 700 })).rows).toBe(700);
    expect(out.text().trim().split('\n')).toHaveLength(700);
    await expect(exportRows(client, { entity: 'contacts', format: 'ndjson', out: sink(), parallel: 9 })).rejects.toThrow('--parallel must be 1 to 8');
  });
});
