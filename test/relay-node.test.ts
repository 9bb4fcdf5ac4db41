import { randomUUID } from 'node:crypto';
import { getNamedType, type GraphQLObjectType, type GraphQLSchema, isInterfaceType, isLeafType, isNonNullType, isObjectType } from 'graphql';
import { settleAutomation } from './helpers/automation';
import { apiKey, codes, signUp, startTestApp, userWithRole, type GqlResponse, type SignedUp, type TestApp } from './helpers/app';
import { startReceiver, type Receiver } from './helpers/receiver';
import { until } from './helpers/webhooks';

// Relay's global object identification: every type implementing Node, read through node(id), is the
// same object its kind's own lookup gives, under the same rules, for every kind of viewer. The kinds
// come from the schema the server runs: a kind added to Node without a fixture here fails.

/** How a viewer reads one record through its kind's own lookup: the record, null (not there for them), or an error code. */
type Outcome = { value: unknown } | { error: string };
interface Fixture {
  id: string;
  /** Reads the record with this selection through the kind's own lookup. */
  lookup(selection: string, token: string): Promise<Outcome>;
}

/** Every field of a type a client can select without arguments: leaves as they are, objects by id or __typename. */
function selectionOf(schema: GraphQLSchema, typeName: string): string {
  const type = schema.getType(typeName) as GraphQLObjectType;
  return Object.values(type.getFields())
    .filter((f) => f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined))
    .map((f) => {
      const named = getNamedType(f.type);
      if (isLeafType(named)) return f.name;
      const hasId = (isObjectType(named) || isInterfaceType(named)) && 'id' in named.getFields();
      return `${f.name} { __typename${hasId ? ' id' : ''} }`;
    })
    .join(' ');
}

const outcome = (r: GqlResponse, read: (data: any) => unknown): Outcome => {
  if (r.errors?.length) return r.errors[0].extensions.code === 'NOT_FOUND' ? { value: null } : { error: r.errors[0].extensions.code };
  return { value: read(r.data) ?? null };
};

