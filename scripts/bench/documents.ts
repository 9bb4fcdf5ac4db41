import type { ServerName } from './config';

/**
 * The benchmark's requests: each written once per server (Trellis and PostGraphile name things
 * differently; the raw floor takes an operation name), equivalent in what they fetch, and a
 * normaliser per server that reduces an answer to what all three must agree on (ids, names,
 * amounts as exact decimals, times as ISO instants, row counts).
 */
export interface Case {
  name: string;
  title: string;
  body: Record<ServerName, unknown>;
  normalize: Record<ServerName, (data: any) => unknown>;
}

export interface Fixture {
  stages: { id: string; name: string }[];
  filter: { stage: string; owner: string; min: string; max: string; industry: string };
  search: string;
  deepPage: number;
  /** Each server's cursor for the row just before the deep page. */
  deepCursor: Record<ServerName, string>;
}

/** "1200.5000" and "1200.5" -> "1200.50". */
export function decimal(v: string | null | undefined): string | null {
  if (v == null) return null;
  const [int, frac = ''] = String(v).split('.');
  return `${int}.${frac.replace(/0+$/, '').padEnd(2, '0')}`;
}
const instant = (v: string) => new Date(v).toISOString();

const BY_AMOUNT = `orderBy: [{ field: AMOUNT, direction: DESC }]`;
// PostGraphile (Amber preset) names the id column rowId (its `id` is the global Node id), orders by
// the listed columns and then by the primary key: ROW_ID_DESC makes the order Trellis' (amount,
// then id, both descending). Trellis hides soft-deleted rows; PostGraphile is told to.
const PGL_BY_AMOUNT = `orderBy: [AMOUNT_VALUE_DESC, ROW_ID_DESC]`;

const trellisNested = `query Nested($first: Int!) {
  opportunities(first: $first, ${BY_AMOUNT}) {
    nodes {
      id name amount { amount currency } status
      account { id name industry }
      owner { id name }
      stage { id name }
      activities(first: 5) { id type subject createdAt }
    }
    pageInfo { hasNextPage }
  }
}`;
const pglNested = `query Nested($first: Int!) {
  allOpportunities(first: $first, ${PGL_BY_AMOUNT}, condition: { deletedAt: null }) {
    nodes {
      rowId name amountValue currency status
      accountByWorkspaceIdAndAccountId { rowId name industry }
      appUserByWorkspaceIdAndOwnerId { rowId name }
      stageByWorkspaceIdAndStageId { rowId name }
      activitiesByWorkspaceIdAndOpportunityId(first: 5, orderBy: [CREATED_AT_DESC, ROW_ID_DESC], condition: { deletedAt: null }) { nodes { rowId type subject createdAt } }
    }
    pageInfo { hasNextPage }
  }
}`;

const trellisFiltered = `query Filtered($stage: ID!, $owner: ID!, $min: Decimal!, $max: Decimal!, $industry: String!) {
  opportunities(first: 50, ${BY_AMOUNT}, filter: {
    stageId: { eq: $stage }, ownerId: { eq: $owner }, amount: { between: [$min, $max] }, account: { industry: { eq: $industry } }
  }) {
    nodes { id name amount { amount currency } account { id name industry } owner { id name } stage { id name } }
  }
}`;
const pglFiltered = `query Filtered($stage: UUID!, $owner: UUID!, $min: BigFloat!, $max: BigFloat!, $industry: String!) {
  allOpportunities(first: 50, ${PGL_BY_AMOUNT}, filter: {
    deletedAt: { isNull: true }, stageId: { equalTo: $stage }, ownerId: { equalTo: $owner },
    amountValue: { greaterThanOrEqualTo: $min, lessThanOrEqualTo: $max },
    accountByWorkspaceIdAndAccountId: { deletedAt: { isNull: true }, industry: { equalTo: $industry } }
  }) {
    nodes { rowId name amountValue currency accountByWorkspaceIdAndAccountId { rowId name industry } appUserByWorkspaceIdAndOwnerId { rowId name } stageByWorkspaceIdAndStageId { rowId name } }
  }
}`;

