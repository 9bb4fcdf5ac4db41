import type { Client } from 'pg';
import { buildSchema } from '../../src/server/schema';
import { codes, signUp, type GqlResponse, type SignedUp, type TestApp } from '../helpers/app';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { ownerClient, startHardeningApp, until } from './support/app';
import { buildFixture, type Fixture, type Kind } from './support/fixture';
import { fillFrom, kindsOf, randomReference, referenceTo } from './support/probes';
import { documentOf, inject, normalize, type Operation, type Position, referencePositions, rootFields, variablesOf } from './support/schema-walk';
import { crossReferences, tenantTables, workspaceIds, workspaceSnapshot } from './support/snapshot';
import { wsClient, wsCodes, wsRun } from './support/ws';

/**
 * Cross-tenant probing generated from the schema. Workspace A holds one record of every kind;
 * workspace B's ADMIN calls every Query and Mutation field that takes a reference (an ID argument,
 * an ID or key in an input object, an ID in a list filter), with A's reference put in and every
 * other argument filled with B's own valid records. Each probe must:
 * - show nothing of A (no name, email or id of A beyond the reference sent);
 * - answer exactly as the same call with a random reference does (no existence oracle), with a
 *   well-formed code (NOT_FOUND, BAD_USER_INPUT, FORBIDDEN, CONFLICT), never an internal error;
 * - leave every row of A as it was (hashed per table, events included);
 * and the same call with B's own record must answer differently (else the probe proves nothing).
 */

const schema = buildSchema();
const positions = referencePositions(schema, ['Query', 'Mutation']);
const fields = [...new Set(positions.map((p) => `${p.op.root}.${p.op.field.name}`))];
const ALLOWED = new Set(['NOT_FOUND', 'BAD_USER_INPUT', 'FORBIDDEN', 'CONFLICT', 'UNAUTHENTICATED']);
/** Mutations that consume the record they are given: B's fixture is rebuilt after one succeeds. */
const CONSUMES = /^(delete|remove|merge|deactivate|revoke|convert|complete)/;
/** Columns that store a request's own text, where a reference sent in a probe may legitimately remain. */
const ECHO_COLUMNS = ['import_job.csv', 'import_job.errors'];

interface Outcome {
  probe: string;
  foreign: string;
  control: string;
  conclusive: boolean;
}

