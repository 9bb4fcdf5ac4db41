import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { apiKey, signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';

/** What one operation over graphql-ws produced. */
interface WsOutcome {
  /** `next` payloads (a query or mutation has exactly one). */
  results: FormattedExecutionResult[];
  /** Errors of an `error` message (the operation was refused before execution). */
  errors?: { message: string; extensions?: Record<string, unknown>; [k: string]: unknown }[];
  /** Set when the socket closed instead of answering. */
  close?: { code: number; reason: string };
  /** Everything the server sent, as JSON, for checks on what must never appear. */
  raw: string;
}

const isCloseEvent = (v: unknown): v is { code: number; reason: string } => typeof v === 'object' && v !== null && 'code' in v && 'reason' in v;

const ME = '{ me { kind workspace { id } } }';
const CREATE_TEAM = 'mutation($i: CreateTeamInput!) { createTeam(input: $i) { id name version } }';

/** `user { team { manager { team { manager ... } } } }` nested so that the document is `depth` fields deep. */
function deepQuery(depth: number): string {
  const chain = ['me', 'user'];
  for (let i = 0; chain.length < depth - 1; i++) chain.push(i % 2 === 0 ? 'team' : 'manager');
  return '{ ' + chain.map((f) => `${f} { `).join('') + 'id' + ' }'.repeat(chain.length) + ' }';
}

describe('GraphQL over WebSocket (graphql-ws)', () => {
  let t: TestApp;
  let admin: SignedUp;
  let wsUrl: string;
  const clients: Client[] = [];

  /** A client that does not retry, so that a refused connection surfaces as its close event. */
  function client(connectionParams: Record<string, unknown> | undefined): Client {
    const c = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
    clients.push(c);
    return c;
  }

  /** Runs one operation on `c` and collects what came back. */
  function run(c: Client, query: string, variables?: Record<string, unknown>): Promise<WsOutcome> {
    return new Promise((resolve) => {
      const results: FormattedExecutionResult[] = [];
      const timer = setTimeout(
        () => resolve({ results, raw: JSON.stringify({ results, timeout: true }), close: { code: -1, reason: 'no answer within 10 s' } }),
        10_000,
      );
      c.subscribe(
        { query, variables },
        {
          next: (r) => void results.push(r as FormattedExecutionResult),
          error: (err: unknown) => {
            clearTimeout(timer);
            if (isCloseEvent(err))
              resolve({ results, close: { code: err.code, reason: err.reason }, raw: JSON.stringify({ results, code: err.code, reason: err.reason }) });
            else if (Array.isArray(err)) resolve({ results, errors: err as WsOutcome['errors'], raw: JSON.stringify({ results, errors: err }) });
            else resolve({ results, close: { code: -2, reason: String(err) }, raw: String(err) });
          },
          complete: () => {
            clearTimeout(timer);
            resolve({ results, raw: JSON.stringify({ results }) });
          },
        },
      );
    });
  }

  /** One operation on a fresh connection that sends `authorization` (a Bearer header value). */
  const ws = (authorization: string | undefined, query: string, variables?: Record<string, unknown>) =>
    run(client(authorization === undefined ? undefined : { authorization }), query, variables);

  /** The one result of a query or mutation that was executed. */
  function single(o: WsOutcome): FormattedExecutionResult {
    expect(o.close).toBeUndefined();
    expect(o.errors).toBeUndefined();
    expect(o.results).toHaveLength(1);
    return o.results[0];
  }

  beforeAll(async () => {
    // Limits below the defaults, so that the socket is shown to apply the configured ones.
    t = await startTestApp({ MAX_QUERY_DEPTH: '6', MAX_QUERY_ALIASES: '4', MAX_QUERY_COST: '1000' });
    wsUrl = `ws://127.0.0.1:${t.port}/graphql`;
    admin = await signUp(t, 'Sockets Inc');
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t.close();
  });

  it('answers a query with an access token exactly as HTTP does', async () => {
    const http = await t.gql(ME, {}, admin.accessToken);
    expect(http.errors).toBeUndefined();
    const r = single(await ws(`Bearer ${admin.accessToken}`, ME));
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ me: { kind: 'USER', workspace: { id: admin.workspaceId } } });
    expect(r.data).toEqual(http.data);
  });

  it('answers a query with an API key exactly as HTTP does (also under `Authorization`)', async () => {
    const key = await apiKey(t, admin, ['READ']);
    const http = await t.gql(ME, {}, key.secret);
    expect(http.errors).toBeUndefined();
    const lower = single(await ws(`Bearer ${key.secret}`, ME));
    expect(lower.data).toEqual({ me: { kind: 'API_KEY', workspace: { id: admin.workspaceId } } });
    expect(lower.data).toEqual(http.data);
    const upper = single(await run(client({ Authorization: `Bearer ${key.secret}` }), ME));
    expect(upper.data).toEqual(http.data);
  });

  it('keeps each connection in its own workspace', async () => {
    const other = await signUp(t, 'Other Sockets');
    const [a, b] = await Promise.all([ws(`Bearer ${admin.accessToken}`, ME), ws(`Bearer ${other.accessToken}`, ME)]);
    expect((single(a).data as any).me.workspace.id).toBe(admin.workspaceId);
    expect((single(b).data as any).me.workspace.id).toBe(other.workspaceId);
  });

  it('commits a mutation: the row is visible over HTTP afterwards and has its event', async () => {
    const name = `WS team ${Date.now()}`;
    const r = single(await ws(`Bearer ${admin.accessToken}`, CREATE_TEAM, { i: { name } }));
    expect(r.errors).toBeUndefined();
    const id = (r.data as any).createTeam.id as string;
    expect(r.data).toEqual({ createTeam: { id, name, version: 1 } });

    const http = await t.gql('query($id: ID!) { team(id: $id) { id name } }', { id }, admin.accessToken);
    expect(http.errors).toBeUndefined();
    expect(http.data.team).toEqual({ id, name });
    expect(await t.sql('SELECT workspace_id, name FROM team WHERE id = $1', [id])).toEqual([{ workspace_id: admin.workspaceId, name }]);
    const events = await t.sql<{ type: string; workspace_id: string; actor_type: string; actor_id: string }>(
      'SELECT type, workspace_id, actor_type, actor_id FROM event WHERE entity_id = $1 ORDER BY id',
      [id],
    );
    expect(events).toEqual([{ type: 'team.created', workspace_id: admin.workspaceId, actor_type: 'USER', actor_id: admin.userId }]);
  });

  it('runs several operations on one connection, each in its own transaction', async () => {
    const c = client({ authorization: `Bearer ${admin.accessToken}` });
    const names = [1, 2, 3].map((i) => `Multi ${i} ${Date.now()}`);
    const created = await Promise.all(names.map((name) => run(c, CREATE_TEAM, { i: { name } })));
    const ids = created.map((o) => (single(o).data as any).createTeam.id as string);
    // A duplicate name fails on its own and does not undo the others.
    const dup = single(await run(c, CREATE_TEAM, { i: { name: names[0] } }));
    expect(dup.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);
    const rows = await t.sql<{ id: string }>('SELECT id FROM team WHERE id = ANY($1::uuid[])', [ids]);
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    // Many operations in a row do not leak database connections (the test pool holds 5).
    for (let i = 0; i < 15; i++) expect(single(await run(c, ME)).errors).toBeUndefined();
    expect((await t.gql(ME, {}, admin.accessToken)).errors).toBeUndefined();
  });

  it('closes the socket with 4401 when no authorization is sent', async () => {
    for (const params of [undefined, {}, { authorization: '' }, { authorization: 42 }]) {
      const o = await run(client(params as Record<string, unknown> | undefined), ME);
      expect(o.close?.code).toBe(4401);
      expect(o.results).toEqual([]);
    }
  });

  it('closes the socket with 4403 on bad credentials', async () => {
    const revoked = await apiKey(t, admin, ['READ']);
    const rv = await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: revoked.id }, admin.accessToken);
    expect(rv.errors).toBeUndefined();
    const bad = [
      'Bearer not.a.jwt',
      `Bearer ${admin.accessToken.slice(0, -4)}AAAA`,
      `Bearer trl_${'x'.repeat(43)}`,
      `Bearer ${revoked.secret}`,
      `Basic ${Buffer.from('a:b').toString('base64')}`,
    ];
    for (const authorization of bad) {
      const o = await ws(authorization, ME);
      expect({ authorization, code: o.close?.code }).toEqual({ authorization, code: 4403 });
      expect(o.results).toEqual([]);
    }
  });

  describe('applies the same limits as HTTP', () => {
    /** The codes of an answer over WS, whether it was refused (`error`) or executed (`next`). */
    const wsCodes = (o: WsOutcome) => (o.errors ?? o.results[0]?.errors ?? []).map((e) => String(e.extensions?.code));

    it('refuses a document deeper than MAX_QUERY_DEPTH with QUERY_TOO_COMPLEX, from the same depth on as HTTP', async () => {
      const limit = t.config.limits.depth;
      expect(limit).toBe(6);
      const outcomes: { depth: number; httpRefused: boolean; wsRefused: boolean; wsCodes: string[] }[] = [];
      for (let depth = 3; depth <= limit + 3; depth++) {
        const q = deepQuery(depth);
        const http = await t.gql(q, {}, admin.accessToken);
        const o = await ws(`Bearer ${admin.accessToken}`, q);
        expect(o.close).toBeUndefined();
        outcomes.push({ depth, httpRefused: !!http.errors, wsRefused: o.results.length === 0, wsCodes: wsCodes(o) });
        if (o.errors) {
          expect(o.errors[0].message).toBe(http.errors?.[0]?.message);
          expect(o.raw).not.toMatch(/stack|\n\s+at /);
        }
      }
      for (const o of outcomes) {
        expect({ depth: o.depth, wsRefused: o.wsRefused }).toEqual({ depth: o.depth, wsRefused: o.httpRefused });
        expect({ depth: o.depth, codes: o.wsCodes }).toEqual({ depth: o.depth, codes: o.depth > limit ? ['QUERY_TOO_COMPLEX'] : [] });
      }
    });

    it('refuses too many aliases and too high a cost with QUERY_TOO_COMPLEX, with the message HTTP gives', async () => {
      const aliases = '{ ' + Array.from({ length: t.config.limits.aliases + 2 }, (_, i) => `a${i}: me { kind }`).join(' ') + ' }';
      const withinAliases = '{ ' + Array.from({ length: t.config.limits.aliases }, (_, i) => `a${i}: me { kind }`).join(' ') + ' }';
      const costly = '{ teams(first: 500) { nodes { id name manager { id name } members { id } } } }';
      const cheap = '{ teams(first: 5) { nodes { id name manager { id name } } } }';
      for (const q of [aliases, costly]) {
        const http = await t.gql(q, {}, admin.accessToken);
        expect(http.errors).toHaveLength(1);
        const o = await ws(`Bearer ${admin.accessToken}`, q);
        expect(o.results).toEqual([]);
        expect(wsCodes(o)).toEqual(['QUERY_TOO_COMPLEX']);
        expect(o.errors?.[0].message).toBe(http.errors![0].message);
      }
      for (const q of [withinAliases, cheap]) {
        expect((await t.gql(q, {}, admin.accessToken)).errors).toBeUndefined();
        expect(single(await ws(`Bearer ${admin.accessToken}`, q)).errors).toBeUndefined();
      }
    });

    it('HTTP reports the depth and alias limits with the same code as WS: QUERY_TOO_COMPLEX', async () => {
      const tooDeep = deepQuery(t.config.limits.depth + 2);
      const tooManyAliases = '{ ' + Array.from({ length: t.config.limits.aliases + 2 }, (_, i) => `a${i}: me { kind }`).join(' ') + ' }';
      for (const q of [tooDeep, tooManyAliases]) {
        const o = await ws(`Bearer ${admin.accessToken}`, q);
        const http = await t.gql(q, {}, admin.accessToken);
        expect({ q, http: http.errors?.map((e) => e.extensions.code) }).toEqual({ q, http: wsCodes(o) });
        expect(wsCodes(o)).toEqual(['QUERY_TOO_COMPLEX']);
      }
    });
  });

  describe('error results carry extensions.code and no stack', () => {
    const noStack = (o: WsOutcome) => expect(o.raw).not.toMatch(/stack|\n\s+at |\bat [\w.<>]+ \(/);

    it('an authorization failure during execution (FORBIDDEN), shaped as over HTTP', async () => {
      const key = await apiKey(t, admin, ['READ', 'WRITE']);
      const http = await t.gql(CREATE_TEAM, { i: { name: 'nope' } }, key.secret);
      const o = await ws(`Bearer ${key.secret}`, CREATE_TEAM, { i: { name: 'nope' } });
      const r = single(o);
      expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(r).toEqual({ data: http.data, errors: http.errors });
      noStack(o);
      const rep = await userWithRole(t, admin, 'REP');
      const asRep = single(await ws(`Bearer ${rep.token}`, CREATE_TEAM, { i: { name: 'nope' } }));
      expect(asRep.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(await t.sql(`SELECT id FROM team WHERE name = 'nope'`)).toEqual([]);
    });

    it('invalid input (BAD_USER_INPUT with its fields), shaped as over HTTP', async () => {
      const http = await t.gql(CREATE_TEAM, { i: { name: '' } }, admin.accessToken);
      const o = await ws(`Bearer ${admin.accessToken}`, CREATE_TEAM, { i: { name: '' } });
      const r = single(o);
      expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect((r.errors![0].extensions as any).fields.map((f: { field: string }) => f.field)).toEqual(['name']);
      expect(r).toEqual({ data: http.data, errors: http.errors });
      noStack(o);
    });

    it('a failure inside the service is masked as INTERNAL_SERVER_ERROR, without its details, as over HTTP', async () => {
      // A trigger in this test's own database makes one team name fail inside PostgreSQL.
      await t.sql(`CREATE FUNCTION ws_test_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ws-secret-detail %', NEW.name; END $$`);
      await t.sql(`CREATE TRIGGER ws_test_boom BEFORE INSERT ON team FOR EACH ROW WHEN (NEW.name LIKE 'boom%') EXECUTE FUNCTION ws_test_boom()`);
      const http = await t.gql(CREATE_TEAM, { i: { name: 'boom http' } }, admin.accessToken);
      expect(http.errors?.map((e) => e.extensions.code)).toEqual(['INTERNAL_SERVER_ERROR']);
      const o = await ws(`Bearer ${admin.accessToken}`, CREATE_TEAM, { i: { name: 'boom ws' } });
      const r = single(o);
      expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(r.errors![0].message).toBe('Internal server error');
      expect(r).toEqual({ data: http.data, errors: http.errors });
      expect(o.raw).not.toContain('ws-secret-detail');
      noStack(o);
      expect(await t.sql(`SELECT id FROM team WHERE name LIKE 'boom%'`)).toEqual([]);
      // The connection and the pool are fine afterwards.
      expect(single(await ws(`Bearer ${admin.accessToken}`, ME)).errors).toBeUndefined();
    });

    it('documents that do not parse or validate are refused with their code', async () => {
      for (const [q, code] of [
        ['{ me { kind ', 'GRAPHQL_PARSE_FAILED'],
        ['{ me { nonsense } }', 'GRAPHQL_VALIDATION_FAILED'],
      ] as const) {
        const http = await t.gql(q, {}, admin.accessToken);
        expect(http.errors?.map((e) => e.extensions.code)).toEqual([code]);
        const o = await ws(`Bearer ${admin.accessToken}`, q);
        expect(o.results).toEqual([]);
        expect(o.errors?.map((e) => e.extensions?.code)).toEqual([code]);
        expect(o.errors?.[0].message).toBe(http.errors![0].message);
        noStack(o);
      }
    });
  });
});
