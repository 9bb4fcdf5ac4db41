import { getIntrospectionQuery, parse } from 'graphql';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { queryCost } from '../src/server/limits';
import { MAX_CHILDREN } from '../src/data/loaders';
import { MAX_STAGES } from '../src/modules/pipelines/pipeline.entity';
import { TenantTransaction } from '../src/db/tenant-transaction';
import { coerceFilter } from '../src/data/json-filter';
import { actorOf, type Viewer } from '../src/kernel/viewer';
import { codes, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';
import { settleAutomation } from './helpers/automation';
import { startReceiver, type Receiver } from './helpers/receiver';
import { createAccount, createEndpoint, until } from './helpers/webhooks';
import { Role, ApiScope } from '../src/kernel/roles';

// Issue 17, findings 1-3: what one workspace does cannot stop, stall or slow another's work.

const DEFINE_FIELD = `mutation($i: DefineCustomFieldInput!) { defineCustomField(input: $i) { id } }`;
const REMOVE_FIELD = `mutation($id: ID!) { removeCustomField(id: $id) { id } }`;
const CREATE_RULE = `mutation($i: AutomationRuleInput!) { createAutomationRule(input: $i) { id } }`;

describe('tenant isolation', () => {
  let t: TestApp;
  let a: SignedUp;
  let b: SignedUp;
  let receiver: Receiver;

  beforeAll(async () => {
    // A pool of 4: each workspace may hold 2 connections at once.
    t = await startTestApp({
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      DB_POOL_SIZE: '4',
      STATEMENT_TIMEOUT_MS: '1500',
      MAX_ROWS_PER_REQUEST: '1000',
      MAX_RESPONSE_BYTES: '100000',
    });
    a = await signUp(t, 'Attacker');
    b = await signUp(t, 'Bystander');
    receiver = await startReceiver();
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });

  const gql = async (who: SignedUp, query: string, variables?: Record<string, unknown>) => {
    const r = await t.gql(query, variables, who.accessToken);
    expect(r.errors).toBeUndefined();
    return r.data;
  };
  const defineTier = async (who: SignedUp) =>
    (await gql(who, DEFINE_FIELD, { i: { entityType: 'ACCOUNT', key: 'tier', label: 'Tier', type: 'TEXT' } })).defineCustomField.id as string;
  /** Copies of account `seed` (same workspace) named `<prefix><n>`, n = 1..count, written directly (test data, not app writes). */
  const copyAccount = async (seed: string, count: number, name: string) => {
    const cols = (
      await t.sql<{ c: string }>(
        `SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'account' AND is_generated = 'NEVER' AND column_name NOT IN ('id', 'name', 'external_id')`,
      )
    ).map((r) => r.c);
    await t.sql(
      `INSERT INTO account (${cols.join(', ')}, id, name) SELECT ${cols.join(', ')}, gen_random_uuid(), ${name} FROM account, generate_series(1, ${count}) g WHERE id = $1`,
      [seed],
    );
  };
  /** Takes a custom field away behind the service's back, as a field removed before its users were checked would be. */
  const dropFieldBehindTheServicesBack = (fieldId: string) => t.sql(`UPDATE custom_field_definition SET deleted_at = now() WHERE id = $1`, [fieldId]);

  describe('1. a failing stored filter stops neither the shared consumers nor anyone else', () => {
    it('refuses to remove a custom field that a webhook filter or a rule condition names, and says which', async () => {
      const fieldId = await defineTier(a);
      const endpointId = await createEndpoint(t, a, { url: `${receiver.url}/a`, filter: { customFields: [{ key: 'tier', eq: 'gold' }] } });
      const ruleId = (
        await gql(a, CREATE_RULE, {
          i: {
            name: 'Gold',
            trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
            conditions: { customFields: [{ key: 'tier', eq: 'gold' }] },
            actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'gold' } }],
          },
        })
      ).createAutomationRule.id;
      const r = await t.gql(REMOVE_FIELD, { id: fieldId }, a.accessToken);
      expect(codes(r)).toEqual(['CONFLICT']);
      expect(r.errors![0].message).toContain(endpointId);
      expect(r.errors![0].message).toContain(ruleId);
      expect(r.errors![0].extensions.usedBy).toHaveLength(2);
      const [def] = await t.sql<{ deleted_at: Date | null }>(`SELECT deleted_at FROM custom_field_definition WHERE id = $1`, [fieldId]);
      expect(def.deleted_at).toBeNull();
      // A filter through a relation names the related kind's field: an opportunity endpoint filtering on its account's tier.
      const viaRelation = await createEndpoint(t, a, {
        url: `${receiver.url}/a2`,
        events: ['opportunity.*'],
        filter: { account: { customFields: [{ key: 'tier', eq: 'gold' }] } },
      });
      await gql(a, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id: endpointId });
      await gql(a, `mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId });
      const still = await t.gql(REMOVE_FIELD, { id: fieldId }, a.accessToken);
      expect(still.errors![0].extensions.usedBy).toEqual([`webhook endpoint ${viaRelation}`]);
      await gql(a, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id: viaRelation });
      expect((await t.gql(REMOVE_FIELD, { id: fieldId }, a.accessToken)).errors).toBeUndefined();
    });

    it('a filter stored while its custom field is being removed: one of the two is refused, never both done', async () => {
      const fieldId = await defineTier(a);
      const viewer: Viewer = {
        kind: 'USER',
        workspaceId: a.workspaceId,
        userId: a.userId,
        apiKeyId: null,
        role: Role.ADMIN,
        teamId: null,
        scopes: [ApiScope.READ, ApiScope.WRITE],
      };
      const ctx = () => {
        const tx = new TenantTransaction(t.ds, a.workspaceId);
        return { tx, viewer, actor: actorOf(viewer) };
      };
      const coerce = (type: string, value: unknown) => coerceFilter(t.app.schema, type, value, 'input.filter');
      // The filter is stored first, not yet committed; the removal starts meanwhile and waits for it.
      const storing = ctx();
      const { endpoint } = await t.services.webhookEndpoints.create(
        storing,
        { url: `${receiver.url}/race`, events: ['account.*'], filter: { customFields: [{ key: 'tier', eq: 'gold' }] } } as never,
        coerce,
      );
      const removing = ctx();
      const removal = t.services.customFields.remove(removing, fieldId).then(
        () => 'removed',
        (err: { extensions?: { code?: string } }) => err.extensions?.code,
      );
      await new Promise((r) => setTimeout(r, 300));
      await storing.tx.commit();
      expect(await removal).toBe('CONFLICT');
      await removing.tx.rollback();
      // The other order: the removal first, then a filter naming the field, checked before the removal commits.
      await gql(a, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, { id: endpoint.id });
      const removing2 = ctx();
      await t.services.customFields.remove(removing2, fieldId);
      const storing2 = ctx();
      const stored = t.services.webhookEndpoints
        .create(storing2, { url: `${receiver.url}/race2`, events: ['account.*'], filter: { customFields: [{ key: 'tier', eq: 'gold' }] } } as never, coerce)
        .then(
          () => 'stored',
          (err: { extensions?: { code?: string } }) => err.extensions?.code,
        );
      await new Promise((r) => setTimeout(r, 300));
      await removing2.tx.commit();
      expect(await stored).toBe('BAD_USER_INPUT');
      await storing2.tx.rollback();
    });

    it("an endpoint whose filter cannot run is disabled, its admins told, and everyone else's deliveries go on", async () => {
      const fieldId = await defineTier(a).catch(
        async () =>
          (
            await t.sql<{ id: string }>(`SELECT id FROM custom_field_definition WHERE workspace_id = $1 AND key = 'tier' AND deleted_at IS NULL`, [
              a.workspaceId,
            ])
          )[0].id,
      );
      const broken = await createEndpoint(t, a, { url: `${receiver.url}/broken`, filter: { customFields: [{ key: 'tier', eq: 'gold' }] } });
      await createEndpoint(t, b, { url: `${receiver.url}/bystander` });
      await dropFieldBehindTheServicesBack(fieldId);
      await createAccount(t, a, 'Trigger');
      const bAccount = await createAccount(t, b, 'Bystander account');
      await until('the bystander delivery', () => receiver.received.some((r) => r.body.includes(bAccount)), 15_000);
      const [e] = await t.sql<{ active: boolean; disabled_reason: string }>(`SELECT active, disabled_reason FROM webhook_endpoint WHERE id = $1`, [broken]);
      expect(e.active).toBe(false);
      expect(e.disabled_reason).toMatch(/filter can no longer be applied.*tier/);
      const notes = await t.gql(`{ notifications { title entityId } }`, {}, a.accessToken);
      expect(notes.data.notifications).toEqual(expect.arrayContaining([expect.objectContaining({ entityId: broken })]));
      // The cursor passed every event: nothing is left for the dispatcher to retry.
      await t.services.webhooks.dispatcher.run();
      const [{ behind }] = await t.sql<{ behind: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM event e, webhook_dispatch_cursor c WHERE (e.tx_id, e.id) > (c.tx, c.seq) AND e.entity_type = 'account') AS behind`,
      );
      expect(behind).toBe(false);
    });

    it("a rule whose conditions cannot run is disabled with its reason, and other workspaces' rules run", async () => {
      const fieldId = await defineTier(a);
      const broken = (
        await gql(a, CREATE_RULE, {
          i: {
            name: 'Broken',
            trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
            conditions: { customFields: [{ key: 'tier', eq: 'gold' }] },
            actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'gold' } }],
          },
        })
      ).createAutomationRule.id;
      const fine = (
        await gql(b, CREATE_RULE, {
          i: {
            name: 'Fine',
            trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
            actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'new account' } }],
          },
        })
      ).createAutomationRule.id;
      await dropFieldBehindTheServicesBack(fieldId);
      await createAccount(t, a, 'Trigger 2');
      await createAccount(t, b, 'Bystander 2');
      await settleAutomation(t);
      const [rule] = await t.sql<{ active: boolean; disabled_reason: string }>(`SELECT active, disabled_reason FROM automation_rule WHERE id = $1`, [broken]);
      expect(rule).toEqual({ active: false, disabled_reason: expect.stringMatching(/conditions can no longer be evaluated.*tier/) });
      const runs = await t.sql(`SELECT 1 FROM automation_run WHERE rule_id = $1 AND status = 'SUCCEEDED'`, [fine]);
      expect(runs).toHaveLength(1);
      const shown = await gql(a, `{ automationRules { id active disabledReason } }`);
      expect(shown.automationRules.find((r: { id: string }) => r.id === broken)).toEqual({
        id: broken,
        active: false,
        disabledReason: expect.stringMatching(/tier/),
      });
    });
  });

  describe('2. no list is free in the cost model', () => {
    const BOMB = `{ accounts(first: 1) { nodes { contacts { account { contacts { account { contacts { id } } } } } } } }`;

    it('refuses the relation-chain bomb over HTTP and WebSocket alike, before it runs', async () => {
      const started = Date.now();
      const http = await t.gql(BOMB, {}, a.accessToken);
      expect(codes(http)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(Date.now() - started).toBeLessThan(2000);
      const client = createClient({
        url: t.url.replace('http', 'ws') + '/graphql',
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${a.accessToken}` },
        retryAttempts: 0,
        lazy: true,
      });
      const ws = await new Promise<{ code?: string; message?: string }>((resolve) => {
        client.subscribe(
          { query: BOMB },
          {
            next: (r) => resolve({ code: r.errors?.[0]?.extensions?.code as string, message: r.errors?.[0]?.message }),
            error: (e) => resolve({ code: (e as any)?.[0]?.extensions?.code, message: (e as any)?.[0]?.message }),
            complete: () => undefined,
          },
        );
      });
      await client.dispose();
      expect(ws).toEqual({ code: 'QUERY_TOO_COMPLEX', message: http.errors![0].message });
    });

    it.each([
      ['Account.contacts', 'accounts', 'contacts', MAX_CHILDREN],
      ['Account.opportunities', 'accounts', 'opportunities', MAX_CHILDREN],
      ['Team.members', 'teams', 'members', MAX_CHILDREN],
      ['Pipeline.stages', 'pipelines', 'stages', MAX_STAGES],
      ['Opportunity.lineItems', 'opportunities', 'lineItems', MAX_CHILDREN],
      ['Opportunity.stageHistory', 'opportunities', 'stageHistory', MAX_CHILDREN],
    ])('%s is priced at its cap times its selection', (_name, list, field, cap) => {
      const cost = (selection: string) => queryCost(t.app.schema, parse(`{ ${list}(first: 10) { nodes { ${field} { ${selection} } } } }`), {})!;
      expect(cost('__typename')).toBeGreaterThanOrEqual(10 * cap);
      expect(cost('__typename again: __typename') - cost('__typename')).toBeGreaterThanOrEqual(10 * cap);
    });

    it("prices introspection by the schema, not by a relation list's cap: GraphiQL's query stays cheap", () => {
      const full = getIntrospectionQuery({
        descriptions: true,
        inputValueDeprecation: true,
        schemaDescription: true,
        specifiedByUrl: true,
        directiveIsRepeatable: true,
      });
      expect(queryCost(t.app.schema, parse(full), {})).toBeLessThan(t.config.limits.cost / 10);
    });

    it('caps the rows one request reads, and the bytes of its answer', async () => {
      const seed = await createAccount(t, b, 'Seed row');
      await copyAccount(seed, 600, `'Row ' || lpad(g::text, 4, '0') || ' ' || repeat('x', 200)`);
      const page = `{ accounts(first: 600, filter: { name: { startsWith: "Row " } }) { nodes { id } } }`;
      expect((await t.gql(page, {}, b.accessToken)).errors).toBeUndefined();
      const twice = `{ one: accounts(first: 600, filter: { name: { startsWith: "Row " } }) { nodes { id } } two: accounts(first: 600, filter: { name: { startsWith: "Row " } }) { nodes { id } } }`;
      const rows = await t.gql(twice, {}, b.accessToken);
      expect(codes(rows)).toContain('QUERY_TOO_COMPLEX');
      expect(rows.errors![0].message).toMatch(/more than 1000 rows/);
      const big = await t.gql(`{ accounts(first: 600, filter: { name: { startsWith: "Row " } }) { nodes { id name } } }`, {}, b.accessToken);
      expect(big.status).toBe(200);
      expect(codes(big)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(big.errors![0].message).toMatch(/larger than 100000 bytes/);
      expect(JSON.stringify(big.body).length).toBeLessThan(1000);
    }, 120_000);
  });

  describe('3. filters are priced and bounded, statements have a time limit, a workspace has a share of the pool', () => {
    it('refuses a filter of 20 000 empty relation conditions at once, and counts empty items too', async () => {
      const started = Date.now();
      const bomb = { or: Array.from({ length: 20_000 }, () => ({ account: {} })) };
      const r = await t.gql(`query($f: ContactFilter) { contacts(filter: $f) { totalCount } }`, { f: bomb }, a.accessToken);
      expect(['BAD_USER_INPUT', 'QUERY_TOO_COMPLEX']).toContain(codes(r)[0]);
      expect(Date.now() - started).toBeLessThan(3000);
      // 201 empty items were free before: each is an EXISTS subquery.
      const small = await t.gql(
        `query($f: ContactFilter) { contacts(filter: $f) { totalCount } }`,
        { f: { or: Array.from({ length: 201 }, () => ({ account: {} })) } },
        a.accessToken,
      );
      expect(codes(small)).toEqual(['BAD_USER_INPUT']);
      const nested = await t.gql(
        `query($f: ContactFilter) { contacts(filter: $f) { totalCount } }`,
        { f: { and: Array.from({ length: 100 }, () => ({ account: { owner: {} } })) } },
        a.accessToken,
      );
      expect(codes(nested)).toEqual(['BAD_USER_INPUT']);
      const fine = await t.gql(
        `query($f: ContactFilter) { contacts(filter: $f) { totalCount } }`,
        { f: { or: Array.from({ length: 50 }, () => ({ account: {} })) } },
        a.accessToken,
      );
      expect(fine.errors).toBeUndefined();
    });

    describe('on 150 000 accounts', () => {
      // 99 items: 199 filter nodes, just under the cap of 200.
      const slowFilter = { or: Array.from({ length: 99 }, (_, i) => ({ name: { contains: `no such name ${i}` } })) };
      const SLOW = `query($f: AccountFilter) { accounts(filter: $f) { totalCount } }`;

      beforeAll(async () => {
        const seed = await createAccount(t, a, 'Seed');
        await copyAccount(seed, 150_000, `'Bulk ' || g`);
        await t.sql(`ANALYZE account`);
      }, 120_000);

      it('stops a statement past STATEMENT_TIMEOUT_MS with QUERY_TIMEOUT, and the workspace goes on', async () => {
        const started = Date.now();
        const r = await t.gql(SLOW, { f: slowFilter }, a.accessToken);
        expect(codes(r)).toEqual(['QUERY_TIMEOUT']);
        expect(Date.now() - started).toBeLessThan(6000);
        expect((await t.gql(`{ accounts(first: 1) { totalCount } }`, {}, a.accessToken)).errors).toBeUndefined();
      }, 30_000);

      it("one workspace's slow requests hold at most its share of the pool: another's answer at once", async () => {
        const slow = Array.from({ length: 6 }, () => t.gql(SLOW, { f: slowFilter }, a.accessToken));
        await new Promise((r) => setTimeout(r, 300));
        const started = Date.now();
        const quick = await t.gql(`{ accounts(first: 1) { nodes { id } } }`, {}, b.accessToken);
        const waited = Date.now() - started;
        expect(quick.errors).toBeUndefined();
        // Without the share, 4 of A's 1.5 s statements held every connection of the pool of 4.
        expect(waited).toBeLessThan(1000);
        for (const r of await Promise.all(slow)) expect(codes(r)).toEqual(['QUERY_TIMEOUT']);
      }, 60_000);
    });

    it('runs one import job of a workspace at a time; the others wait their turn', async () => {
      const start = async (batch: number) => {
        const csv = ['ext,name', ...Array.from({ length: 1200 }, (_, i) => `imp-${batch}-${i},Imported ${batch} ${i}`)].join('\n');
        return (
          await gql(a, `mutation($i: StartImportInput!) { startImport(input: $i) { id } }`, {
            i: { entityType: 'ACCOUNT', csv, mapping: { ext: 'externalId', name: 'name' } },
          })
        ).startImport.id as string;
      };
      const ids = [await start(1), await start(2), await start(3)];
      let most = 0;
      await until(
        'every import to finish',
        async () => {
          const rows = await t.sql<{ status: string }>(`SELECT status FROM import_job WHERE id = ANY($1::uuid[])`, [ids]);
          most = Math.max(most, rows.filter((r) => r.status === 'RUNNING').length);
          return rows.every((r) => r.status !== 'PENDING' && r.status !== 'RUNNING');
        },
        90_000,
      );
      expect(most).toBe(1);
    }, 120_000);
  });
});
