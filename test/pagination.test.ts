import { codes, signUp, startTestApp, type GqlResponse, type SignedUp, type TestApp } from './helpers/app';
// After the helpers, which load reflect-metadata for the decorators of src/.
import { MAX_PAGE_SIZE } from '../src/data/connection';

/**
 * Keyset pagination, ordering and the filter language, on the `users` list of one workspace whose
 * users this file creates through the API. Every expected answer is computed here, from the model
 * of what was created, never read back from the list under test.
 */

// src/graphql/filter.ts: MAX_NESTING (not exported). Filters nest at most this many levels.
const FILTER_NESTING_LIMIT = 8;

type Role = 'ADMIN' | 'MANAGER' | 'REP' | 'READ_ONLY';
type OrderField = 'NAME' | 'EMAIL' | 'ROLE' | 'CREATED_AT' | 'UPDATED_AT';
interface OrderKey {
  field: OrderField;
  direction?: 'ASC' | 'DESC';
  nulls?: 'FIRST' | 'LAST';
}

/** What the test knows about a user: what it sent, plus the id and timestamps the server assigned. */
interface Person {
  id: string;
  name: string;
  email: string;
  role: Role;
  teamId: string | null;
  active: boolean;
  /** created_at / updated_at in microseconds since the epoch (the database's precision). */
  createdUs: bigint;
  updatedUs: bigint;
}

