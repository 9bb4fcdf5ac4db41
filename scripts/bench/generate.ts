import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { BenchConfig } from './config';

/**
 * The bench data: accounts, contacts, opportunities (each with its stage-history entry) and
 * activities, COPYed into one workspace that was created through the API (workspace, admin,
 * default pipeline, users, API key: see setup.ts), so every row is one the app could have written.
 *
 * No events are written for these rows: this is the seed of a benchmark database, not a stream of
 * API writes, and the measured queries do not read the event log.
 *
 * The data is deterministic (a seeded generator, ids derived from the row number): two databases
 * of the same scale hold the same rows, apart from the ids the API chose (workspace, users, stages).
 */
export interface Workspace {
  workspaceId: string;
  pipelineId: string;
  stages: { id: string; name: string; kind: 'OPEN' | 'WON' | 'LOST'; probability: number }[];
  userIds: string[];
}

const INDUSTRIES = [
  'Software',
  'Retail',
  'Manufacturing',
  'Healthcare',
  'Finance',
  'Education',
  'Energy',
  'Logistics',
  'Media',
  'Telecom',
  'Hospitality',
  'Construction',
];
const NAME_A = [
  'Northwind',
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Stark',
  'Wayne',
  'Wonka',
  'Tyrell',
  'Cyberdyne',
  'Soylent',
  'Hooli',
  'Vandelay',
  'Dunder',
  'Oscorp',
  'Aperture',
  'Monarch',
  'Gringotts',
  'Blue Harbor',
  'Red Rock',
  'Silver Lake',
  'Evergreen',
  'Summit',
  'Atlas',
  'Pioneer',
  'Horizon',
  'Keystone',
  'Lighthouse',
  'Granite',
  'Cedar',
  'Falcon',
  'Orion',
  'Polaris',
  'Sterling',
  'Crescent',
  'Meridian',
  'Harbor',
  'Zenith',
  'Quantum',
  'Vertex',
];
const NAME_B = [
  'Robotics',
  'Logistics',
  'Foods',
  'Analytics',
  'Health',
  'Energy',
  'Capital',
  'Media',
  'Systems',
  'Labs',
  'Motors',
  'Textiles',
  'Pharma',
  'Security',
  'Studios',
  'Networks',
  'Aerospace',
  'Biotech',
  'Retail',
  'Foundry',
  'Consulting',
  'Software',
  'Insurance',
  'Dynamics',
  'Outfitters',
  'Brewing',
  'Telecom',
  'Mining',
  'Partners',
  'Solutions',
];
const SUFFIX = ['Inc', 'Ltd', 'GmbH', 'SA', 'LLC', 'Group', 'Co', 'AG', 'BV', 'Plc'];
const FIRST = [
  'Ada',
  'Alan',
  'Grace',
  'Linus',
  'Margaret',
  'Dennis',
  'Barbara',
  'Ken',
  'Frances',
  'Edsger',
  'Radia',
  'Tim',
  'Katherine',
  'Donald',
  'Hedy',
  'John',
  'Sophie',
  'Guido',
  'Anita',
  'Bjarne',
  'Ines',
  'Yukihiro',
  'Chiara',
  'Rasmus',
  'Amara',
  'Mateo',
  'Harriet',
  'Kwame',
  'Leila',
  'Olu',
  'Priya',
  'Sven',
  'Zofia',
  'Tariq',
  'Mei',
  'Noah',
  'Elif',
  'Diego',
  'Hana',
  'Omar',
];
const LAST = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Ritchie',
  'Liskov',
  'Thompson',
  'Allen',
  'Dijkstra',
  'Perlman',
  'Berners-Lee',
  'Johnson',
  'Knuth',
  'Lamarr',
  'Backus',
  'Wilson',
  'van Rossum',
  'Borg',
  'Stroustrup',
  'Okafor',
  'Matsumoto',
  'Rossi',
  'Lerdorf',
  'Mensah',
  'Garcia',
  'Nguyen',
  'Kowalski',
  'Haddad',
  'Novak',
  'Schmidt',
  'Dubois',
  'Fischer',
  'Silva',
  'Tanaka',
  'Andersen',
  'Yilmaz',
  'Costa',
  'Ibrahim',
  'Moreau',
];
const TITLES = ['CEO', 'CTO', 'CFO', 'VP Sales', 'Head of Procurement', 'IT Manager', 'Operations Director', 'Buyer', 'Engineer', 'Office Manager'];
const DEALS = ['New business', 'Renewal', 'Upsell', 'Expansion', 'Pilot', 'Enterprise licence', 'Support contract', 'Migration', 'Training', 'Add-on seats'];
const ACTIVITY_TYPES = ['CALL', 'EMAIL', 'MEETING', 'NOTE', 'TASK'] as const;
const SUBJECTS: Record<(typeof ACTIVITY_TYPES)[number], string[]> = {
  CALL: ['Discovery call', 'Follow-up call', 'Pricing call', 'Check-in call'],
  EMAIL: ['Sent proposal', 'Sent contract', 'Answered questions', 'Intro email'],
  MEETING: ['Demo', 'On-site visit', 'Quarterly review', 'Kick-off'],
  NOTE: ['Budget confirmed', 'Competitor in play', 'Decision maker identified', 'Legal review pending'],
  TASK: ['Send quote', 'Prepare demo', 'Call back', 'Update forecast'],
};
const OUTCOMES = ['Connected', 'Left voicemail', 'No answer', 'Meeting booked'];