describe('cross-tenant probing generated from the schema', () => {
  let t: TestApp;
  let receiver: Receiver;
  let owner: Client;
  let a: SignedUp;
  let b: SignedUp;
  let A: Fixture;
  let B: Fixture;
  let tables: string[];
  let aIds: string[];
  let aBefore: Record<string, string>;
  const outcomes: Outcome[] = [];

  beforeAll(async () => {
    receiver = await startReceiver();
    // Rate limits off: the probes' selections are wide and many (the limits are not under test here).
    // The probes select every field two levels down (relation lists too): priced at what they may fetch,
    // they cost more than a client is allowed; what is probed here is tenancy, not cost.
    t = await startHardeningApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', RATE_LIMIT_REFILL_PER_SECOND: '0', MAX_QUERY_COST: '10000000' });
    [a, b] = [await signUp(t, 'Alpha workspace'), await signUp(t, 'Bravo workspace')];
    A = await buildFixture(t, a, 'Alpha', receiver.url);
    B = await buildFixture(t, b, 'Bravo', receiver.url);
    owner = await ownerClient(t);
    tables = await tenantTables(owner);
    aIds = await workspaceIds(owner, a.workspaceId, tables);
    aBefore = await workspaceSnapshot(owner, a.workspaceId, tables);
  }, 120_000);
  afterAll(async () => {
    const lines = outcomes.map((o) => `${o.conclusive ? ' ' : '?'} ${o.probe}: ${o.foreign} (own record: ${o.control})`);
    console.log(`${outcomes.length} probes (? = the own record answered alike):\n${lines.join('\n')}`);
    await owner?.end();
    await t?.close();
    await receiver?.close();
  });

  const send = (op: Operation, vars: Record<string, unknown>) => t.gql(documentOf(op), vars, b.accessToken);
  const failed = (r: GqlResponse, op: Operation) =>
    !!r.errors?.length || !!r.data?.[op.field.name]?.results?.some((x: { errors: unknown[] }) => x.errors.length);
  const summary = (r: GqlResponse, op: Operation) => {
    const rows = r.data?.[op.field.name]?.results as { status: string; errors: { message: string }[] }[] | undefined;
    if (r.errors?.length) return `${codes(r).join(',')} "${r.errors[0].message.slice(0, 90)}"`;
    if (rows) return `batch ${rows.map((x) => x.status).join(',')}`;
    const d = r.data?.[op.field.name];
    return d === null ? 'null' : Array.isArray(d) ? `list of ${d.length}` : typeof d === 'object' ? 'data' : String(d);
  };

  /** Nothing of A in what B got, beyond the reference B itself sent. */
  function expectNoLeak(r: GqlResponse, sent: string | string[], probe: string): void {
    let text = JSON.stringify(r.body);
    for (const s of [sent].flat()) text = text.split(s).join('<SENT>');
    const leaked = [/alpha/i.exec(text)?.[0], ...aIds.filter((id) => text.includes(id)), text.includes(a.email) ? a.email : undefined].filter(Boolean);
    expect({ probe, leaked }).toEqual({ probe, leaked: [] });
  }

  async function afterSuccess(op: Operation, r: GqlResponse): Promise<void> {
    if (op.root === 'Mutation' && CONSUMES.test(op.field.name) && !failed(r, op)) B = await buildFixture(t, b, 'Bravo', receiver.url);
  }

  async function probe(pos: Position, kind: Kind): Promise<void> {
    const op = pos.op;
    const name = `${op.field.name}(${pos.path.join('.')}) <- ${kind}`;
    const call = async (ref: string) => {
      const fill = fillFrom(B);
      const r = await send(op, inject(op, variablesOf(op, fill), pos.path, ref, fill));
      return r;
    };
    const foreignRef = referenceTo(A, kind, pos);
    const foreign = await call(foreignRef);
    expectNoLeak(foreign, foreignRef, name);
    expect({ name, status: foreign.status < 500 }).toEqual({ name, status: true });
    for (const code of codes(foreign)) expect({ name, code, allowed: ALLOWED.has(code) }).toEqual({ name, code, allowed: true });
    await afterSuccess(op, foreign);
    const randomRef = randomReference(pos);
    const random = await call(randomRef);
    await afterSuccess(op, random);
    // A's reference and a reference to nothing get the same answer: nothing tells B that A's exists.
    expect({ name, answer: normalize(foreign.body, [foreignRef]) }).toEqual({ name, answer: normalize(random.body, [randomRef]) });
    const own = await call(referenceTo(B, kind, pos));
    await afterSuccess(op, own);
    const conclusive = normalize(own.body, [referenceTo(B, kind, pos)]) !== normalize(foreign.body, [foreignRef]);
    outcomes.push({ probe: name, foreign: summary(foreign, op), control: summary(own, op), conclusive });
    // A's external id may be B's too (they are unique per workspace); taken by a probe, it is let go
    // again, so that later probes meet B as the fixture made it.
    if (pos.scalar === 'String' && kind !== 'user') {
      for (const table of ['account', 'contact', 'lead', 'opportunity', 'product', 'activity']) {
        await owner.query(`UPDATE ${table} SET external_id = NULL WHERE workspace_id = $1 AND external_id = $2`, [b.workspaceId, foreignRef]);
      }
    }
  }

  it("every query B can ask without a reference shows nothing of A (asked before the probes put A's keys into B)", async () => {
    const fill = fillFrom(B);
    for (const field of rootFields(schema, 'Query')) {
      const op: Operation = { root: 'Query', field };
      const r = await send(op, variablesOf(op, fill));
      expect({ field: field.name, status: r.status }).toEqual({ field: field.name, status: 200 });
      expect({ field: field.name, internal: codes(r).includes('INTERNAL_SERVER_ERROR') }).toEqual({ field: field.name, internal: false });
      expectNoLeak(r, '\u0000', `Query.${field.name}`);
    }
    for (const text of [A.tag, A.domain, A.emails.contact, A.externalIds.account]) {
      // Fuzzy search may find B's own look-alikes, never A's records.
      const r = await t.gql('query($q: String!) { search(query: $q, first: 50) { id title subtitle } }', { q: text }, b.accessToken);
      expect(r.errors).toBeUndefined();
      expectNoLeak(r, text, `search "${text}"`);
      expect((await t.gql('query($q: String!) { search(query: $q, first: 50) { id } }', { q: text }, a.accessToken)).data.search.length).toBeGreaterThan(0);
    }
  });

  it.each(fields)("%s: A's references get what random ones get, and A is unchanged", async (field) => {
    for (const pos of positions.filter((p) => `${p.op.root}.${p.op.field.name}` === field)) {
      const kinds = kindsOf(pos);
      if (!kinds.length) {
        outcomes.push({ probe: `${pos.op.field.name}(${pos.path.join('.')})`, foreign: 'skipped: no record of that kind', control: '-', conclusive: true });
        continue;
      }
      for (const kind of kinds) await probe(pos, kind);
    }
    expect(await workspaceSnapshot(owner, a.workspaceId, tables)).toEqual(aBefore);
  });

  it('every probe position was resolved to a kind of record, and most probes were conclusive', () => {
    // Only external ids of kinds that have none in the fixture (pipelines) are left out.
    const skipped = outcomes.filter((o) => o.foreign.startsWith('skipped')).map((o) => o.probe);
    expect(skipped.filter((p) => !/Pipeline\(input\.externalId\)$/.test(p))).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(150);
    const inconclusive = outcomes.filter((o) => !o.conclusive);
    // Some references are ignored by design (another user's notification, an unused target stage):
    // those answer alike for any id. Anything more would mean the generator fills arguments badly.
    expect(inconclusive.length).toBeLessThan(outcomes.length * 0.15);
  });

  it('no row of B refers to a row of A', async () => {
    expect(await crossReferences(owner, b.workspaceId, aIds, tables, ECHO_COLUMNS)).toEqual([]);
    // The check can fail: B's own rows do refer to B's.
    const bIds = await workspaceIds(owner, b.workspaceId, tables);
    expect((await crossReferences(owner, b.workspaceId, bIds, tables)).length).toBeGreaterThan(5);
  });

  it('references hidden in JSON (automation actions, import rows) and keys (upsert by email or domain) stay in their workspace', async () => {
    const rule = (action: object) =>
      t.gql(
        'mutation($i: AutomationRuleInput!) { createAutomationRule(input: $i) { id } }',
        { i: { name: 'Probe rule', trigger: { type: 'RECORD_EVENT', events: ['lead.created'] }, actions: [action] } },
        b.accessToken,
      );
    for (const action of [
      { type: 'ASSIGN_OWNER', params: { strategy: 'ROUND_ROBIN', userIds: [A.ids.user] } },
      { type: 'ASSIGN_OWNER', params: { strategy: 'ROUND_ROBIN', teamId: A.ids.team } },
      { type: 'CREATE_TASK', params: { subject: 'x', assignee: A.ids.user } },
      { type: 'NOTIFY', params: { to: A.ids.user, title: 'x' } },
    ]) {
      const r = await rule(action);
      expect({ action: action.type, codes: codes(r) }).toEqual({ action: action.type, codes: ['BAD_USER_INPUT'] });
      expectNoLeak(r, JSON.stringify(action.params).match(/[0-9a-f-]{36}/)![0], action.type);
    }
    const csv = `lastName,accountId,ownerId,email\nImported,${A.ids.account},${A.ids.user},imported@example.com\n`;
    const job = await t.gql(
      'mutation($i: StartImportInput!) { startImport(input: $i) { id } }',
      { i: { entityType: 'CONTACT', csv, mapping: { lastName: 'lastName', accountId: 'accountId', ownerId: 'ownerId', email: 'email' } } },
      b.accessToken,
    );
    if (!job.errors)
      await until(
        'the import to finish',
        async () => (await t.sql<{ status: string }>('SELECT status FROM import_job WHERE id = $1', [job.data.startImport.id]))[0].status === 'COMPLETED',
      );
    for (const [field, matchOn, input] of [
      ['upsertContacts', 'EMAIL', { email: A.emails.contact, lastName: 'Taken over?' }],
      ['upsertLeads', 'EMAIL', { email: A.emails.lead, lastName: 'Taken over?' }],
      ['upsertAccounts', 'DOMAIN', { domain: A.domain, name: 'Taken over?' }],
      [
        'upsertContacts',
        'EXTERNAL_ID',
        { externalId: `b-${Date.now()}`, lastName: 'Linked?', accountExternalId: A.externalIds.account, ownerEmail: A.emails.user },
      ],
    ] as const) {
      const type = { upsertContacts: 'UpsertContactInput', upsertLeads: 'UpsertLeadInput', upsertAccounts: 'UpsertAccountInput' }[field];
      const r = await t.gql(
        `mutation($i: [${type}!]!, $m: MatchOn!) { ${field}(inputs: $i, matchOn: $m) { results { status id errors { field message } } } }`,
        { i: [input], m: matchOn },
        b.accessToken,
      );
      expect(codes(r)).toEqual([]);
      expect(r.data[field].results[0].status).not.toBe('UPDATED');
      expectNoLeak(r, [A.externalIds.account, A.emails.user, A.emails.contact, A.emails.lead, A.domain], `${field} by ${matchOn}`);
    }
    expect(await crossReferences(owner, b.workspaceId, aIds, tables, ECHO_COLUMNS)).toEqual([]);
    // UPDATE_FIELDS checks the fields' types when the rule is saved, not the records they name (any
    // id is accepted alike, so nothing is revealed): the run refuses A's user and changes nothing.
    const updating = await rule({ type: 'UPDATE_FIELDS', params: { fields: { ownerId: A.ids.user } } });
    const random = await rule({ type: 'UPDATE_FIELDS', params: { fields: { ownerId: '00000000-0000-4000-8000-000000000000' } } });
    expect(codes(updating)).toEqual(codes(random));
    if (!updating.errors) {
      const ruleId = updating.data.createAutomationRule.id;
      const lead = (await t.gql('mutation { createLead(input: { lastName: "Triggers the rule" }) { id } }', {}, b.accessToken)).data.createLead.id;
      await until(
        'the rule to run on the lead',
        async () => (await t.sql(`SELECT 1 FROM automation_run WHERE rule_id = $1 AND entity_id = $2`, [ruleId, lead])).length > 0,
      );
      const [run] = await t.sql<{ status: string }>(`SELECT status FROM automation_run WHERE rule_id = $1 AND entity_id = $2`, [ruleId, lead]);
      expect(run.status).toBe('FAILED');
      const [row] = await t.sql<{ owner_id: string | null }>('SELECT owner_id FROM lead WHERE id = $1', [lead]);
      expect(row.owner_id).not.toBe(A.ids.user);
      for (const r of [updating, random])
        await t.gql('mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }', { id: r.data.createAutomationRule.id }, b.accessToken);
    }
    // The one reference across the boundary is the rule's own text (and its events), which nothing follows.
    const refs = await crossReferences(owner, b.workspaceId, aIds, tables, ECHO_COLUMNS);
    expect(refs.filter((r) => !/^(automation_rule\.actions|event\.(data|changes)) /.test(r))).toEqual([]);
    const { rows } = await owner.query(`SELECT DISTINCT entity_type FROM event WHERE workspace_id = $1 AND (data::text LIKE $2 OR changes::text LIKE $2)`, [
      b.workspaceId,
      `%${A.ids.user}%`,
    ]);
    expect(rows.map((r) => r.entity_type).filter((e) => e !== 'automation_rule')).toEqual([]);
    expect(await workspaceSnapshot(owner, a.workspaceId, tables)).toEqual(aBefore);
  });

  it("over WebSocket, B's subscriptions to A's records get nothing of A (and B's own records do come through)", async () => {
    const c = wsClient(t.url, { authorization: `Bearer ${b.accessToken}` });
    try {
      const job = await wsRun(c, 'subscription($id: ID!) { importJobProgress(id: $id) { id status } }', { id: A.ids.importJob });
      expect(wsCodes(job)).toEqual(['NOT_FOUND']);
      const ownJob = await wsRun(c, 'subscription($id: ID!) { importJobProgress(id: $id) { id status } }', { id: B.ids.importJob });
      expect(ownJob.results[0]?.data).toEqual({ importJobProgress: { id: B.ids.importJob, status: 'COMPLETED' } });
      const seen: string[][] = [];
      const listen = (query: string, variables: Record<string, unknown>) => {
        const got: string[] = [];
        seen.push(got);
        return c.subscribe(
          { query, variables },
          { next: (r) => void got.push(JSON.stringify(r)), error: (e) => void got.push(`error ${JSON.stringify(e)}`), complete: () => undefined },
        );
      };
      const stops = [
        listen('subscription($ids: [ID!]) { recordChanged(ids: $ids) { entityId type data } }', { ids: [A.ids.account, A.ids.opportunity] }),
        listen('subscription($f: ActivityFilter) { activityFeed(filter: $f) { activity { id subject } } }', { f: { accountId: { eq: A.ids.account } } }),
        listen('subscription { recordChanged { entityId type data } }', {}),
        listen('subscription($ids: [ID!]) { recordChanged(ids: $ids) { entityId type } }', { ids: [B.ids.account] }),
      ];
      // Updates of B's own account reach the two subscriptions that cover it (by sentinel value).
      const arrived = (value: string) =>
        seen[2].some((x) => x.includes(value)) &&
        seen[3].some((x) => x.includes(B.ids.account)) &&
        seen[3].length >= seen[2].filter((x) => x.includes(B.ids.account)).length;
      const touchOwn = async (industry: string) =>
        expect(
          (
            await t.gql(
              'mutation($id: ID!, $v: String!) { updateAccount(id: $id, input: { industry: $v }) { id } }',
              { id: B.ids.account, v: industry },
              b.accessToken,
            )
          ).errors,
        ).toBeUndefined();
      // Subscribing is asynchronous: touch B's account until both subscriptions have seen it.
      const deadline = Date.now() + 15_000;
      for (let i = 0; !seen[2].some((x) => x.includes('Warm-up')) || !seen[3].length; i++) {
        if (Date.now() > deadline) throw new Error("the subscriptions never saw B's own updates");
        await touchOwn(`Warm-up ${i}`);
        await until('a warm-up update', () => seen[2].some((x) => x.includes(`Warm-up ${i}`)), 1_000).catch(() => undefined);
      }
      expect(
        (await t.gql('mutation($id: ID!) { updateAccount(id: $id, input: { industry: "Probed" }) { id } }', { id: A.ids.account }, a.accessToken)).errors,
      ).toBeUndefined();
      expect(
        (
          await t.gql(
            'mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }',
            { i: { type: 'NOTE', subject: 'Alpha note', accountId: A.ids.account } },
            a.accessToken,
          )
        ).errors,
      ).toBeUndefined();
      // A sentinel after A's changes: once it has arrived, A's would have too, had they leaked.
      await touchOwn('Sentinel');
      await until('the sentinel over the socket', () => arrived('Sentinel'));
      expect(seen.flat().filter((x) => /alpha/i.test(x) || aIds.some((id) => x.includes(id)))).toEqual([]);
      stops.forEach((stop) => stop());
    } finally {
      await c.dispose();
    }
  });
});