interface Page {
  totalCount: number;
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const LIST = `query($first: Int, $after: String, $last: Int, $before: String, $orderBy: [UserOrder!], $filter: UserFilter) {
  users(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, filter: $filter) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

const CREATE_USER = 'mutation($i: CreateUserInput!) { createUser(input: $i) { id name email role active team { id } } }';

// The database collation is C.UTF-8: text sorts by code point, which is JavaScript's `<` for the
// ASCII names used here. UUIDs sort as their lower-case hex text does.
const compare = (a: string | bigint, b: string | bigint) => (a < b ? -1 : a > b ? 1 : 0);

function sortValue(p: Person, field: OrderField): string | bigint {
  switch (field) {
    case 'NAME':
      return p.name;
    case 'EMAIL':
      return p.email;
    case 'ROLE':
      return p.role;
    case 'CREATED_AT':
      return p.createdUs;
    case 'UPDATED_AT':
      return p.updatedUs;
  }
}

/**
 * The order the API documents: the keys in turn, then the id, in the direction of the last key.
 * No sortable user field can be null (they are all NOT NULL columns), so `nulls` never moves a row.
 */
function expectedOrder(people: Person[], keys: OrderKey[] = [{ field: 'NAME' }]): string[] {
  const lastDesc = keys.length > 0 && keys[keys.length - 1].direction === 'DESC';
  return [...people]
    .sort((a, b) => {
      for (const k of keys) {
        const c = compare(sortValue(a, k.field), sortValue(b, k.field));
        if (c !== 0) return k.direction === 'DESC' ? -c : c;
      }
      return lastDesc ? -compare(a.id, b.id) : compare(a.id, b.id);
    })
    .map((p) => p.id);
}

const encodeCursor = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
const decodeCursor = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as (string | null)[];

function expectNoStack(r: GqlResponse): void {
  const text = JSON.stringify(r.body);
  expect(text).not.toMatch(/stacktrace/i);
  expect(text).not.toMatch(/\bat \S+ \(|node_modules|\.js:\d+:\d+/);
}

describe('lists: keyset pagination, ordering and filters (users)', () => {
  let t: TestApp;
  let admin: SignedUp;
  const people: Person[] = [];
  const teams: Record<'alpha' | 'beta' | 'gamma', string> = { alpha: '', beta: '', gamma: '' };
  let emailSeq = 0;

  const list = (vars: Record<string, unknown>) => t.gql<{ users: Page }>(LIST, vars, admin.accessToken);

  async function okList(vars: Record<string, unknown>): Promise<Page> {
    const r = await list(vars);
    expect(r.errors).toBeUndefined();
    return r.data.users;
  }

  /** Creates users through the API and adds them to the model (with their server-side timestamps). */
  async function createUsers(specs: { name: string; email?: string; role: Role; team?: keyof typeof teams }[]): Promise<Person[]> {
    const made: Person[] = [];
    for (const s of specs) {
      const email =
        s.email ??
        `${
          s.name
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, '.')
            .replace(/^\.|\.$/g, '') || 'user'
        }.${++emailSeq}@example.com`;
      const teamId = s.team ? teams[s.team] : null;
      const r = await t.gql(CREATE_USER, { i: { name: s.name, email, role: s.role, teamId } }, admin.accessToken);
      expect(r.errors).toBeUndefined();
      const u = r.data.createUser;
      expect(u).toEqual({ id: expect.any(String), name: s.name, email, role: s.role, active: true, team: teamId ? { id: teamId } : null });
      made.push({ id: u.id, name: s.name, email, role: s.role, teamId, active: true, createdUs: 0n, updatedUs: 0n });
    }
    people.push(...made);
    await loadTimestamps();
    return made;
  }

  /** Timestamps are assigned by the database with microsecond precision; the API shows milliseconds. */
  async function loadTimestamps(): Promise<void> {
    const rows = await t.sql<{ id: string; c: string; u: string }>(
      `SELECT id, (extract(epoch FROM created_at) * 1000000)::bigint::text AS c, (extract(epoch FROM updated_at) * 1000000)::bigint::text AS u
       FROM app_user WHERE workspace_id = $1`,
      [admin.workspaceId],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const p of people) {
      const row = byId.get(p.id)!;
      p.createdUs = BigInt(row.c);
      p.updatedUs = BigInt(row.u);
    }
  }

  /** Pages forward with first/after until hasNextPage is false. */
  async function walkForward(size: number, vars: Record<string, unknown> = {}): Promise<{ ids: string[]; pages: Page[] }> {
    const pages: Page[] = [];
    let after: string | null = null;
    for (let i = 0; i < 200; i++) {
      const page = await okList({ ...vars, first: size, after });
      pages.push(page);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    return { ids: pages.flatMap((p) => p.edges.map((e) => e.node.id)), pages };
  }

  /** Pages backward with last/before from the end until hasPreviousPage is false. */
  async function walkBackward(size: number, vars: Record<string, unknown> = {}): Promise<{ ids: string[]; pages: Page[] }> {
    const pages: Page[] = [];
    let before: string | null = null;
    for (let i = 0; i < 200; i++) {
      const page = await okList({ ...vars, last: size, before });
      pages.push(page);
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    return { ids: [...pages].reverse().flatMap((p) => p.edges.map((e) => e.node.id)), pages };
  }

  function expectCursorsMatchEdges(page: Page): void {
    expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
    expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1]?.cursor ?? null);
  }

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Paging');
    const me = await t.gql('query($id: ID!) { user(id: $id) { id name email role active } }', { id: admin.userId }, admin.accessToken);
    const a = me.data.user;
    people.push({ id: a.id, name: a.name, email: a.email, role: a.role, teamId: null, active: a.active, createdUs: 0n, updatedUs: 0n });

    for (const [key, name] of [
      ['alpha', 'Alpha'],
      ['beta', 'Beta'],
      ['gamma', 'Gamma'],
    ] as const) {
      const r = await t.gql('mutation($i: CreateTeamInput!) { createTeam(input: $i) { id } }', { i: { name } }, admin.accessToken);
      expect(r.errors).toBeUndefined();
      teams[key] = r.data.createTeam.id;
    }

    await createUsers([
      // Four users, then three, with the same name: only the id orders them.
      { name: 'Sam Lee', role: 'REP', team: 'alpha' },
      { name: 'Sam Lee', role: 'REP' },
      { name: 'Sam Lee', role: 'MANAGER', team: 'beta' },
      { name: 'Sam Lee', role: 'REP', team: 'alpha' },
      { name: 'kim park', role: 'READ_ONLY' },
      { name: 'kim park', role: 'REP', team: 'beta' },
      { name: 'kim park', role: 'MANAGER', team: 'alpha' },
      // LIKE wildcards and the escape character, to be matched literally.
      { name: 'Ann 50% Off', role: 'REP' },
      { name: 'Ann 50 Percent', role: 'REP', team: 'beta' },
      { name: 'Ann 5000', role: 'MANAGER' },
      { name: '%Percent Pat', role: 'READ_ONLY' },
      { name: 'under_score', role: 'REP', team: 'alpha' },
      { name: 'underXscore', role: 'REP' },
      { name: '_Underscore First', role: 'ADMIN' },
      { name: 'Back\\slash', role: 'READ_ONLY', team: 'beta' },
      // Upper-case emails, for case-insensitive matching.
      { name: 'Zed Upper', email: 'Zed.Upper@Example.ORG', role: 'MANAGER', team: 'beta' },
      { name: 'Yolanda Young', email: 'YOLANDA@EXAMPLE.ORG', role: 'REP' },
      { name: 'Kevin King', email: 'kevin@example.org', role: 'REP', team: 'alpha' },
      { name: 'Alice Adams', role: 'ADMIN', team: 'alpha' },
      { name: 'Bob Brown', role: 'REP', team: 'beta' },
      { name: 'Carol Chen', role: 'MANAGER' },
      { name: 'dave Dunn', role: 'REP', team: 'alpha' },
      { name: 'Eve Evans', role: 'READ_ONLY' },
      { name: 'Frank Fox', role: 'REP', team: 'beta' },
      { name: 'Grace Green', role: 'MANAGER', team: 'alpha' },
      { name: 'Heidi Hall', role: 'REP' },
      { name: 'Ivan Ito', role: 'READ_ONLY', team: 'beta' },
      { name: 'Judy Jones', role: 'REP' },
      { name: 'Mallory Moss', role: 'REP', team: 'alpha' },
      { name: 'Olivia Ortiz', role: 'MANAGER' },
      { name: 'Peggy Price', role: 'REP', team: 'beta' },
      { name: 'Trent Tate', role: 'READ_ONLY' },
      { name: 'Victor Vance', role: 'REP', team: 'alpha' },
      { name: 'Walter White', role: 'ADMIN' },
    ]);

    // Two deactivated users, for the boolean filter.
    for (const name of ['Mallory Moss', 'Trent Tate']) {
      const p = people.find((x) => x.name === name)!;
      const r = await t.gql('mutation($id: ID!) { deactivateUser(id: $id) { active } }', { id: p.id }, admin.accessToken);
      expect(r.data.deactivateUser.active).toBe(false);
      p.active = false;
    }
    await loadTimestamps();
  });
  afterAll(() => t.close());

  it('the data set has what the tests below rely on', () => {
    expect(people.length).toBe(35);
    const counts = new Map<string, number>();
    for (const p of people) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
    expect(counts.get('Sam Lee')).toBe(4);
    expect(counts.get('kim park')).toBe(3);
    expect(new Set(people.map((p) => p.role))).toEqual(new Set(['ADMIN', 'MANAGER', 'REP', 'READ_ONLY']));
    expect(people.some((p) => p.teamId === null)).toBe(true);
  });

  describe('forward and backward paging', () => {
    const orders: [string, OrderKey[]][] = [
      ['default order (NAME)', []],
      ['NAME DESC', [{ field: 'NAME', direction: 'DESC' }]],
      ['EMAIL ASC', [{ field: 'EMAIL' }]],
      ['CREATED_AT DESC', [{ field: 'CREATED_AT', direction: 'DESC' }]],
      ['UPDATED_AT ASC', [{ field: 'UPDATED_AT' }]],
      ['ROLE ASC, NAME DESC', [{ field: 'ROLE' }, { field: 'NAME', direction: 'DESC' }]],
      ['ROLE DESC, NAME ASC, EMAIL DESC', [{ field: 'ROLE', direction: 'DESC' }, { field: 'NAME' }, { field: 'EMAIL', direction: 'DESC' }]],
    ];

    it.each(orders)('first/after visits every user exactly once, in order: %s', async (_label, orderBy) => {
      const expected = expectedOrder(people, orderBy.length ? orderBy : undefined);
      const size = 7;
      const { ids, pages } = await walkForward(size, { orderBy });
      expect(ids).toEqual(expected);
      expect(pages).toHaveLength(Math.ceil(people.length / size));
      pages.forEach((page, i) => {
        const isLast = i === pages.length - 1;
        expect(page.edges).toHaveLength(isLast ? people.length - size * (pages.length - 1) : size);
        expect(page.pageInfo.hasPreviousPage).toBe(i > 0);
        expect(page.pageInfo.hasNextPage).toBe(!isLast);
        expect(page.totalCount).toBe(people.length);
        expectCursorsMatchEdges(page);
      });
    });

    it.each(orders)('last/before visits the same users in the same order: %s', async (_label, orderBy) => {
      const expected = expectedOrder(people, orderBy.length ? orderBy : undefined);
      const size = 6;
      const { ids, pages } = await walkBackward(size, { orderBy });
      expect(ids).toEqual(expected);
      expect(pages).toHaveLength(Math.ceil(people.length / size));
      pages.forEach((page, i) => {
        const isStart = i === pages.length - 1;
        expect(page.edges).toHaveLength(isStart ? people.length - size * (pages.length - 1) : size);
        // Fetched from the end: the first page fetched has nothing after it, the last nothing before.
        expect(page.pageInfo.hasNextPage).toBe(i > 0);
        expect(page.pageInfo.hasPreviousPage).toBe(!isStart);
        expectCursorsMatchEdges(page);
      });
    });

    it('crosses a group of equal names one row at a time, in id order both ways', async () => {
      for (const direction of ['ASC', 'DESC'] as const) {
        const orderBy = [{ field: 'NAME', direction }];
        const expected = expectedOrder(people, orderBy as OrderKey[]);
        const sams = expected.filter((id) => people.find((p) => p.id === id)!.name === 'Sam Lee');
        const samIds = people
          .filter((p) => p.name === 'Sam Lee')
          .map((p) => p.id)
          .sort();
        expect(sams).toEqual(direction === 'ASC' ? samIds : [...samIds].reverse());
        expect((await walkForward(1, { orderBy })).ids).toEqual(expected);
        expect((await walkBackward(1, { orderBy })).ids).toEqual(expected);
      }
    });

    it('pageInfo is right at both ends, including a page that ends exactly at the last row', async () => {
      const n = people.length;
      const all = await okList({ first: n });
      expect(all.edges).toHaveLength(n);
      expect(all.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
      const allButOne = await okList({ first: n - 1 });
      expect(allButOne.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      const tail = await okList({ first: 10, after: allButOne.pageInfo.endCursor });
      expect(tail.edges.map((e) => e.node.id)).toEqual(expectedOrder(people).slice(n - 1));
      expect(tail.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      const beyond = await okList({ first: 10, after: tail.pageInfo.endCursor });
      expect(beyond.edges).toEqual([]);
      expect(beyond.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });

      const lastAll = await okList({ last: n });
      expect(lastAll.edges.map((e) => e.node.id)).toEqual(expectedOrder(people));
      expect(lastAll.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
      const lastButOne = await okList({ last: n - 1 });
      expect(lastButOne.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      const head = await okList({ last: 10, before: lastButOne.pageInfo.startCursor });
      expect(head.edges.map((e) => e.node.id)).toEqual(expectedOrder(people).slice(0, 1));
      expect(head.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

      // Pages that divide the list evenly: no empty page at the end.
      const size = [5, 7].find((d) => n % d === 0)!;
      expect(size).toBeDefined();
      const even = await walkForward(size);
      expect(even.pages).toHaveLength(n / size);
      expect(even.pages[even.pages.length - 1].edges).toHaveLength(size);
    });

    it('cursors work in both directions: after and before a middle row give its neighbours', async () => {
      const orderBy: OrderKey[] = [{ field: 'ROLE' }, { field: 'NAME', direction: 'DESC' }];
      const expected = expectedOrder(people, orderBy);
      const all = await okList({ first: people.length, orderBy });
      const mid = 17;
      const cursor = all.edges[mid].cursor;
      const after = await okList({ first: 4, after: cursor, orderBy });
      expect(after.edges.map((e) => e.node.id)).toEqual(expected.slice(mid + 1, mid + 5));
      const before = await okList({ last: 4, before: cursor, orderBy });
      expect(before.edges.map((e) => e.node.id)).toEqual(expected.slice(mid - 4, mid));
      expect(before.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
      const between = await okList({ first: 10, after: all.edges[3].cursor, before: all.edges[9].cursor, orderBy });
      expect(between.edges.map((e) => e.node.id)).toEqual(expected.slice(4, 9));
    });
  });

  describe('multi-key orderBy and nulls placement', () => {
    it('ROLE ASC then NAME DESC: ties on the role are ordered by name, the rest by id', async () => {
      const orderBy: OrderKey[] = [{ field: 'ROLE' }, { field: 'NAME', direction: 'DESC' }];
      const expected = expectedOrder(people, orderBy);
      // The second key matters: sorting by role alone would give another order.
      expect(expected).not.toEqual(expectedOrder(people, [{ field: 'ROLE' }]));
      const page = await okList({ first: MAX_PAGE_SIZE, orderBy });
      expect(page.edges.map((e) => e.node.id)).toEqual(expected);
      const roles = page.edges.map((e) => people.find((p) => p.id === e.node.id)!.role);
      expect(roles).toEqual([...roles].sort());
    });

    it.each([
      [
        'ROLE ASC nulls FIRST, NAME DESC nulls LAST',
        [
          { field: 'ROLE', nulls: 'FIRST' },
          { field: 'NAME', direction: 'DESC', nulls: 'LAST' },
        ],
      ],
      ['EMAIL DESC nulls FIRST', [{ field: 'EMAIL', direction: 'DESC', nulls: 'FIRST' }]],
      [
        'CREATED_AT ASC nulls FIRST, ROLE DESC nulls LAST',
        [
          { field: 'CREATED_AT', nulls: 'FIRST' },
          { field: 'ROLE', direction: 'DESC', nulls: 'LAST' },
        ],
      ],
    ] as [string, OrderKey[]][])('%s: the computed order, forward and backward (no sortable user field is nullable)', async (_label, orderBy) => {
      const expected = expectedOrder(people, orderBy);
      expect((await walkForward(8, { orderBy })).ids).toEqual(expected);
      expect((await walkBackward(8, { orderBy })).ids).toEqual(expected);
    });

    it('the id breaks ties in the direction of the last key', async () => {
      const sams = people
        .filter((p) => p.name === 'Sam Lee')
        .map((p) => p.id)
        .sort();
      const filter = { name: { eq: 'Sam Lee' } };
      const asc = await okList({ filter, orderBy: [{ field: 'NAME' }] });
      const desc = await okList({ filter, orderBy: [{ field: 'NAME', direction: 'DESC' }] });
      expect(asc.edges.map((e) => e.node.id)).toEqual(sams);
      expect(desc.edges.map((e) => e.node.id)).toEqual([...sams].reverse());
    });
  });

  describe('totalCount', () => {
    it('counts every matching row, whatever the page and cursor', async () => {
      const first = await okList({ first: 2 });
      expect(first.totalCount).toBe(people.length);
      const next = await okList({ first: 2, after: first.pageInfo.endCursor });
      expect(next.totalCount).toBe(people.length);
      const none = await okList({ first: 0 });
      expect(none.totalCount).toBe(people.length);
    });

    it('honours the filter, also across pages', async () => {
      const filter = { role: { eq: 'REP' }, teamId: { isNull: false } };
      const expected = expectedOrder(people.filter((p) => p.role === 'REP' && p.teamId !== null));
      expect(expected.length).toBeGreaterThan(3);
      const { ids, pages } = await walkForward(3, { filter });
      expect(ids).toEqual(expected);
      for (const page of pages) expect(page.totalCount).toBe(expected.length);
      const empty = await okList({ filter: { name: { eq: 'nobody at all' } } });
      expect(empty).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
    });
  });

  describe('filters: each operator gives exactly the rows the test computes', () => {
    type Case = [label: string, filter: () => Record<string, unknown>, predicate: (p: Person) => boolean, opts?: { trivial?: boolean }];
    const byName = (name: string) => () => people.find((p) => p.name === name)!;
    const ci = (s: string) => s.toLowerCase();

    const cases: Case[] = [
      ['name eq', () => ({ name: { eq: 'Sam Lee' } }), (p) => p.name === 'Sam Lee'],
      ['name eq is case-sensitive', () => ({ name: { eq: 'KIM PARK' } }), (p) => p.name === 'KIM PARK', { trivial: true }],
      ['name ne', () => ({ name: { ne: 'Sam Lee' } }), (p) => p.name !== 'Sam Lee'],
      ['name in', () => ({ name: { in: ['Sam Lee', 'kim park', 'Nobody'] } }), (p) => ['Sam Lee', 'kim park'].includes(p.name)],
      ['name notIn', () => ({ name: { notIn: ['Sam Lee', 'kim park'] } }), (p) => !['Sam Lee', 'kim park'].includes(p.name)],
      ['name lt', () => ({ name: { lt: 'Heidi Hall' } }), (p) => p.name < 'Heidi Hall'],
      ['name lte', () => ({ name: { lte: 'Heidi Hall' } }), (p) => p.name <= 'Heidi Hall'],
      ['name gt', () => ({ name: { gt: 'Sam Lee' } }), (p) => p.name > 'Sam Lee'],
      ['name gte', () => ({ name: { gte: 'Sam Lee' } }), (p) => p.name >= 'Sam Lee'],
      ['name between (both ends included)', () => ({ name: { between: ['Bob Brown', 'Ivan Ito'] } }), (p) => p.name >= 'Bob Brown' && p.name <= 'Ivan Ito'],
      ['two operators on one field', () => ({ name: { gte: 'B', lt: 'M' } }), (p) => p.name >= 'B' && p.name < 'M'],
      ['name contains ignores case', () => ({ name: { contains: 'AM LE' } }), (p) => ci(p.name).includes('am le')],
      ['email contains ignores case', () => ({ email: { contains: 'example.ORG' } }), (p) => ci(p.email).includes('example.org')],
      ['name startsWith ignores case', () => ({ name: { startsWith: 'k' } }), (p) => ci(p.name).startsWith('k')],
      ['contains "50%" matches % literally', () => ({ name: { contains: '50%' } }), (p) => p.name.includes('50%')],
      ['contains "%" alone matches % literally', () => ({ name: { contains: '%' } }), (p) => p.name.includes('%')],
      ['contains "r_s" matches _ literally', () => ({ name: { contains: 'r_s' } }), (p) => ci(p.name).includes('r_s')],
      ['contains "_" alone matches _ literally', () => ({ name: { contains: '_' } }), (p) => p.name.includes('_')],
      ['contains a backslash matches it literally', () => ({ name: { contains: 'k\\s' } }), (p) => p.name.includes('k\\s')],
      ['startsWith "%" matches % literally', () => ({ name: { startsWith: '%' } }), (p) => p.name.startsWith('%')],
      ['startsWith "_" matches _ literally', () => ({ name: { startsWith: '_' } }), (p) => p.name.startsWith('_')],
      ['name isNull false (a NOT NULL column)', () => ({ name: { isNull: false } }), () => true, { trivial: true }],
      ['name isNull true (a NOT NULL column)', () => ({ name: { isNull: true } }), () => false, { trivial: true }],
      ['role eq', () => ({ role: { eq: 'MANAGER' } }), (p) => p.role === 'MANAGER'],
      ['role ne', () => ({ role: { ne: 'REP' } }), (p) => p.role !== 'REP'],
      ['role in', () => ({ role: { in: ['ADMIN', 'READ_ONLY'] } }), (p) => p.role === 'ADMIN' || p.role === 'READ_ONLY'],
      ['role notIn', () => ({ role: { notIn: ['REP'] } }), (p) => p.role !== 'REP'],
      ['active eq false', () => ({ active: { eq: false } }), (p) => !p.active],
      ['active ne true', () => ({ active: { ne: true } }), (p) => !p.active],
      ['id eq', () => ({ id: { eq: byName('Carol Chen')().id } }), (p) => p.name === 'Carol Chen'],
      ['id ne', () => ({ id: { ne: byName('Carol Chen')().id } }), (p) => p.name !== 'Carol Chen'],
      ['id in', () => ({ id: { in: [byName('Carol Chen')().id, byName('Eve Evans')().id] } }), (p) => ['Carol Chen', 'Eve Evans'].includes(p.name)],
      ['id notIn', () => ({ id: { notIn: [byName('Carol Chen')().id, byName('Eve Evans')().id] } }), (p) => !['Carol Chen', 'Eve Evans'].includes(p.name)],
      ['teamId eq', () => ({ teamId: { eq: teams.alpha } }), (p) => p.teamId === teams.alpha],
      ['teamId ne includes users without a team', () => ({ teamId: { ne: teams.alpha } }), (p) => p.teamId !== teams.alpha],
      ['teamId in', () => ({ teamId: { in: [teams.alpha, teams.gamma] } }), (p) => p.teamId === teams.alpha || p.teamId === teams.gamma],
      ['teamId notIn includes users without a team', () => ({ teamId: { notIn: [teams.alpha] } }), (p) => p.teamId !== teams.alpha],
      ['teamId isNull true', () => ({ teamId: { isNull: true } }), (p) => p.teamId === null],
      ['teamId isNull false', () => ({ teamId: { isNull: false } }), (p) => p.teamId !== null],
      ['relation: team name eq', () => ({ team: { name: { eq: 'Alpha' } } }), (p) => p.teamId === teams.alpha],
      ['relation: team name contains ignores case', () => ({ team: { name: { contains: 'ET' } } }), (p) => p.teamId === teams.beta],
      ['relation: a team without members matches nobody', () => ({ team: { name: { eq: 'Gamma' } } }), () => false, { trivial: true }],
      ['relation with or inside', () => ({ team: { or: [{ name: { eq: 'Alpha' } }, { name: { eq: 'Beta' } }] } }), (p) => p.teamId !== null],
      ['not on a relation includes users without a team', () => ({ not: { team: { name: { eq: 'Alpha' } } } }), (p) => p.teamId !== teams.alpha],
      ['not on a nullable field includes users without a team', () => ({ not: { teamId: { eq: teams.beta } } }), (p) => p.teamId !== teams.beta],
      ['not not', () => ({ not: { not: { role: { eq: 'REP' } } } }), (p) => p.role === 'REP'],
      ['fields at one level are ANDed', () => ({ role: { eq: 'REP' }, teamId: { eq: teams.alpha } }), (p) => p.role === 'REP' && p.teamId === teams.alpha],
      ['and', () => ({ and: [{ role: { eq: 'REP' } }, { name: { startsWith: 's' } }] }), (p) => p.role === 'REP' && ci(p.name).startsWith('s')],
      ['or', () => ({ or: [{ role: { eq: 'ADMIN' } }, { team: { name: { eq: 'Beta' } } }] }), (p) => p.role === 'ADMIN' || p.teamId === teams.beta],
      [
        'and/or/not nested',
        () => ({
          or: [
            { and: [{ role: { in: ['REP', 'MANAGER'] } }, { not: { teamId: { isNull: true } } }, { not: { name: { contains: 'sam' } } }] },
            { and: [{ name: { contains: 'PARK' } }, { not: { role: { eq: 'REP' } } }] },
          ],
        }),
        (p) => (['REP', 'MANAGER'].includes(p.role) && p.teamId !== null && !ci(p.name).includes('sam')) || (ci(p.name).includes('park') && p.role !== 'REP'),
      ],
    ];

    // One object per case: jest hands a callback with more parameters than columns a `done` argument.
    it.each(cases.map(([label, filter, predicate, opts]) => ({ label, filter, predicate, trivial: opts?.trivial ?? false })))(
      '$label',
      async ({ filter, predicate, trivial }) => {
        const expected = expectedOrder(people.filter(predicate));
        if (!trivial) {
          // The case discriminates: it keeps some users and drops others.
          expect(expected.length).toBeGreaterThan(0);
          expect(expected.length).toBeLessThan(people.length);
        }
        const page = await okList({ first: MAX_PAGE_SIZE, filter: filter() });
        expect(page.edges.map((e) => e.node.id)).toEqual(expected);
        expect(page.totalCount).toBe(expected.length);
      },
    );

    describe('createdAt (DateTime)', () => {
      /** An instant (whole milliseconds) strictly between two users' creation times. */
      function cutAfter(index: number): { iso: string; us: bigint } {
        const times = [...new Set(people.map((p) => p.createdUs))].sort(compare);
        for (let i = index; i < times.length - 1; i++) {
          const ms = times[i] / 1000n + 1n;
          if (ms * 1000n <= times[i + 1]) return { iso: new Date(Number(ms)).toISOString(), us: ms * 1000n };
        }
        throw new Error('no gap between creation times');
      }

      it.each([
        ['lt', (a: bigint) => (p: Person) => p.createdUs < a],
        ['lte', (a: bigint) => (p: Person) => p.createdUs <= a],
        ['gt', (a: bigint) => (p: Person) => p.createdUs > a],
        ['gte', (a: bigint) => (p: Person) => p.createdUs >= a],
      ] as const)('%s', async (op, makePredicate) => {
        const cut = cutAfter(12);
        const expected = expectedOrder(people.filter(makePredicate(cut.us)));
        expect(expected.length).toBeGreaterThan(0);
        expect(expected.length).toBeLessThan(people.length);
        const page = await okList({ first: MAX_PAGE_SIZE, filter: { createdAt: { [op]: cut.iso } } });
        expect(page.edges.map((e) => e.node.id)).toEqual(expected);
      });

      it('between', async () => {
        const from = cutAfter(5);
        const to = cutAfter(20);
        const expected = expectedOrder(people.filter((p) => p.createdUs >= from.us && p.createdUs <= to.us));
        expect(expected.length).toBeGreaterThan(0);
        expect(expected.length).toBeLessThan(people.length);
        const page = await okList({ first: MAX_PAGE_SIZE, filter: { createdAt: { between: [from.iso, to.iso] } } });
        expect(page.edges.map((e) => e.node.id)).toEqual(expected);
      });

      it('a createdAt read from the API filters back to its own user (eq and lte)', async () => {
        const sample = people.slice(1, 6);
        const r = await t.gql(
          'query($ids: [ID!]) { users(filter: { id: { in: $ids } }) { nodes { id createdAt } } }',
          { ids: sample.map((p) => p.id) },
          admin.accessToken,
        );
        for (const node of r.data.users.nodes as { id: string; createdAt: string }[]) {
          const eq = await okList({ filter: { createdAt: { eq: node.createdAt } } });
          expect({ id: node.id, matches: eq.edges.map((e) => e.node.id) }).toEqual({ id: node.id, matches: [node.id] });
          const lte = await okList({ filter: { id: { eq: node.id }, createdAt: { lte: node.createdAt } } });
          expect({ id: node.id, lteMatches: lte.totalCount }).toEqual({ id: node.id, lteMatches: 1 });
        }
      });
    });

    it(`a filter nested ${FILTER_NESTING_LIMIT} levels deep (the limit) still works`, async () => {
      let filter: Record<string, unknown> = { role: { eq: 'MANAGER' } };
      for (let i = 0; i < FILTER_NESTING_LIMIT; i++) filter = { not: filter };
      // An even number of negations: the same as the innermost condition.
      expect(FILTER_NESTING_LIMIT % 2).toBe(0);
      const page = await okList({ first: MAX_PAGE_SIZE, filter });
      expect(page.edges.map((e) => e.node.id)).toEqual(expectedOrder(people.filter((p) => p.role === 'MANAGER')));
    });
  });

  describe('teams list', () => {
    interface TeamPage {
      totalCount: number;
      edges: { cursor: string; node: { id: string; name: string; members: { id: string }[] } }[];
      pageInfo: Page['pageInfo'];
    }
    const TEAMS = `query($first: Int, $after: String, $last: Int, $before: String, $orderBy: [TeamOrder!], $filter: TeamFilter) {
      teams(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, filter: $filter) {
        totalCount edges { cursor node { id name members { id } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }`;
    async function teamList(vars: Record<string, unknown>): Promise<TeamPage> {
      const r = await t.gql<{ teams: TeamPage }>(TEAMS, vars, admin.accessToken);
      expect(r.errors).toBeUndefined();
      return r.data.teams;
    }
    const created = () => [
      { id: teams.alpha, name: 'Alpha' },
      { id: teams.beta, name: 'Beta' },
      { id: teams.gamma, name: 'Gamma' },
    ];

    it('pages teams one at a time by name DESC, and each lists exactly its members', async () => {
      const expected = created().sort((a, b) => -compare(a.name, b.name));
      const seen: TeamPage['edges'] = [];
      let after: string | null = null;
      for (let i = 0; i < 10; i++) {
        const page: TeamPage = await teamList({ first: 1, after, orderBy: [{ field: 'NAME', direction: 'DESC' }] });
        expect(page.totalCount).toBe(expected.length);
        expect(page.pageInfo.hasPreviousPage).toBe(i > 0);
        seen.push(...page.edges);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen.map((e) => e.node.id)).toEqual(expected.map((x) => x.id));
      for (const e of seen) {
        expect(e.node.members.map((m) => m.id).sort()).toEqual(
          people
            .filter((p) => p.teamId === e.node.id)
            .map((p) => p.id)
            .sort(),
        );
      }

      const back = await teamList({ last: 2, orderBy: [{ field: 'NAME', direction: 'DESC' }] });
      expect(back.edges.map((e) => e.node.id)).toEqual(expected.slice(1).map((x) => x.id));
      expect(back.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    });

    it('filters teams, and totalCount follows the filter', async () => {
      const filter = { or: [{ name: { startsWith: 'a' } }, { name: { contains: 'MM' } }] };
      const expected = created()
        .filter((x) => x.name.toLowerCase().startsWith('a') || x.name.toLowerCase().includes('mm'))
        .sort((a, b) => compare(a.name, b.name));
      expect(expected.length).toBe(2);
      const page = await teamList({ filter });
      expect(page.edges.map((e) => e.node.id)).toEqual(expected.map((x) => x.id));
      expect(page.totalCount).toBe(expected.length);
    });
  });

  describe('bad input is BAD_USER_INPUT, never an internal error', () => {
    let nameCursor: string;
    let createdCursor: string;
    beforeAll(async () => {
      nameCursor = (await okList({ first: 3 })).edges[2].cursor;
      createdCursor = (await okList({ first: 3, orderBy: [{ field: 'CREATED_AT' }] })).edges[2].cursor;
    });
    const forge = (cursor: string, change: (values: (string | null)[]) => (string | null)[]) => encodeCursor(change(decodeCursor(cursor)));
    const b64 = (s: string) => Buffer.from(s).toString('base64url');

    const cases: [string, () => Record<string, unknown>][] = [
      ['first and last together', () => ({ first: 2, last: 2 })],
      [`first over ${MAX_PAGE_SIZE}`, () => ({ first: MAX_PAGE_SIZE + 1 })],
      [`last over ${MAX_PAGE_SIZE}`, () => ({ last: MAX_PAGE_SIZE + 1 })],
      ['negative first', () => ({ first: -1 })],
      ['negative last', () => ({ last: -1 })],
      ['a cursor that is not base64 JSON', () => ({ first: 2, after: 'not a cursor!' })],
      ['a cursor of base64 text that is not JSON', () => ({ first: 2, after: b64('hello world') })],
      ['a cursor holding a JSON object', () => ({ first: 2, after: b64('{"name":"x"}') })],
      ['a cursor holding numbers', () => ({ first: 2, after: encodeCursor([1, 2, 3]) })],
      ['a cursor with too few values', () => ({ first: 2, after: forge(nameCursor, (v) => v.slice(0, 2)) })],
      ['a malformed before cursor', () => ({ last: 2, before: 'AAAA' })],
      ['a cursor from another orderBy (after)', () => ({ first: 2, after: nameCursor, orderBy: [{ field: 'EMAIL' }] })],
      ['a cursor from another orderBy (before)', () => ({ last: 2, before: nameCursor, orderBy: [{ field: 'NAME', direction: 'DESC' }] })],
      [
        'a forged cursor: text where a timestamp belongs',
        () => ({ first: 2, after: forge(createdCursor, (v) => [v[0], 'yesterday', v[2]]), orderBy: [{ field: 'CREATED_AT' }] }),
      ],
      ['a forged cursor: a tie-break id that is not a UUID', () => ({ first: 2, after: forge(nameCursor, (v) => [v[0], v[1], 'not-a-uuid']) })],
      ['a forged cursor: null for a value that cannot be null', () => ({ first: 2, after: forge(nameCursor, (v) => [v[0], null, v[2]]) })],
      [
        'a forged cursor: a timestamp-shaped value that is no date',
        () => ({ first: 2, after: forge(createdCursor, (v) => [v[0], '2024-13-45 25:61:61+00', v[2]]), orderBy: [{ field: 'CREATED_AT' }] }),
      ],
      ['a forged cursor: a name holding a NUL character', () => ({ first: 2, after: forge(nameCursor, (v) => [v[0], 'Sam\u0000', v[2]]) })],
      ['between with one value', () => ({ filter: { name: { between: ['A'] } } })],
      ['between with three values', () => ({ filter: { createdAt: { between: ['2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z'] } } })],
      [`a filter nested ${FILTER_NESTING_LIMIT + 1} levels deep`, () => ({ filter: nest(FILTER_NESTING_LIMIT + 1) })],
      ['a filter nested 200 levels deep', () => ({ filter: nest(200) })],
      ['more than 5 sort keys', () => ({ orderBy: ['NAME', 'EMAIL', 'ROLE', 'CREATED_AT', 'UPDATED_AT', 'NAME'].map((field) => ({ field })) })],
      ['an in list of more than 1000 values', () => ({ filter: { name: { in: Array.from({ length: 1001 }, (_, i) => `n${i}`) } } })],
      ['an id filter value that is not a UUID', () => ({ filter: { id: { eq: 'not-a-uuid' } } })],
      ['a teamId in list holding a value that is not a UUID', () => ({ filter: { teamId: { in: [teams.alpha, '42'] } } })],
      ['a text filter value holding a NUL character', () => ({ filter: { name: { eq: 'Sam\u0000Lee' } } })],
      // Variables that do not fit their types (checked by GraphQL before any resolver runs).
      ['first given as a string', () => ({ first: 'ten' })],
      ['an orderBy field that does not exist', () => ({ orderBy: [{ field: 'NAM' }] })],
      ['a filter field that does not exist', () => ({ filter: { nam: { eq: 'x' } } })],
    ];

    function nest(levels: number): Record<string, unknown> {
      let filter: Record<string, unknown> = { role: { eq: 'REP' } };
      for (let i = 0; i < levels; i++) filter = i % 2 ? { not: filter } : { and: [filter] };
      return filter;
    }

    it.each(cases)('%s', async (_label, vars) => {
      const r = await list(vars());
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.data?.users ?? null).toBeNull();
      expectNoStack(r);
    });

    it('the service still answers normally after all of the above', async () => {
      // Five in parallel, as many as the test pool has connections: none was left in a broken transaction.
      const pages = await Promise.all(Array.from({ length: 5 }, () => okList({ first: 3 })));
      for (const p of pages) expect(p.edges.map((e) => e.node.id)).toEqual(expectedOrder(people).slice(0, 3));
    });
  });

  describe('stability while rows are inserted', () => {
    it('forward: users inserted before the cursor neither repeat nor push rows out of page 2', async () => {
      const orderBy: OrderKey[] = [{ field: 'NAME' }];
      const before = expectedOrder(people, orderBy);
      const page1 = await okList({ first: 10, orderBy });
      const page1Ids = page1.edges.map((e) => e.node.id);
      expect(page1Ids).toEqual(before.slice(0, 10));
      const cursorRow = people.find((p) => p.id === page1Ids[9])!;

      // '!' sorts before every name in the set; '~' after; one more takes the cursor row's own name.
      const inserted = await createUsers([
        { name: '!early one', role: 'REP' },
        { name: '!early two', role: 'MANAGER' },
        { name: cursorRow.name, role: 'REP' },
        { name: '~late one', role: 'REP' },
      ]);
      const after = expectedOrder(people, orderBy);
      expect(after.indexOf(inserted[0].id)).toBeLessThan(after.indexOf(cursorRow.id));

      const rest: string[] = [];
      let cursor = page1.pageInfo.endCursor;
      for (let i = 0; i < 20; i++) {
        const page = await okList({ first: 10, after: cursor, orderBy });
        rest.push(...page.edges.map((e) => e.node.id));
        if (!page.pageInfo.hasNextPage) break;
        cursor = page.pageInfo.endCursor;
      }
      const seen = [...page1Ids, ...rest];
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of before) expect(seen.filter((s) => s === id)).toHaveLength(1);
      // Exactly what follows the cursor row in the new order, the new rows included.
      expect(rest).toEqual(after.slice(after.indexOf(cursorRow.id) + 1));
      expect(rest).not.toContain(inserted[0].id);
      expect(rest).toContain(inserted[3].id);
    });

    it('backward: users inserted after the cursor neither repeat nor push rows out of the previous page', async () => {
      const orderBy: OrderKey[] = [{ field: 'EMAIL', direction: 'DESC' }];
      const before = expectedOrder(people, orderBy);
      const last1 = await okList({ last: 10, orderBy });
      const last1Ids = last1.edges.map((e) => e.node.id);
      expect(last1Ids).toEqual(before.slice(-10));
      const cursorRow = people.find((p) => p.id === last1Ids[0])!;

      // EMAIL DESC: emails starting with '0' sort last (after the cursor), 'zz' first.
      const inserted = await createUsers([
        { name: 'Late Mail', email: '0late.one@example.com', role: 'REP' },
        { name: 'Late Mail', email: '0late.two@example.com', role: 'REP' },
        { name: 'Early Mail', email: 'zz.early@example.com', role: 'REP' },
      ]);
      const after = expectedOrder(people, orderBy);
      expect(after.indexOf(inserted[0].id)).toBeGreaterThan(after.indexOf(cursorRow.id));

      const earlier: string[] = [];
      let cursor = last1.pageInfo.startCursor;
      for (let i = 0; i < 20; i++) {
        const page = await okList({ last: 10, before: cursor, orderBy });
        earlier.unshift(...page.edges.map((e) => e.node.id));
        if (!page.pageInfo.hasPreviousPage) break;
        cursor = page.pageInfo.startCursor;
      }
      const seen = [...earlier, ...last1Ids];
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of before) expect(seen.filter((s) => s === id)).toHaveLength(1);
      expect(earlier).toEqual(after.slice(0, after.indexOf(cursorRow.id)));
      expect(earlier).not.toContain(inserted[0].id);
      expect(earlier).toContain(inserted[2].id);
    });
  });
});