describe('Relay: node(id) and nodes(ids)', () => {
  let t: TestApp;
  let admin: SignedUp;
  let other: SignedUp;
  let rx: Receiver;
  const viewers: Record<string, string> = {};
  const fixtures: Record<string, Fixture> = {};
  const gql = async (query: string, variables: Record<string, unknown> = {}, token = admin.accessToken) => {
    const r = await t.gql(query, variables, token);
    if (r.errors) throw new Error(`${query}: ${JSON.stringify(r.errors)}`);
    return r.data;
  };

  const byId = (field: string) => (id: string) => (sel: string, token: string) =>
    t.gql(`query($id: ID!) { x: ${field}(id: $id) { ${sel} } }`, { id }, token).then((r) => outcome(r, (d) => d.x));
  /** A record found in a list (or a connection's nodes) of a root query, by id; absent: null. */
  const inList =
    (field: string, connection = false) =>
    (id: string) =>
    (sel: string, token: string) =>
      t
        .gql(connection ? `{ x: ${field}(first: 1000) { nodes { ${sel} } } }` : `{ x: ${field} { ${sel} } }`, {}, token)
        .then((r) => outcome(r, (d) => (connection ? d.x.nodes : d.x).find((n: { id: string }) => n.id === id)));
  /** A record in a list field of its parent, read by the parent's own lookup. */
  const inParent = (field: string, parentId: string, list: string) => (id: string) => (sel: string, token: string) =>
    t
      .gql(`query($id: ID!) { x: ${field}(id: $id) { ${list} { ${sel} } } }`, { id: parentId }, token)
      .then((r) => outcome(r, (d) => d.x?.[list].find((n: { id: string }) => n.id === id)));
  const fixture = (type: string, id: string, lookup: (id: string) => Fixture['lookup']) => (fixtures[type] = { id, lookup: lookup(id) });

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    rx = await startReceiver();
    admin = await signUp(t, 'Relay Co');
    other = await signUp(t, 'Relay Elsewhere');

    // The ADMIN-only kinds first: they see what the records below set off.
    const endpoint = (
      await gql(`mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }`, { i: { url: rx.url, events: ['lead.*'] } })
    ).createWebhookEndpoint.endpoint.id;
    const rule = (
      await gql(`mutation($i: AutomationRuleInput!) { createAutomationRule(input: $i) { id } }`, {
        i: {
          name: 'Relay rule',
          trigger: { type: 'RECORD_EVENT', events: ['lead.created'] },
          actions: [
            { type: 'NOTIFY', params: { to: 'ADMINS', title: 'New lead {{record.lastName}}' } },
            { type: 'SEND_EMAIL', params: { to: 'desk@example.com', subject: 'New lead', body: 'From {{rule.name}}' } },
          ],
        },
      })
    ).createAutomationRule.id;
    const key = (await apiKey(t, admin, ['READ'])).id; // never used: its lastUsedAt stays put

    const account = (await gql(`mutation { createAccount(input: { name: "Node Inc" }) { id } }`)).createAccount.id;
    const contact = (await gql(`mutation($a: ID) { createContact(input: { lastName: "Node", accountId: $a }) { id } }`, { a: account })).createContact.id;
    const lead = (await gql(`mutation { createLead(input: { lastName: "Relay" }) { id } }`)).createLead.id;
    const opportunity = (
      await gql(`mutation($a: ID) { createOpportunity(input: { name: "Node deal", accountId: $a }) { id pipeline { id } stage { id } } }`, { a: account })
    ).createOpportunity;
    const product = (await gql(`mutation { createProduct(input: { name: "Node seat", unitPrice: { amount: "10" } }) { id } }`)).createProduct.id;
    const activity = (await gql(`mutation($a: ID) { createActivity(input: { type: CALL, subject: "Node call", accountId: $a }) { id } }`, { a: account }))
      .createActivity.id;
    const lineItem = (
      await gql(`mutation($o: ID!) { addLineItem(opportunityId: $o, input: { name: "Seats", quantity: "3", unitPrice: "10" }) { id } }`, { o: opportunity.id })
    ).addLineItem.id;
    const team = (await gql(`mutation { createTeam(input: { name: "Node team" }) { id } }`)).createTeam.id;
    const field = (await gql(`mutation { defineCustomField(input: { entityType: ACCOUNT, key: "tier", label: "Tier", type: TEXT }) { id } }`)).defineCustomField
      .id;
    const job = (
      await gql(`mutation($i: StartImportInput!) { startImport(input: $i) { id } }`, {
        i: { entityType: 'ACCOUNT', csv: 'Name\nImported\n', mapping: { Name: 'name' }, dryRun: true },
      })
    ).startImport.id;

    // What those set off: the import, the rule's run (a notification, an email), the webhook.
    await t.services.imports.idle();
    await settleAutomation(t);
    await rx.waitFor(1);
    const delivered = async () =>
      (await gql(`{ webhookDeliveries(first: 10) { nodes { id status } } }`)).webhookDeliveries.nodes as { id: string; status: string }[];
    await until('the delivery recorded as DELIVERED', async () => (await delivered()).some((d) => d.status === 'DELIVERED'));
    const [delivery] = await delivered();
    const [run] = (await gql(`{ automationRuns(first: 10) { nodes { id status } } }`)).automationRuns.nodes;
    expect(run.status).toBe('SUCCEEDED');
    const [email] = (await gql(`{ sentEmails(first: 10) { nodes { id } } }`)).sentEmails.nodes;
    const [notification] = (await gql(`{ notifications { id } }`)).notifications;

    fixture('Account', account, byId('account'));
    fixture('Contact', contact, byId('contact'));
    fixture('Lead', lead, byId('lead'));
    fixture('Opportunity', opportunity.id, byId('opportunity'));
    fixture('Product', product, byId('product'));
    fixture('Activity', activity, byId('activity'));
    fixture('Pipeline', opportunity.pipeline.id, byId('pipeline'));
    fixture('Stage', opportunity.stage.id, inParent('pipeline', opportunity.pipeline.id, 'stages'));
    fixture('LineItem', lineItem, inParent('opportunity', opportunity.id, 'lineItems'));
    fixture('Team', team, byId('team'));
    fixture('User', admin.userId, byId('user'));
    fixture('CustomFieldDefinition', field, inList('customFieldDefinitions'));
    fixture('ImportJob', job, byId('importJob'));
    fixture('Notification', notification.id, inList('notifications'));
    fixture('ApiKey', key, inList('apiKeys'));
    fixture('WebhookEndpoint', endpoint, inList('webhookEndpoints'));
    fixture('WebhookDelivery', delivery.id, inList('webhookDeliveries', true));
    fixture('AutomationRule', rule, inList('automationRules'));
    fixture('AutomationRun', run.id, inList('automationRuns', true));
    fixture('SentEmail', email.id, inList('sentEmails', true));

    viewers.ADMIN = admin.accessToken;
    viewers.REP = (await userWithRole(t, admin, 'REP')).token;
    viewers.READ_ONLY = (await userWithRole(t, admin, 'READ_ONLY')).token;
    viewers['READ key'] = (await apiKey(t, admin, ['READ'])).secret;
    viewers['WRITE key'] = (await apiKey(t, admin, ['WRITE'])).secret;
    viewers['another workspace'] = other.accessToken;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await rx?.close();
  });

  const nodeOf = (id: string, typeName: string, sel: string, token: string) =>
    t.gql(`query($id: ID!) { node(id: $id) { __typename ... on ${typeName} { ${sel} } } }`, { id }, token).then((r) =>
      outcome(r, (d) => {
        if (!d.node) return null;
        const { __typename, ...rest } = d.node;
        expect(__typename).toBe(typeName);
        return rest;
      }),
    );

  it('has a fixture for every type that implements Node in the schema the server runs', () => {
    const node = t.app.schema.getType('Node');
    if (!isInterfaceType(node)) throw new Error('no Node interface');
    const kinds = t.app.schema
      .getPossibleTypes(node)
      .map((k) => k.name)
      .sort();
    expect(kinds).toEqual(Object.keys(fixtures).sort());
    // The records, and what else is stored with a UUID of its own.
    expect(kinds).toEqual(expect.arrayContaining(['Account', 'ApiKey', 'AutomationRun', 'ImportJob', 'Stage', 'WebhookDelivery']));
  });

  const compiledRuns = async () => {
    const line = (await (await fetch(`${t.url}/metrics`)).text()).split('\n').find((l) => l.startsWith('trellis_graphql_executions_total{mode="compiled"} '));
    return line ? Number(line.split(' ')[1]) : 0;
  };

  it('node(id) of every kind is the object its own lookup gives, every field, with its __typename (interpreted and compiled)', async () => {
    const before = await compiledRuns();
    for (const [typeName, f] of Object.entries(fixtures)) {
      const sel = selectionOf(t.app.schema, typeName);
      expect(sel.split(' ').length).toBeGreaterThan(5);
      const expected = await f.lookup(sel, admin.accessToken);
      expect({ typeName, expected }).toEqual({ typeName, expected: { value: expect.objectContaining({ id: f.id }) } });
      // Twice: compiled execution takes over an operation the second time it runs.
      for (let i = 0; i < 2; i++) expect({ typeName, got: await nodeOf(f.id, typeName, sel, admin.accessToken) }).toEqual({ typeName, got: expected });
    }
    expect((await compiledRuns()) - before).toBeGreaterThanOrEqual(Object.keys(fixtures).length);
  });

  it('every viewer reads each kind through node(id) exactly as through its lookup: the same record, null, or the same error', async () => {
    const seen = new Map<string, string>();
    for (const [viewer, token] of Object.entries(viewers)) {
      for (const [typeName, f] of Object.entries(fixtures)) {
        const sel = 'id';
        const expected = await f.lookup(sel, token);
        const got = await nodeOf(f.id, typeName, sel, token);
        expect({ viewer, typeName, got }).toEqual({ viewer, typeName, got: expected });
        seen.set(`${viewer} ${typeName}`, 'error' in expected ? expected.error : expected.value ? 'record' : 'null');
      }
    }
    // The matrix is not trivially equal: what each viewer gets differs as the rules say.
    expect(seen.get('REP Account')).toBe('record');
    expect(seen.get('READ_ONLY Opportunity')).toBe('record');
    expect(seen.get('READ key Stage')).toBe('record');
    for (const admin of ['ApiKey', 'WebhookEndpoint', 'WebhookDelivery', 'AutomationRule', 'AutomationRun', 'SentEmail']) {
      for (const viewer of ['REP', 'READ_ONLY', 'READ key', 'WRITE key'])
        expect(`${viewer} ${admin}: ${seen.get(`${viewer} ${admin}`)}`).toBe(`${viewer} ${admin}: FORBIDDEN`);
    }
    expect(seen.get('REP Notification')).toBe('null'); // the ADMIN's, not theirs
    expect(seen.get('READ key Notification')).toBe('FORBIDDEN'); // an API key has no inbox
    expect(seen.get('WRITE key Account')).toBe('FORBIDDEN'); // no READ scope
    for (const typeName of Object.keys(fixtures)) expect(`${typeName}: ${seen.get(`another workspace ${typeName}`)}`).toBe(`${typeName}: null`);
  });

  it('nodes(ids): one entry per id in the same order, repeats kept, null for unknown and foreign ids, the error where the lookup refuses', async () => {
    const { Account, Lead, ApiKey, Stage } = fixtures;
    const foreign = (await t.gql(`mutation { createAccount(input: { name: "Not yours" }) { id } }`, {}, other.accessToken)).data.createAccount.id;
    const ids = [Lead.id, randomUUID(), Account.id, ApiKey.id, foreign, Account.id.toUpperCase(), Stage.id];
    const q = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`;
    const asAdmin = await t.gql(q, { ids }, admin.accessToken);
    expect(asAdmin.errors).toBeUndefined();
    expect(asAdmin.data.nodes).toEqual([
      { __typename: 'Lead', id: Lead.id },
      null,
      { __typename: 'Account', id: Account.id },
      { __typename: 'ApiKey', id: ApiKey.id },
      null,
      { __typename: 'Account', id: Account.id },
      { __typename: 'Stage', id: Stage.id },
    ]);
    const asRep = await t.gql(q, { ids }, viewers.REP);
    expect(asRep.data.nodes.map((n: { __typename: string } | null) => n?.__typename ?? null)).toEqual([
      'Lead',
      null,
      'Account',
      null,
      null,
      'Account',
      'Stage',
    ]);
    expect(asRep.errors!.map((e) => [e.extensions.code, e.path])).toEqual([['FORBIDDEN', ['nodes', 3]]]);
    expect((await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [] }, admin.accessToken)).data.nodes).toEqual([]);
  });

  it('nodes(ids) takes at most 100 ids (BAD_USER_INPUT past it) and is priced per id, not per cap', async () => {
    const q = `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Account { name owner { name } } } }`;
    const ids = (n: number) => Array.from({ length: n }, () => randomUUID());
    const hundred = await t.gql(q, { ids: ids(100) }, admin.accessToken);
    expect(hundred.errors).toBeUndefined();
    expect(hundred.data.nodes).toEqual(Array(100).fill(null));
    const tooMany = await t.gql(q, { ids: ids(101) }, admin.accessToken);
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(tooMany.errors![0].extensions.fields).toEqual([{ field: 'ids', message: 'at most 100 ids at a time (101 given)' }]);
    const cost = async (n: number) => (await t.gql(q, { ids: ids(n) }, admin.accessToken)).body.extensions.cost.requested as number;
    const [one, two, ten, cap, past] = [await cost(1), await cost(2), await cost(10), await cost(100), await cost(5000)];
    const perId = two - one;
    expect(perId).toBeGreaterThan(1); // what each id selects: the node, its account's name, its owner
    expect(ten).toBe(one + 9 * perId);
    expect(cap).toBe(one + 99 * perId);
    expect(past).toBe(cap); // priced at the cap, then refused
  });

  it('an id that is no UUID is BAD_USER_INPUT naming it; no credentials is UNAUTHENTICATED', async () => {
    const bad = await t.gql(`{ node(id: "QWNjb3VudDox") { id } }`, {}, admin.accessToken);
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0].extensions.fields).toEqual([{ field: 'id', message: 'is not a Trellis id (a UUID)' }]);
    const some = await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [fixtures.Account.id, 'nope', 'x'] }, admin.accessToken);
    expect(some.errors![0].extensions.fields!.map((f) => f.field)).toEqual(['ids[1]', 'ids[2]']);
    expect(codes(await t.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: fixtures.Account.id }))).toEqual(['UNAUTHENTICATED']);
    // Any case of a UUID is the same id; the record answers with its own.
    expect((await t.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: fixtures.Account.id.toUpperCase() }, admin.accessToken)).data.node).toEqual({
      id: fixtures.Account.id,
    });
  });
});
