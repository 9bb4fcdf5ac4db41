import { Writable } from 'node:stream';
import { exportRows } from '../scripts/export';
import { jsonArrayElements } from '../scripts/lib/api-client';
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

/** Strings that a splitter not aware of JSON strings and escapes would cut or end in the wrong place. */
const TRICKY = ['He said "hi", {x} [y]', 'back\\slash\\', 'ends with a quote"', '\\"', 'line\nbreak\ttab', 'ü 😀 \u2028', '', ']},{"', '\\\\'];

describe('cutting a JSON array into its elements', () => {
  it('gives each element as JSON.stringify writes it, whatever its strings hold', () => {
    const values = [...TRICKY.map((s, i) => ({ id: i, s, nested: { list: [s, [s], {}], n: null } })), [], {}, 'plain', 12.5, null, true, [[['deep']]]];
    const text = `{"data":${JSON.stringify(values)},"after":1}`;
    const open = text.indexOf('[');
    const { elements, close } = jsonArrayElements(text, open);
    expect(elements).toEqual(values.map((v) => JSON.stringify(v)));
    expect(text.slice(close)).toBe('],"after":1}');
    expect(jsonArrayElements('[]', 0)).toEqual({ elements: [], close: 1 });
  });

  it('refuses text that ends inside a string or before the array closes', () => {
    expect(() => jsonArrayElements('[{"a":"b\\"}]', 0)).toThrow('unterminated string');
    expect(() => jsonArrayElements('[{"a":1}', 0)).toThrow('unterminated array');
  });
});

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
      const inputs = Array.from({ length: 500 }, (_, i) => ({
        externalId: `c-${b}-${i}`,
        lastName: `Person ${b}-${i}`,
        email: `p${b}-${i}@export.test`,
        title: b % 2 ? 'Buyer' : 'CEO',
      }));
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
      const r: any = await t.gql(
        `query($a: String) { contacts(first: 1, after: $a, filter: { lastName: { startsWith: "Person 0-1" } }) { pageInfo { endCursor } nodes { firstName lastName } } }`,
        { a: after },
        client.token,
      );
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
    const got = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id as string);
    expect(rows).toBe(2500);
    expect(got.length).toBe(2500);
    expect([...got].sort()).toEqual(ids);
  });

  it('writes NDJSON lines that are the rows as the API answers them, strings with quotes, escapes and brackets included', async () => {
    const inputs = TRICKY.map((s, i) => ({ externalId: `tricky-${i}`, lastName: `Tricky ${i} ${s}`, title: s || null }));
    expect(
      (await t.gql(`mutation($i: [UpsertContactInput!]!) { upsertContacts(inputs: $i) { created } }`, { i: inputs }, client.token)).data.upsertContacts.created,
    ).toBe(TRICKY.length);
    const out = sink();
    const filter = { externalId: { startsWith: 'tricky-' } };
    const { rows } = await exportRows(client, { entity: 'contacts', format: 'ndjson', out, quiet: true, filter });
    const lines = out.text().split('\n');
    expect(lines.pop()).toBe('');
    expect(rows).toBe(TRICKY.length);
    const api = await t.gql(
      `query($f: ContactFilter) { contacts(first: 100, filter: $f) { nodes { externalId lastName title } } }`,
      { f: filter },
      client.token,
    );
    const byId = new Map(api.data.contacts.nodes.map((n: { externalId: string }) => [n.externalId, n]));
    for (const line of lines) {
      const row = JSON.parse(line);
      expect(JSON.stringify(row)).toBe(line);
      expect({ externalId: row.externalId, lastName: row.lastName, title: row.title }).toEqual(byId.get(row.externalId));
    }
    expect(new Set(lines.map((l) => JSON.parse(l).externalId)).size).toBe(TRICKY.length);
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
