import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool, type PoolClient } from 'pg';

/**
 * The raw floor of the benchmark: a minimal node:http server running hand-written SQL for each of
 * the benchmark's requests, and answering in Trellis' JSON shape. No GraphQL, no framework: what
 * is left is HTTP, JSON, the pool and the SQL, the least any server of these answers must cost.
 *
 * It pays the same tenancy cost as the others: connected as the application role (row-level
 * security applies), each request in a transaction that first sets `app.workspace_id` (from the
 * x-workspace-id header). The BEGIN and the set_config go in one round trip (a validated uuid
 * literal, simple protocol), the data in one statement, then COMMIT: 3 round trips per request.
 *
 * Run as a child process by the harness: `DATABASE_URL=... PORT=... node dist/scripts/bench/floor.js`.
 */
type Vars = Record<string, unknown>;
interface Op {
  /** Extra set_config calls for the opening round trip. */
  settings?: string;
  run(c: PoolClient, workspaceId: string, v: Vars): Promise<unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** numeric(20,4) as Trellis prints money: "1200.5000" -> "1200.50". */
function money(amount: string | null, currency: string): { amount: string; currency: string } | null {
  if (amount === null) return null;
  const [int, frac = ''] = amount.split('.');
  return { amount: `${int}.${frac.replace(/0+$/, '').padEnd(2, '0')}`, currency: currency.trim() };
}

const cursorOf = (r: { amount: string; id: string }) => Buffer.from(JSON.stringify([r.amount, r.id])).toString('base64url');
const pageSize = (v: Vars) => {
  const n = Number(v.first ?? 50);
  if (!Number.isInteger(n) || n < 0 || n > 500) throw new Error('first must be 0 to 500');
  return n;
};

const OPS: Record<string, Op> = {
  /** A page by amount, each deal with its account, owner, stage and 5 latest activities. */
  nested: {
    async run(c, ws, v) {
      const first = pageSize(v);
      const { rows } = await c.query(
        `SELECT o.id, o.name, o.amount_value::text AS amount, o.currency, o.status,
                a.id AS a_id, a.name AS a_name, a.industry AS a_industry, u.id AS u_id, u.name AS u_name, s.id AS s_id, s.name AS s_name,
                (SELECT coalesce(json_agg(json_build_object('id', x.id, 'type', x.type, 'subject', x.subject, 'createdAt', ${ISO('x.created_at')}) ORDER BY x.created_at DESC, x.id DESC), '[]')
                   FROM (SELECT * FROM activity x WHERE x.workspace_id = o.workspace_id AND x.opportunity_id = o.id AND x.deleted_at IS NULL
                         ORDER BY x.created_at DESC, x.id DESC LIMIT 5) x) AS activities
         FROM opportunity o
         LEFT JOIN account a ON a.workspace_id = o.workspace_id AND a.id = o.account_id
         LEFT JOIN app_user u ON u.workspace_id = o.workspace_id AND u.id = o.owner_id
         JOIN stage s ON s.workspace_id = o.workspace_id AND s.id = o.stage_id
         WHERE o.workspace_id = $1 AND o.deleted_at IS NULL
         ORDER BY o.amount_value DESC NULLS FIRST, o.id DESC LIMIT $2`,
        [ws, first + 1],
      );
      return {
        opportunities: {
          nodes: rows.slice(0, first).map((r) => ({
            id: r.id,
            name: r.name,
            amount: money(r.amount, r.currency),
            status: r.status,
            account: r.a_id && { id: r.a_id, name: r.a_name, industry: r.a_industry },
            owner: r.u_id && { id: r.u_id, name: r.u_name },
            stage: { id: r.s_id, name: r.s_name },
            activities: r.activities,
          })),
          pageInfo: { hasNextPage: rows.length > first },
        },
      };
    },
  },

  /** Stage + owner + amount range + account industry. */
  filtered: {
    async run(c, ws, v) {
      const { rows } = await c.query(
        `SELECT o.id, o.name, o.amount_value::text AS amount, o.currency,
                a.id AS a_id, a.name AS a_name, a.industry AS a_industry, u.id AS u_id, u.name AS u_name, s.id AS s_id, s.name AS s_name
         FROM opportunity o
         JOIN account a ON a.workspace_id = o.workspace_id AND a.id = o.account_id AND a.deleted_at IS NULL AND a.industry = $5
         LEFT JOIN app_user u ON u.workspace_id = o.workspace_id AND u.id = o.owner_id
         JOIN stage s ON s.workspace_id = o.workspace_id AND s.id = o.stage_id
         WHERE o.workspace_id = $1 AND o.deleted_at IS NULL AND o.stage_id = $2 AND o.owner_id = $3 AND o.amount_value BETWEEN $4::numeric AND $6::numeric
         ORDER BY o.amount_value DESC NULLS FIRST, o.id DESC LIMIT 50`,
        [ws, v.stage, v.owner, v.min, v.industry, v.max],
      );
      return {
        opportunities: {
          nodes: rows.map((r) => ({
            id: r.id,
            name: r.name,
            amount: money(r.amount, r.currency),
            account: { id: r.a_id, name: r.a_name, industry: r.a_industry },
            owner: r.u_id && { id: r.u_id, name: r.u_name },
            stage: { id: r.s_id, name: r.s_name },
          })),
        },
      };
    },
  },

  /** A keyset page by amount: the cursor holds the last row's (amount, id). */
  page: {
    async run(c, ws, v) {
      const after = typeof v.after === 'string' ? (JSON.parse(Buffer.from(v.after, 'base64url').toString()) as [string, string]) : null;
      const { rows } = await c.query(
        `SELECT o.id, o.name, o.amount_value::text AS amount, o.currency FROM opportunity o
         WHERE o.workspace_id = $1 AND o.deleted_at IS NULL ${after ? 'AND (o.amount_value, o.id) < ($2::numeric, $3::uuid)' : ''}
         ORDER BY o.amount_value DESC, o.id DESC LIMIT 51`,
        after ? [ws, ...after] : [ws],
      );
      const page = rows.slice(0, 50);
      return {
        opportunities: {
          edges: page.map((r) => ({ cursor: cursorOf(r), node: { id: r.id, name: r.name, amount: money(r.amount, r.currency) } })),
          pageInfo: { hasNextPage: rows.length > 50, endCursor: page.length ? cursorOf(page[page.length - 1]) : null },
        },
      };
    },
  },

  /** Trellis' search SQL (SearchService), all four kinds. */
  search: {
    async run(c, ws, v) {
      // The statement depends on the query's words: built and run by the function (see search-sql.ts).
      const { rows } = await c.query(`SELECT * FROM bench_peer.search($1, $2)`, [v.query, v.first ?? 20]);
      return { search: rows.map((r) => ({ type: r.kind, id: r.id, title: r.title, subtitle: r.subtitle, score: Number(r.score) })) };
    },
  },

  /** How many deals per stage: one GROUP BY, answered as Trellis' aliases s0, s1, ... */
  countByStage: {
    async run(c, ws, v) {
      const stages = v.stages as string[];
      const { rows } = await c.query(
        `SELECT stage_id, count(*)::int AS n FROM opportunity WHERE workspace_id = $1 AND deleted_at IS NULL AND stage_id = ANY($2::uuid[]) GROUP BY stage_id`,
        [ws, stages],
      );
      const n = new Map(rows.map((r) => [r.stage_id as string, r.n as number]));
      return Object.fromEntries(stages.map((s, i) => [`s${i}`, { totalCount: n.get(s) ?? 0 }]));
    },
  },
};

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10, application_name: 'bench-floor' });
pool.on('error', () => undefined);

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/readyz') return send(res, 200, { status: 'ready' });
  if (req.method !== 'POST' || req.url !== '/graphql') return send(res, 404, { errors: [{ message: 'not found' }] });
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body: { op?: string; variables?: Vars };
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return send(res, 400, { errors: [{ message: 'malformed JSON' }] });
  }
  const ws = req.headers['x-workspace-id'];
  const op = OPS[body.op ?? ''];
  if (typeof ws !== 'string' || !UUID.test(ws)) return send(res, 401, { errors: [{ message: 'x-workspace-id must be a workspace uuid' }] });
  if (!op) return send(res, 400, { errors: [{ message: `unknown op ${body.op}` }] });
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(`BEGIN; SELECT set_config('app.workspace_id', '${ws}', true)${op.settings ?? ''}`);
    const data = await op.run(client, ws, body.variables ?? {});
    await client.query('COMMIT');
    send(res, 200, { data });
  } catch (err) {
    broken = await client.query('ROLLBACK').then(
      () => false,
      () => true,
    );
    send(res, 500, { errors: [{ message: (err as Error).message }] });
  } finally {
    client.release(broken);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

const server = createServer((req, res) => void handle(req, res).catch((err) => send(res, 500, { errors: [{ message: String(err) }] })));
server.listen(Number(process.env.PORT), '127.0.0.1');
const shutdown = () => server.close(() => void pool.end().finally(() => process.exit(0)));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
