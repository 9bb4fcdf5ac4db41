import { codes, signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';

// Search as you type (issue 20): every prefix of 2 to 12 letters of every word, checked against a
// reference computed here from the records themselves (their text read from the tables, split into
// words in this file), over records written in one statement (the same creation time: ties go to
// the greater id), in several kinds, with accents, deletions and a second workspace.

interface Hit {
  type: string;
  id: string;
  title: string;
  score: number;
}

const FIRST = ['Ada', 'Zoë', 'Noor', 'Jürgen', 'Nora'];
const LAST = ['Northcott', 'Lovelace', 'Nørgaard', 'Robotham'];
const COMPANY = ['Northwind', 'Nordwest', 'Robotica', 'Société'];
const PRODUCT = ['Robotics', 'Logistics', 'Renewal'];

describe('search as you type', () => {
  let t: TestApp;
  let admin: SignedUp;
  let other: SignedUp;
  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false', RATE_LIMIT_REFILL_PER_SECOND: '0' });
    admin = await signUp(t, 'Typing Co');
    other = await signUp(t, 'Elsewhere Co');
    // One statement per kind: every record of a kind has the same creation time.
    const accounts = COMPANY.flatMap((c, i) => PRODUCT.map((p, j) => ({ externalId: `a${i}${j}`, name: `${c} ${p}`, domain: `${c}-${p}.com`.toLowerCase() })));
    const contacts = FIRST.flatMap((f, i) =>
      LAST.map((l, j) => ({ externalId: `c${i}${j}`, firstName: f, lastName: l, email: `${f[0]}${j}@${COMPANY[j]}.io` })),
    );
    const leads = FIRST.map((f, i) => ({ externalId: `l${i}`, firstName: f, lastName: LAST[i % LAST.length], company: `${COMPANY[i % COMPANY.length]} Labs` }));
    const opportunities = PRODUCT.flatMap((p, i) => COMPANY.map((c, j) => ({ externalId: `o${i}${j}`, name: `${c}: ${p} ${2024 + j}` })));
    for (const [kind, plural, inputs] of [
      ['Account', 'Accounts', accounts],
      ['Contact', 'Contacts', contacts],
      ['Lead', 'Leads', leads],
      ['Opportunity', 'Opportunities', opportunities],
    ] as const) {
      const r = await gql(`mutation($i: [Upsert${kind}Input!]!) { upsert${plural}(inputs: $i) { created failed } }`, { i: inputs });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data[`upsert${plural}`]).toEqual({ created: inputs.length, failed: 0 });
    }
    await t.gql('mutation { createAccount(input: { name: "Northwind Elsewhere" }) { id } }', {}, other.accessToken);
  }, 60_000);
  afterAll(() => t.close());

  function gql(query: string, variables: Record<string, unknown> = {}, token = admin.accessToken) {
    return t.gql(query, variables, token);
  }
  async function search(query: string, types?: string[], first = 100, token = admin.accessToken): Promise<Hit[]> {
    const r = await gql(
      'query($q: String!, $t: [SearchableType!], $f: Int) { search(query: $q, types: $t, first: $f) { type id title score } }',
      { q: query, t: types, f: first },
      token,
    );
    expect(r.body.errors).toBeUndefined();
    return r.body.data.search;
  }

  /** Each live record of the workspace, with its words (of 2 letters or more) in its title and in the rest. */
  async function records(workspaceId: string) {
    const rows = await t.sql<{ type: string; id: string; created: string; title: string; rest: string | null }>(
      `SELECT 'ACCOUNT' AS type, id, created_at::text AS created, trellis_search_text(name) AS title, trellis_search_text(domain) AS rest FROM account WHERE workspace_id = $1 AND deleted_at IS NULL
       UNION ALL SELECT 'CONTACT', id, created_at::text, trellis_search_text(first_name, last_name), trellis_search_text(email) FROM contact WHERE workspace_id = $1 AND deleted_at IS NULL
       UNION ALL SELECT 'LEAD', id, created_at::text, trellis_search_text(first_name, last_name), trellis_search_text(email, company) FROM lead WHERE workspace_id = $1 AND deleted_at IS NULL
       UNION ALL SELECT 'OPPORTUNITY', id, created_at::text, trellis_search_text(name), NULL FROM opportunity WHERE workspace_id = $1 AND deleted_at IS NULL`,
      [workspaceId],
    );
    const split = (s: string | null) => (s ?? '').split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 2);
    return rows.map((r) => ({ ...r, titleWords: split(r.title), restWords: split(r.rest) }));
  }

  /**
   * The reference ranking of a one-word prefix: a record whose word is the prefix itself first (a word
   * of its name before one of its email, domain or company), then a record with a word that starts
   * with it (likewise), each newest first, then by id, descending.
   */
  function reference(rs: Awaited<ReturnType<typeof records>>, prefix: string) {
    const key = (r: (typeof rs)[number]) => {
      const exact = r.titleWords.includes(prefix) ? 0 : r.restWords.includes(prefix) ? 1 : null;
      if (exact !== null) return [0, exact];
      const starts = (ws: string[]) => ws.some((w) => w.startsWith(prefix) && w !== prefix);
      return starts(r.titleWords) ? [1, 0] : starts(r.restWords) ? [1, 1] : null;
    };
    return rs
      .map((r) => ({ r, k: key(r) }))
      .filter((x) => x.k)
      .sort((a, b) => a.k![0] - b.k![0] || a.k![1] - b.k![1] || (a.r.created < b.r.created ? 1 : a.r.created > b.r.created ? -1 : a.r.id < b.r.id ? 1 : -1))
      .map((x) => `${x.r.type}:${x.r.id}`);
  }

  it('finds every prefix of 2 to 12 letters of every word, ranked as the reference computed from the records', async () => {
    const rs = await records(admin.workspaceId);
    const words = [...new Set(rs.flatMap((r) => [...r.titleWords, ...r.restWords]))];
    let checked = 0;
    for (const word of words)
      for (let n = 2; n <= Math.min(12, word.length); n += word.length > 8 ? 3 : 1) {
        const prefix = word.slice(0, n);
        const expected = reference(rs, prefix);
        // The prefix's own matches (scores 3 to 1.75); typo matches (below 1.5) may follow them.
        const hits = await search(prefix);
        const got = hits.filter((h) => h.score >= 1.75).map((h) => `${h.type}:${h.id}`);
        expect({ prefix, got }).toEqual({ prefix, got: expected.slice(0, 100) });
        if (prefix.length < 4) expect(hits.length).toBe(got.length);
        checked++;
      }
    expect(checked).toBeGreaterThan(40);
  }, 120_000);

  it('matches every word as typed, in any order, and ignores case and accents', async () => {
    const titles = async (q: string) => (await search(q)).map((h) => h.title);
    expect(await titles('nort rob')).toEqual(expect.arrayContaining(['Northwind Robotics', 'Northwind: Robotics 2024']));
    // Above the typo matches: exactly the records with a word starting with each.
    const rs = await records(admin.workspaceId);
    const starts = (r: (typeof rs)[number], p: string) => [...r.titleWords, ...r.restWords].some((w) => w.startsWith(p));
    const both = rs.filter((r) => starts(r, 'nort') && starts(r, 'rob')).map((r) => r.id);
    const prefixHits = (await search('nort rob')).filter((h) => h.score >= 1.75).map((h) => h.id);
    expect(prefixHits.sort()).toEqual(both.sort());
    expect(both.length).toBeGreaterThanOrEqual(2);
    expect(await titles('rob NORT')).toEqual(await titles('nort rob'));
    // The contact and the lead named Zoë Lovelace.
    expect(await titles('zoe lov')).toEqual(['Zoë Lovelace', 'Zoë Lovelace']);
    expect(await titles('ZOË LOVE')).toEqual(await titles('zoe lov'));
    expect(await titles('nørg')).toEqual(await titles('NORG'));
    // An account, a deal, and a lead whose company is Société Labs.
    expect(await titles('socie')).toEqual(expect.arrayContaining(['Société Robotics', 'Société: Renewal 2027', 'Jürgen Robotham']));
    expect(await titles('nort zzqq')).toEqual([]);
  });

  it('tolerates one typo in a word of four letters or more, ranked below every prefix match', async () => {
    const hits = await search('nortwind');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => /northwind/i.test(h.title) || h.type === 'CONTACT' || h.type === 'LEAD')).toBe(true);
    expect(hits.map((h) => h.title)).toEqual(expect.arrayContaining(['Northwind Robotics', 'Northwind: Logistics 2024']));
    const robotcs = (await search('robotcs', ['ACCOUNT'])).map((h) => h.title);
    expect(robotcs).toEqual(expect.arrayContaining(['Nordwest Robotics', 'Northwind Robotics', 'Robotica Robotics', 'Société Robotics']));
    expect(robotcs.every((x) => /robotic/i.test(x))).toBe(true);
    // Every match of the word (tier scores 3 and 2) ranks above every typo match (below 1.5).
    const mixed = await search('robotica');
    const firstTypo = mixed.findIndex((h) => h.score < 1.5);
    expect(firstTypo).toBeGreaterThan(0);
    expect(mixed.slice(firstTypo).map((h) => h.title)).toContain('Northwind Robotics');
    expect(mixed.slice(0, firstTypo).map((h) => h.title)).not.toContain('Northwind Robotics');
    for (let i = 1; i < mixed.length; i++) expect(mixed[i - 1].score).toBeGreaterThanOrEqual(mixed[i].score);
    // Three letters are too few to tell a typo from another word.
    expect(await search('nrt')).toEqual([]);
    // A word with a digit is no name with a typo: it only matches as typed.
    expect(await search('nortwind1')).toEqual([]);
  });

  it('a record is found as soon as its write commits, with its new words only, and not once deleted', async () => {
    const created = await gql('mutation { createAccount(input: { name: "Quixotic Widgets" }) { id } }');
    const id = created.body.data.createAccount.id;
    expect((await search('quix')).map((h) => h.id)).toEqual([id]);
    await gql('mutation($id: ID!) { updateAccount(id: $id, input: { name: "Zebulon Widgets" }) { id } }', { id });
    expect(await search('quix')).toEqual([]);
    expect((await search('zebu')).map((h) => h.id)).toEqual([id]);
    await gql('mutation($id: ID!) { deleteAccount(id: $id) { id } }', { id });
    expect(await search('zebu')).toEqual([]);
    await gql('mutation($id: ID!) { restoreAccount(id: $id) { id } }', { id });
    expect((await search('zebu')).map((h) => h.id)).toEqual([id]);
    // The postings follow the record: exactly one per word, none left for the deleted name.
    const postings = await t.sql<{ word: string }>('SELECT word FROM search_posting WHERE record_id = $1 ORDER BY word', [id]);
    expect(postings.map((p) => p.word)).toEqual(['widgets', 'zebulon']);
  });

  it('finds words that are rarely together past the first thousand candidates of the longest', async () => {
    // The 3 oldest of 1 103 "Walkabout" accounts are also "Zeppelin": the walk of the newest 1 000
    // finds none of them, and the rest of the tier is joined.
    const batch = async (names: string[]) => {
      const r = await gql('mutation($i: [UpsertAccountInput!]!) { upsertAccounts(inputs: $i) { created } }', {
        i: names.map((name) => ({ externalId: `walk ${name}`, name })),
      });
      expect(r.body.data.upsertAccounts.created).toBe(names.length);
    };
    await batch(['Walkabout Zeppelin 1', 'Walkabout Zeppelin 2', 'Walkabout Zeppelin 3']);
    await batch(Array.from({ length: 1000 }, (_, i) => `Walkabout ${i}`));
    await batch(Array.from({ length: 100 }, (_, i) => `Walkabout late ${i}`));
    const oldest = await t.sql<{ id: string }>(
      `SELECT id FROM account WHERE workspace_id = $1 AND name LIKE 'Walkabout Zeppelin%' ORDER BY created_at DESC, id DESC`,
      [admin.workspaceId],
    );
    expect((await search('walkabout zeppelin')).map((h) => h.id)).toEqual(oldest.map((r) => r.id));
    expect((await search('zeppel walkab')).map((h) => h.id)).toEqual(oldest.map((r) => r.id));
    expect((await search('walkabout zepelin')).map((h) => h.id)).toEqual(oldest.map((r) => r.id));
    expect((await search('walkabout late 99')).map((h) => h.title)).toEqual(['Walkabout late 99']);
  }, 60_000);

  it('keeps to the caller workspace and the kinds asked for; a read-only user searches too', async () => {
    expect((await search('northwind')).map((h) => h.title)).not.toContain('Northwind Elsewhere');
    expect((await search('northwind', undefined, 100, other.accessToken)).map((h) => h.title)).toEqual(['Northwind Elsewhere']);
    for (const type of ['ACCOUNT', 'CONTACT', 'LEAD', 'OPPORTUNITY']) {
      const hits = await search('no', [type]);
      expect(hits.length).toBeGreaterThan(0);
      expect(new Set(hits.map((h) => h.type))).toEqual(new Set([type]));
    }
    const ro = await userWithRole(t, admin, 'READ_ONLY');
    expect((await search('nort rob', undefined, 100, ro.token)).length).toBe((await search('nort rob')).length);
    expect((await search('nor', undefined, 3)).length).toBe(3);
    for (const bad of ['a', ' ', 'x'.repeat(201)])
      expect(codes(await gql('query($q: String!) { search(query: $q) { id } }', { q: bad }))).toEqual(['BAD_USER_INPUT']);
    // Punctuation and one-letter words alone find nothing; quotes are text.
    expect(await search('a b')).toEqual([]);
    expect(await search(`no'rth"; --`)).toEqual([]);
  });
});