const DAY = 86_400_000;
/** Row numbers of a kind are spread apart so that ids never collide, across tables too. */
const KIND = { account: 1, contact: 2, opportunity: 3, history: 4, activity: 5 } as const;

/** murmur3's 32-bit finaliser: a bijection, so distinct inputs give distinct first id words. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
const hex = (x: number, digits: number) => x.toString(16).padStart(digits, '0');

/** A version-4-shaped UUID, a pure function of (kind, row number). */
export function uid(kind: number, i: number): string {
  const a = mix32(((kind << 28) + i) >>> 0);
  const b = (mix32(a ^ 0x9e3779b9) & 0xffff0fff) | 0x4000;
  const c = ((mix32(a ^ 0x7f4a7c15) & 0x3fffffff) | 0x80000000) >>> 0;
  const d = mix32(a ^ 0x2545f491);
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-${hex(b & 0xffff, 4)}-${hex(c >>> 16, 4)}-${hex(c & 0xffff, 4)}${hex(d, 8)}`;
}

/** mulberry32: small, fast, seeded. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(a: readonly T[]) => a[Math.floor(next() * a.length)] };
}

type Value = string | number | null;
/** One line of COPY's text format (generated values hold no tab, newline or backslash). */
const line = (values: Value[]) => values.map((v) => (v === null ? '\\N' : String(v))).join('\t') + '\n';
const iso = (ms: number) => new Date(ms).toISOString();
const date = (ms: number) => iso(ms).slice(0, 10);

async function copy(client: Client, table: string, columns: string[], count: number, row: (i: number) => Value[]): Promise<void> {
  function* chunks() {
    let buf = '';
    for (let i = 0; i < count; i++) {
      buf += line(row(i));
      if (buf.length > 1 << 20) {
        yield buf;
        buf = '';
      }
    }
    if (buf) yield buf;
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
}

const TABLES = ['account', 'contact', 'opportunity', 'opportunity_stage_history', 'activity'];

/** Loads the bulk rows into the workspace, as the owner (a superuser: row-level security does not apply). */
export async function generate(ownerUrl: string, ws: Workspace, counts: BenchConfig['counts'], log: (s: string) => void): Promise<void> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    // Secondary indexes are dropped for the load and rebuilt from their own definitions afterwards
    // (much faster than maintaining them row by row); foreign keys are not checked during the load
    // (the generator only makes valid references), as pg_restore does.
    const indexes = (
      await client.query<{ name: string; def: string }>(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
         WHERE c.relname = ANY($1) AND c.relnamespace = 'public'::regnamespace AND NOT i.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
        [TABLES],
      )
    ).rows;
    for (const ix of indexes) await client.query(`DROP INDEX ${ix.name}`);
    await client.query(`SET session_replication_role = replica`);

    const W = ws.workspaceId;
    const now = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    const start = now - 3 * 365 * DAY;
    const userOf = (r: ReturnType<typeof rng>) => ws.userIds[r.int(ws.userIds.length)];
    const { accounts: nA, contacts: nC, opportunities: nO, activities: nAct } = counts;
    const accountName = (a: number) => `${NAME_A[mix32(a) % NAME_A.length]} ${NAME_B[mix32(a ^ 0x5bd1e995) % NAME_B.length]} ${SUFFIX[a % SUFFIX.length]}`;
    const domain = (a: number) => `${accountName(a).split(' ').slice(0, -1).join('').toLowerCase()}-${a}.com`;
    // Contact c works at account c % nA: an account's contacts are a, a + nA, a + 2nA, ...
    const contactsOf = (a: number) => Math.floor((nC - 1 - a) / nA) + 1;
    const contactAt = (a: number, k: number) => a + k * nA;
    const timed = async (what: string, n: number, fn: () => Promise<void>) => {
      const t = Date.now();
      await fn();
      log(`  ${what}: ${n.toLocaleString('en')} rows in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    };

    let r = rng(1);
    await timed('account', nA, () =>
      copy(
        client,
        'account',
        [
          'workspace_id',
          'id',
          'created_at',
          'updated_at',
          'name',
          'domain',
          'industry',
          'type',
          'employees',
          'annual_revenue_amount',
          'annual_revenue_currency',
          'phone',
          'website',
          'country',
          'owner_id',
        ],
        nA,
        (a) => {
          const created = iso(start + Math.floor((a / nA) * (now - start - DAY)));
          return [
            W,
            uid(KIND.account, a),
            created,
            created,
            accountName(a),
            domain(a),
            r.pick(INDUSTRIES),
            r.pick(['CUSTOMER', 'PROSPECT', 'PARTNER', 'VENDOR', 'OTHER']),
            5 + r.int(20000),
            ...(r.next() < 0.7 ? [String(100_000 * (1 + r.int(10_000))), 'USD'] : [null, null]),
            `+1 555 ${hex(a, 7)}`,
            `https://${domain(a)}`,
            r.pick(['US', 'GB', 'DE', 'FR', 'NL', 'JP', 'BR', 'IN']),
            userOf(r),
          ];
        },
      ),
    );

    r = rng(2);
    await timed('contact', nC, () =>
      copy(
        client,
        'contact',
        ['workspace_id', 'id', 'created_at', 'updated_at', 'first_name', 'last_name', 'email', 'phone', 'title', 'account_id', 'owner_id'],
        nC,
        (c) => {
          const a = c % nA;
          const first = r.pick(FIRST);
          const last = r.pick(LAST);
          const created = iso(start + Math.floor((a / nA) * (now - start - DAY)) + r.int(DAY));
          return [
            W,
            uid(KIND.contact, c),
            created,
            created,
            first,
            last,
            `${first}.${last.replace(/ /g, '')}${c}@${domain(a)}`.toLowerCase(),
            `+1 555 ${hex(c, 7)}`,
            r.pick(TITLES),
            uid(KIND.account, a),
            userOf(r),
          ];
        },
      ),
    );

    // Kept for the activities: each opportunity's account, primary contact and creation time.
    const oppAccount = new Int32Array(nO);
    const oppContact = new Int32Array(nO);
    const oppCreated = new Float64Array(nO);
    const oppStage = new Int32Array(nO);
    const oppEntered = new Float64Array(nO);
    const open = ws.stages.filter((s) => s.kind === 'OPEN');
    const won = ws.stages.find((s) => s.kind === 'WON')!;
    const lost = ws.stages.find((s) => s.kind === 'LOST')!;
    r = rng(3);
    await timed('opportunity', nO, () =>
      copy(
        client,
        'opportunity',
        [
          'workspace_id',
          'id',
          'created_at',
          'updated_at',
          'name',
          'account_id',
          'primary_contact_id',
          'pipeline_id',
          'stage_id',
          'amount_value',
          'currency',
          'expected_close_date',
          'closed_at',
          'status',
          'stage_entered_at',
          'owner_id',
        ],
        nO,
        (o) => {
          const a = r.int(nA);
          const k = r.int(contactsOf(a) + 1); // one in a few has no primary contact
          const created = start + Math.floor((o / nO) * (now - start - DAY)) + r.int(3600) * 1000;
          const age = now - created;
          // Older deals are mostly closed; recent ones mostly open.
          const closedShare = Math.min(0.9, age / (365 * DAY));
          const stage = r.next() < closedShare ? (r.next() < 0.45 ? won : lost) : open[r.int(open.length)];
          const entered = Math.min(now - 1000, created + r.int(Math.max(1, Math.floor(Math.min(age, 120 * DAY) / 1000))) * 1000);
          oppAccount[o] = a;
          oppContact[o] = k < contactsOf(a) ? contactAt(a, k) : -1;
          oppCreated[o] = created;
          oppStage[o] = ws.stages.indexOf(stage);
          oppEntered[o] = entered;
          const amount = (1000 * Math.pow(1000, r.next())).toFixed(2); // 1 000 to 1 000 000, log-uniform
          return [
            W,
            uid(KIND.opportunity, o),
            iso(created),
            iso(entered),
            `${accountName(a)}: ${r.pick(DEALS)} ${new Date(created).getUTCFullYear()}`,
            uid(KIND.account, a),
            oppContact[o] < 0 ? null : uid(KIND.contact, oppContact[o]),
            ws.pipelineId,
            stage.id,
            amount,
            'USD',
            date(created + (30 + r.int(150)) * DAY),
            stage.kind === 'OPEN' ? null : iso(entered),
            stage.kind,
            iso(entered),
            userOf(r),
          ];
        },
      ),
    );

    // The stage history the app keeps: here, the stay in the current stage (open, or the close).
    await timed('opportunity_stage_history', nO, () =>
      copy(client, 'opportunity_stage_history', ['workspace_id', 'id', 'opportunity_id', 'pipeline_id', 'stage_id', 'entered_at'], nO, (o) => [
        W,
        uid(KIND.history, o),
        uid(KIND.opportunity, o),
        ws.pipelineId,
        ws.stages[oppStage[o]].id,
        iso(oppEntered[o]),
      ]),
    );

    // Activities follow time: activity i happens at a time that grows with i, about a deal created
    // in the months before it (85%), or about an account and one of its contacts (15%).
    r = rng(4);
    const recent = Math.max(1, Math.floor(nO * 0.1));
    await timed('activity', nAct, () =>
      copy(
        client,
        'activity',
        [
          'workspace_id',
          'id',
          'created_at',
          'updated_at',
          'type',
          'subject',
          'body',
          'status',
          'due_at',
          'completed_at',
          'duration_seconds',
          'outcome',
          'account_id',
          'contact_id',
          'opportunity_id',
          'owner_id',
        ],
        nAct,
        (i) => {
          const latestOpp = Math.max(1, Math.floor(((i + 1) / nAct) * nO));
          let o = -1;
          let a: number;
          let c: number;
          if (r.next() < 0.85) {
            o = latestOpp - 1 - r.int(Math.min(recent, latestOpp));
            a = oppAccount[o];
            c = oppContact[o];
          } else {
            a = r.int(nA);
            c = contactAt(a, r.int(contactsOf(a)));
          }
          const created = Math.max(o >= 0 ? oppCreated[o] : 0, start + Math.floor((i / nAct) * (now - start - DAY))) + r.int(3600) * 1000;
          const type = r.pick(ACTIVITY_TYPES);
          const due = type === 'TASK' || type === 'MEETING' ? created + r.int(14) * DAY : null;
          const status = type === 'TASK' && due !== null && due > now ? 'OPEN' : r.next() < 0.05 ? 'CANCELLED' : 'COMPLETED';
          const done = status === 'COMPLETED' ? Math.min(now, due ?? created) : null;
          return [
            W,
            uid(KIND.activity, i),
            iso(created),
            iso(done ?? created),
            type,
            r.pick(SUBJECTS[type]),
            r.next() < 0.3 ? 'Notes from the conversation; next steps agreed.' : null,
            status,
            due === null ? null : iso(due),
            done === null ? null : iso(done),
            type === 'CALL' || type === 'MEETING' ? 60 + r.int(3600) : null,
            type === 'CALL' ? r.pick(OUTCOMES) : null,
            uid(KIND.account, a),
            c < 0 ? null : uid(KIND.contact, c),
            o < 0 ? null : uid(KIND.opportunity, o),
            userOf(r),
          ];
        },
      ),
    );

    await client.query(`RESET session_replication_role`);
    // The load bypassed the triggers that keep the analytics rollups: build them from what it loaded.
    await client.query(`SELECT trellis_rebuild_rollups($1, false)`, [W]);
    await client.query(`SELECT trellis_rebuild_funnel($1)`, [W]);
    // And the search postings (one per record and word, kept by triggers too).
    await client.query(`SELECT trellis_rebuild_search($1)`, [W]);
    await rebuildIndexes(ownerUrl, indexes, log);
    const t = Date.now();
    await client.query(`VACUUM (ANALYZE) ${TABLES.join(', ')}`);
    log(`  vacuum + analyze: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  } finally {
    await client.end();
  }
}

/** Two connections (the two cores) take the index definitions from one queue, biggest tables first. */
async function rebuildIndexes(ownerUrl: string, indexes: { name: string; def: string }[], log: (s: string) => void): Promise<void> {
  const t = Date.now();
  const queue = [...indexes].sort((a, b) => Number(/ON public\.activity /.test(b.def)) - Number(/ON public\.activity /.test(a.def)));
  await Promise.all(
    [0, 1].map(async () => {
      const c = new Client({ connectionString: ownerUrl });
      await c.connect();
      try {
        await c.query(`SET maintenance_work_mem = '1GB'`);
        for (let ix = queue.shift(); ix; ix = queue.shift()) await c.query(ix.def);
      } finally {
        await c.end();
      }
    }),
  );
  log(`  ${indexes.length} indexes rebuilt in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}