const trellisPage = `query Page($after: String) {
  opportunities(first: 50, after: $after, ${BY_AMOUNT}) {
    edges { cursor node { id name amount { amount currency } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const pglPage = `query Page($after: Cursor) {
  allOpportunities(first: 50, after: $after, ${PGL_BY_AMOUNT}, condition: { deletedAt: null }) {
    edges { cursor node { rowId name amountValue currency } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The cursor of one row, in the list order of the page documents above. */
export const CURSOR_OF_ROW: Record<'trellis' | 'postgraphile', { query: string; pick: (d: any) => string }> = {
  trellis: {
    query: `query($id: ID!) { opportunities(first: 1, filter: { id: { eq: $id } }, ${BY_AMOUNT}) { edges { cursor } } }`,
    pick: (d) => d.opportunities.edges[0].cursor,
  },
  postgraphile: {
    query: `query($id: UUID!) { allOpportunities(first: 1, condition: { rowId: $id, deletedAt: null }, ${PGL_BY_AMOUNT}) { edges { cursor } } }`,
    pick: (d) => d.allOpportunities.edges[0].cursor,
  },
};

const trellisSearch = `query Search($q: String!) { search(query: $q, first: 20) { type id title subtitle score } }`;
// bench_peer.search(query, max_hits) (benchPeerSearch): the same SQL as Trellis' SearchService, as a function (how
// PostGraphile serves custom queries); the harness creates it.
const pglSearch = `query Search($q: String!) { benchPeerSearch(query: $q, maxHits: 20) { nodes { kind rowId title subtitle score } } }`;

const n = (d: any) => d.opportunities;
const p = (d: any) => d.allOpportunities;
const account = (a: any) => a && { id: a.id ?? a.rowId, name: a.name, industry: a.industry };
const user = (u: any) => u && { id: u.id ?? u.rowId, name: u.name };
const stage = (s: any) => ({ id: s.id ?? s.rowId, name: s.name });
const hits = (list: any[]) =>
  list
    .map((h) => ({ type: h.type ?? h.kind, id: h.id ?? h.rowId, title: h.title, subtitle: h.subtitle, score: Number(h.score).toFixed(4) }))
    .sort((a, b) => (a.type + a.id < b.type + b.id ? -1 : 1));

/**
 * The search cases: the configured query (two words, one with a typo), one word with a typo, then a
 * prefix of 2 to 12 letters of one word as it is typed (a word of the bench's domains and emails, long
 * enough for 12). Named `search …`: BENCH_QUERIES=search selects them all.
 */
function searchCases(query: string): [string, string][] {
  const word = 'northwindenergy';
  return [['search', query], ['search typo', 'robotcs'], ...Array.from({ length: 11 }, (_, i): [string, string] => [`search ${i + 2}`, word.slice(0, i + 2)])];
}

export function buildCases(f: Fixture): Case[] {
  const nested = {
    trellis: (d: any) => ({
      hasNextPage: n(d).pageInfo.hasNextPage,
      rows: n(d).nodes.map((o: any) => ({
        id: o.id,
        name: o.name,
        amount: decimal(o.amount?.amount),
        currency: o.amount?.currency,
        status: o.status,
        account: account(o.account),
        owner: user(o.owner),
        stage: stage(o.stage),
        activities: o.activities.map((a: any) => ({ id: a.id, type: a.type, subject: a.subject, createdAt: instant(a.createdAt) })),
      })),
    }),
    postgraphile: (d: any) => ({
      hasNextPage: p(d).pageInfo.hasNextPage,
      rows: p(d).nodes.map((o: any) => ({
        id: o.rowId,
        name: o.name,
        amount: decimal(o.amountValue),
        currency: o.currency,
        status: o.status,
        account: account(o.accountByWorkspaceIdAndAccountId),
        owner: user(o.appUserByWorkspaceIdAndOwnerId),
        stage: stage(o.stageByWorkspaceIdAndStageId),
        activities: o.activitiesByWorkspaceIdAndOpportunityId.nodes.map((a: any) => ({
          id: a.rowId,
          type: a.type,
          subject: a.subject,
          createdAt: instant(a.createdAt),
        })),
      })),
    }),
  };
  const filtered = {
    trellis: (d: any) =>
      n(d).nodes.map((o: any) => ({
        id: o.id,
        name: o.name,
        amount: decimal(o.amount?.amount),
        currency: o.amount?.currency,
        account: account(o.account),
        owner: user(o.owner),
        stage: stage(o.stage),
      })),
    postgraphile: (d: any) =>
      p(d).nodes.map((o: any) => ({
        id: o.rowId,
        name: o.name,
        amount: decimal(o.amountValue),
        currency: o.currency,
        account: account(o.accountByWorkspaceIdAndAccountId),
        owner: user(o.appUserByWorkspaceIdAndOwnerId),
        stage: stage(o.stageByWorkspaceIdAndStageId),
      })),
  };
  // Cursors are each server's own: compared are the rows and whether more follow.
  const page = {
    trellis: (d: any) => ({
      hasNextPage: n(d).pageInfo.hasNextPage,
      rows: n(d).edges.map((e: any) => ({ id: e.node.id, name: e.node.name, amount: decimal(e.node.amount?.amount) })),
    }),
    postgraphile: (d: any) => ({
      hasNextPage: p(d).pageInfo.hasNextPage,
      rows: p(d).edges.map((e: any) => ({ id: e.node.rowId, name: e.node.name, amount: decimal(e.node.amountValue) })),
    }),
  };
  const aliases = f.stages.map((_, i) => `s${i}`);
  const count = (d: any) => aliases.map((a) => d[a].totalCount);
  const stageVars = Object.fromEntries(f.stages.map((s, i) => [`s${i}`, s.id]));

  const cases: Case[] = [
    {
      name: 'nested',
      title: 'page of 50 by amount + account, owner, stage, 5 latest activities',
      body: {
        trellis: { query: trellisNested, variables: { first: 50 } },
        postgraphile: { query: pglNested, variables: { first: 50 } },
        raw: { op: 'nested', variables: { first: 50 } },
      },
      normalize: { ...nested, raw: nested.trellis },
    },
    {
      name: 'filtered',
      title: 'filtered: stage + owner + amount range + account industry',
      body: {
        trellis: { query: trellisFiltered, variables: f.filter },
        postgraphile: { query: pglFiltered, variables: f.filter },
        raw: { op: 'filtered', variables: f.filter },
      },
      normalize: { ...filtered, raw: filtered.trellis },
    },
    {
      name: 'page1',
      title: 'keyset page 1 (50 by amount)',
      body: { trellis: { query: trellisPage, variables: {} }, postgraphile: { query: pglPage, variables: {} }, raw: { op: 'page', variables: {} } },
      normalize: { ...page, raw: page.trellis },
    },
    {
      name: 'deepPage',
      title: `keyset page ${f.deepPage.toLocaleString('en')} (after a cursor)`,
      body: {
        trellis: { query: trellisPage, variables: { after: f.deepCursor.trellis } },
        postgraphile: { query: pglPage, variables: { after: f.deepCursor.postgraphile } },
        raw: { op: 'page', variables: { after: f.deepCursor.raw } },
      },
      normalize: { ...page, raw: page.trellis },
    },
    ...searchCases(f.search).map(([name, q]) => ({
      name,
      title: `search "${q}" (20 hits)`,
      body: {
        trellis: { query: trellisSearch, variables: { q } },
        postgraphile: { query: pglSearch, variables: { q } },
        raw: { op: 'search', variables: { query: q, first: 20 } },
      },
      normalize: { trellis: (d: any) => hits(d.search), postgraphile: (d: any) => hits(d.benchPeerSearch.nodes), raw: (d: any) => hits(d.search) },
    })),
    {
      name: 'countByStage',
      title: `count by stage (${f.stages.length} stages, one document)`,
      body: {
        trellis: {
          query: `query Count(${aliases.map((a) => `$${a}: ID!`).join(', ')}) { ${aliases.map((a) => `${a}: opportunities(filter: { stageId: { eq: $${a} } }) { totalCount }`).join(' ')} }`,
          variables: stageVars,
        },
        postgraphile: {
          query: `query Count(${aliases.map((a) => `$${a}: UUID!`).join(', ')}) { ${aliases.map((a) => `${a}: allOpportunities(condition: { stageId: $${a}, deletedAt: null }) { totalCount }`).join(' ')} }`,
          variables: stageVars,
        },
        raw: { op: 'countByStage', variables: { stages: f.stages.map((s) => s.id) } },
      },
      normalize: { trellis: count, postgraphile: count, raw: count },
    },
  ];
  return cases;
}

/** The nested document at another page size (for the round-trip count "whatever the page size"). */
export function withPageSize(c: Case, first: number): Case {
  const body = Object.fromEntries(
    Object.entries(c.body).map(([k, b]) => [k, { ...(b as object), variables: { ...(b as { variables: object }).variables, first } }]),
  );
  return { ...c, name: `${c.name}(first: ${first})`, body: body as Case['body'] };
}
