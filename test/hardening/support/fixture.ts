import type { SignedUp, TestApp } from '../../helpers/app';
import { until } from './app';
import { uniq } from './schema-walk';

/** The kinds of record a workspace fixture holds, one id each (two for those a merge needs). */
export const KINDS = [
  'workspace',
  'user',
  'team',
  'account',
  'account2',
  'contact',
  'contact2',
  'lead',
  'opportunity',
  'activity',
  'product',
  'pipeline',
  'stage',
  'stage2',
  'stageOther',
  'lineItem',
  'customField',
  'webhookEndpoint',
  'webhookDelivery',
  'automationRule',
  'automationRun',
  'apiKey',
  'importJob',
  'notification',
] as const;
export type Kind = (typeof KINDS)[number];

export interface Fixture {
  tag: string;
  admin: SignedUp;
  ids: Record<Kind, string>;
  /** Every stage of `pipeline`, in order. */
  stageIds: string[];
  externalIds: { account: string; contact: string; lead: string; opportunity: string; product: string; activity: string };
  emails: { user: string; contact: string; lead: string };
  domain: string;
  /** A change feed cursor of the workspace. */
  cursor: string;
}

async function gql<T = any>(t: TestApp, admin: SignedUp, query: string, variables: Record<string, unknown>): Promise<T> {
  const r = await t.gql(query, variables, admin.accessToken);
  if (r.errors) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(r.errors)}`);
  return r.data;
}

/**
 * One of everything in `admin`'s workspace, made through the API, every name carrying `tag`.
 * A rule notifies the admins of new accounts and an endpoint receives account events, so that a
 * run, a notification and a webhook delivery exist too; the fixture waits until they have settled
 * (webhook and automation workers on, `hookUrl` answering 2xx).
 */
export async function buildFixture(t: TestApp, admin: SignedUp, tag: string, hookUrl: string | null): Promise<Fixture> {
  const s = uniq();
  const lower = tag.toLowerCase();
  const q = (query: string, variables: Record<string, unknown> = {}) => gql(t, admin, query, variables);
  const rule = (
    await q('mutation($i: AutomationRuleInput!) { createAutomationRule(input: $i) { id } }', {
      i: {
        name: `${tag} rule ${s}`,
        trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
        actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: `${tag} notice` } }],
      },
    })
  ).createAutomationRule.id;
  const endpoint = (
    await q('mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }', {
      i: { url: hookUrl ?? 'https://hooks.example.com/never-called', events: ['account.*'], description: `${tag} hook` },
    })
  ).createWebhookEndpoint.endpoint.id;
  const userEmail = `${lower}-rep-${s}@example.com`;
  const user = (
    await q('mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', {
      i: { name: `${tag} Rep`, email: userEmail, role: 'REP', password: 'a rep password 1' },
    })
  ).createUser.id;
  const team = (await q('mutation($i: CreateTeamInput!) { createTeam(input: $i) { id } }', { i: { name: `${tag} team ${s}`, managerId: user } })).createTeam.id;
  await q('mutation($id: ID!, $t: ID!) { updateUser(id: $id, input: { teamId: $t }) { id } }', { id: user, t: team });
  const ext = {
    account: `${tag}-acc-${s}`,
    contact: `${tag}-con-${s}`,
    lead: `${tag}-lead-${s}`,
    opportunity: `${tag}-opp-${s}`,
    product: `${tag}-prod-${s}`,
    activity: `${tag}-act-${s}`,
  };
  const domain = `${lower}-${s}.example.com`;
  const account = (
    await q('mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }', {
      i: { name: `${tag} Account ${s}`, externalId: ext.account, domain, ownerId: user },
    })
  ).createAccount.id;
  const account2 = (await q('mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }', { i: { name: `${tag} Second account ${s}` } }))
    .createAccount.id;
  const contactEmail = `${lower}-contact-${s}@example.com`;
  const contact = (
    await q('mutation($i: CreateContactInput!) { createContact(input: $i) { id } }', {
      i: { lastName: `${tag} Contact`, email: contactEmail, accountId: account, externalId: ext.contact, ownerId: user },
    })
  ).createContact.id;
  const contact2 = (
    await q('mutation($i: CreateContactInput!) { createContact(input: $i) { id } }', { i: { lastName: `${tag} Second contact`, accountId: account } })
  ).createContact.id;
  const leadEmail = `${lower}-lead-${s}@example.com`;
  const lead = (
    await q('mutation($i: CreateLeadInput!) { createLead(input: $i) { id } }', {
      i: { lastName: `${tag} Lead`, company: `${tag} Co ${s}`, email: leadEmail, externalId: ext.lead, ownerId: user },
    })
  ).createLead.id;
  const pipeline = (
    await q('mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id stages { id } } }', {
      i: {
        name: `${tag} pipeline ${s}`,
        stages: [
          { name: `${tag} open`, probability: 10 },
          { name: `${tag} later`, probability: 60 },
          { name: `${tag} won`, probability: 100, kind: 'WON' },
        ],
      },
    })
  ).createPipeline;
  const pipelines = (await q('{ pipelines(first: 50) { nodes { id isDefault stages { id } } } }')).pipelines.nodes as {
    id: string;
    isDefault: boolean;
    stages: { id: string }[];
  }[];
  const stageOther = pipelines.find((p) => p.isDefault)!.stages[0].id;
  const opportunity = (
    await q('mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id } }', {
      i: {
        name: `${tag} Deal ${s}`,
        accountId: account,
        primaryContactId: contact,
        pipelineId: pipeline.id,
        stageId: pipeline.stages[0].id,
        amount: { amount: '1000', currency: 'USD' },
        externalId: ext.opportunity,
        ownerId: user,
        expectedCloseDate: new Date(Date.now() + 14 * 86400_000).toISOString().slice(0, 10),
      },
    })
  ).createOpportunity.id;
  // A won deal beside it, so that the analytics (win rate, revenue, cycle) have something to count.
  await q('mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id } }', {
    i: {
      name: `${tag} Won deal ${s}`,
      accountId: account,
      primaryContactId: contact,
      pipelineId: pipeline.id,
      stageId: pipeline.stages[2].id,
      amount: { amount: '500', currency: 'USD' },
      ownerId: user,
    },
  });
  const product = (
    await q('mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }', {
      i: { name: `${tag} Product ${s}`, sku: `${tag}-sku-${s}`, externalId: ext.product, unitPrice: { amount: '10', currency: 'USD' } },
    })
  ).createProduct.id;
  const lineItem = (
    await q('mutation($o: ID!, $i: AddLineItemInput!) { addLineItem(opportunityId: $o, input: $i) { id } }', {
      o: opportunity,
      i: { productId: product, quantity: '2' },
    })
  ).addLineItem.id;
  const activity = (
    await q('mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }', {
      i: { type: 'TASK', subject: `${tag} Task ${s}`, opportunityId: opportunity, dueAt: '2031-01-01T00:00:00.000Z', externalId: ext.activity, ownerId: user },
    })
  ).createActivity.id;
  // Notes on the account, the contact and the lead, so that list filters on them find something.
  for (const link of [{ accountId: account }, { contactId: contact }, { leadId: lead }]) {
    await q('mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }', { i: { type: 'NOTE', subject: `${tag} note ${s}`, ...link } });
  }
  const customField = (
    await q('mutation($i: DefineCustomFieldInput!) { defineCustomField(input: $i) { id } }', {
      i: { entityType: 'ACCOUNT', key: `${lower}_${s}`, label: `${tag} field`, type: 'TEXT' },
    })
  ).defineCustomField.id;
  const apiKeyId = (
    await q('mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }', { i: { name: `${tag} key ${s}`, scopes: ['READ'] } })
  ).createApiKey.apiKey.id;
  const importJob = (
    await q('mutation($i: StartImportInput!) { startImport(input: $i) { id } }', {
      i: { entityType: 'ACCOUNT', csv: `externalId,name\n${tag}-imp-${s},${tag} Imported ${s}\n`, mapping: { externalId: 'externalId', name: 'name' } },
    })
  ).startImport.id;

  const wid = admin.workspaceId;
  // What the workers make: wait until it has settled, so that nothing of the workspace moves afterwards.
  const none = '00000000-0000-4000-8000-000000000000';
  let [run, notification, delivery] = [none, none, none];
  if (!hookUrl) {
    // Workers off: no run, notification or delivery will come; only the import is waited for.
    await t.services.imports.idle();
  } else {
    const count = async (sql: string, param: string = wid) => (await t.sql<{ n: number }>(sql, [param]))[0].n;
    await until(
      `${tag}: the automation runs, notifications, webhook deliveries and the import to settle`,
      async () => {
        // This rule ran for each of the 3 accounts (the third imported), this endpoint received their
        // events and has nothing pending (for A, the only rule and endpoint: nothing more will move).
        const runs = await count(`SELECT count(*)::int AS n FROM automation_run WHERE rule_id = $1 AND status = 'SUCCEEDED'`, rule);
        const delivered = await count(`SELECT count(*)::int AS n FROM webhook_delivery WHERE endpoint_id = $1 AND status = 'DELIVERED'`, endpoint);
        const pending = await count(`SELECT count(*)::int AS n FROM webhook_delivery WHERE endpoint_id = $1 AND status = 'PENDING'`, endpoint);
        const jobs = await count(`SELECT count(*)::int AS n FROM import_job WHERE workspace_id = $1 AND status IN ('PENDING', 'RUNNING')`);
        return jobs === 0 && runs >= 3 && delivered >= 3 && pending === 0;
      },
      20_000,
    );
    const one = async (sql: string, params: unknown[]) => (await t.sql<{ id: string }>(sql, params))[0].id;
    run = await one(`SELECT id FROM automation_run WHERE workspace_id = $1 AND rule_id = $2 ORDER BY created_at LIMIT 1`, [wid, rule]);
    notification = await one(`SELECT id FROM notification WHERE workspace_id = $1 ORDER BY created_at LIMIT 1`, [wid]);
    delivery = await one(`SELECT id FROM webhook_delivery WHERE workspace_id = $1 AND endpoint_id = $2 ORDER BY created_at LIMIT 1`, [wid, endpoint]);
  }
  const cursor = (await q('{ changes(first: 1) { endCursor } }')).changes.endCursor as string;

  return {
    tag,
    admin,
    ids: {
      workspace: wid,
      user,
      team,
      account,
      account2,
      contact,
      contact2,
      lead,
      opportunity,
      activity,
      product,
      pipeline: pipeline.id,
      stage: pipeline.stages[0].id,
      stage2: pipeline.stages[1].id,
      stageOther,
      lineItem,
      customField,
      webhookEndpoint: endpoint,
      webhookDelivery: delivery,
      automationRule: rule,
      automationRun: run,
      apiKey: apiKeyId,
      importJob,
      notification,
    },
    stageIds: pipeline.stages.map((x: { id: string }) => x.id),
    externalIds: ext,
    emails: { user: userEmail, contact: contactEmail, lead: leadEmail },
    domain,
    cursor,
  };
}
