import { createHash, randomUUID } from 'node:crypto';
import type { ServiceContext } from '../../data/context';
import { ACCOUNT_STORE } from '../accounts/account.descriptor';
import { ActivityStatus, ActivityType } from '../activities/activity.entity';
import { ACTIVITY_STORE } from '../activities/activity.descriptor';
import { insertMany } from '../../data/record-store';
import { CONTACT_STORE } from '../contacts/contact.descriptor';
import { CustomFieldType } from '../custom-fields/custom-field.entity';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import { EntityType } from '../../graphql/enums';
import { LINE_ITEM_STORE, OPPORTUNITY_STORE } from '../opportunities/opportunity.descriptor';
import { OpportunityStatus } from '../opportunities/opportunity.entity';
import type { PipelineService } from '../pipelines/pipeline.service';
import { PRODUCT_STORE } from '../products/product.descriptor';
import { TEAM_STORE } from '../teams/team.descriptor';
import { USER_STORE } from '../users/user.descriptor';
import { INDUSTRY_FIXES, MAVEN_DIR, PRODUCT_ALIASES, readMaven, slug, STAGE_OF } from './maven-dataset';
import { Role } from '../../kernel/roles';

// The dataset ends on 2017-12-31; deals still prospecting then have no date, so they get one in its last quarter.
const DATASET_END = Date.UTC(2017, 11, 31);
const DAY = 86_400_000;

/** A deterministic number in [0, 1) from a string, so that the demo is the same on every machine. */
const unit = (s: string) => createHash('sha1').update(s).digest().readUInt32BE(0) / 2 ** 32;
const FIRST = ['Alex', 'Sam', 'Jordan', 'Taylor', 'Morgan', 'Casey', 'Jamie', 'Riley', 'Avery', 'Quinn', 'Drew', 'Robin'];
const LAST = ['Garcia', 'Smith', 'Müller', 'Rossi', 'Dubois', 'Kowalski', 'Nakamura', 'Okafor', 'Silva', 'Jensen', 'Novak', 'Haddad'];

export interface MavenSummary {
  users: number;
  teams: number;
  accounts: number;
  products: number;
  contacts: number;
  opportunities: number;
  activities: number;
}

type Rows = Record<string, string>[];
type Deal = Awaited<ReturnType<typeof loadDeals>>[number];

/**
 * Loads the Maven CRM sample into a workspace: agents as REP users in teams under their managers,
 * accounts (with two custom fields), products, 8,800 opportunities in the default pipeline with their
 * real dates, one line item each and their stage history, plus generated contacts and activities.
 * Every row is written with its `created` event, in the caller's transaction.
 */
export async function loadMavenDemo(
  ctx: ServiceContext,
  deps: { pipelines: PipelineService; customFields: CustomFieldService },
  dir = MAVEN_DIR,
): Promise<MavenSummary> {
  const currency = 'USD';
  const { userId, teamId } = await loadPeople(ctx, readMaven(dir, 'sales_teams.csv'));
  const accountsCsv = readMaven(dir, 'accounts.csv');
  const accountId = await loadAccounts(ctx, deps.customFields, accountsCsv, currency);
  const { productId, listPrice } = await loadProducts(ctx, readMaven(dir, 'products.csv'), currency);
  const { contactsOf, contacts } = await loadContacts(ctx, accountsCsv, accountId);
  const opps = await loadDeals(ctx, deps.pipelines, readMaven(dir, 'sales_pipeline.csv'), { accountId, contactsOf, userId, productId, listPrice }, currency);
  const activities = await loadActivities(ctx, opps);
  // Every user of the workspace, its admin too: the start banner prints this.
  const users = await ctx.tx.one<{ n: number }>('SELECT count(*)::int AS n FROM app_user WHERE workspace_id = $1 AND deleted_at IS NULL', [ctx.tx.workspaceId]);
  return {
    users: users!.n,
    teams: teamId.size,
    accounts: accountId.size,
    products: productId.size,
    contacts,
    opportunities: opps.length,
    activities,
  };
}

/** Users and teams: one team per manager, named after its regional office. */
async function loadPeople(ctx: ServiceContext, teamsCsv: Rows) {
  const managers = [...new Map(teamsCsv.map((r) => [r.manager, r.regional_office])).entries()];
  const userId = new Map<string, string>();
  const teamId = new Map<string, string>();
  for (const [manager] of managers) {
    userId.set(manager, randomUUID());
    teamId.set(manager, randomUUID());
  }
  for (const r of teamsCsv) userId.set(r.sales_agent, randomUUID());
  const person = (name: string, role: Role, team: string | null) => ({
    id: userId.get(name)!,
    email: `${slug(name)}@demo.trellis.dev`,
    name,
    role,
    teamId: team,
    active: true,
  });
  await insertMany(
    ctx,
    USER_STORE,
    managers.map(([m]) => person(m, Role.MANAGER, null)),
  );
  await insertMany(
    ctx,
    TEAM_STORE,
    managers.map(([m, office]) => ({ id: teamId.get(m)!, name: `${office} – ${m}`, managerId: userId.get(m)! })),
  );
  await ctx.tx.query('UPDATE app_user SET team_id = t.id FROM team t WHERE app_user.workspace_id = $1 AND t.workspace_id = $1 AND t.manager_id = app_user.id', [
    ctx.tx.workspaceId,
  ]);
  await insertMany(
    ctx,
    USER_STORE,
    teamsCsv.map((r) => person(r.sales_agent, Role.REP, teamId.get(r.manager)!)),
  );

  return { userId, teamId };
}

/** Accounts, with the two columns the core model lacks as custom fields. */
async function loadAccounts(ctx: ServiceContext, customFields: CustomFieldService, accountsCsv: Rows, currency: string) {
  await customFields.define(ctx, { entityType: EntityType.ACCOUNT, key: 'yearEstablished', label: 'Year established', type: CustomFieldType.NUMBER });
  await customFields.define(ctx, { entityType: EntityType.ACCOUNT, key: 'parentCompany', label: 'Parent company', type: CustomFieldType.TEXT });
  const accountId = new Map(accountsCsv.map((r) => [r.account, randomUUID()]));
  await insertMany(
    ctx,
    ACCOUNT_STORE,
    accountsCsv.map((r) => ({
      id: accountId.get(r.account)!,
      name: r.account,
      domain: `${slug(r.account).replace(/\./g, '')}.example.com`,
      industry: INDUSTRY_FIXES[r.sector] ?? r.sector,
      type: 'CUSTOMER',
      employees: Number(r.employees),
      // revenue is in millions of USD, with two decimals: exact in numeric.
      annualRevenueAmount: (Number(r.revenue) * 1_000_000).toFixed(2),
      annualRevenueCurrency: currency,
      country: r.office_location,
      customFields: { yearEstablished: Number(r.year_established), ...(r.subsidiary_of ? { parentCompany: r.subsidiary_of } : {}) },
      ownerId: null,
    })),
  );

  return accountId;
}

async function loadProducts(ctx: ServiceContext, productsCsv: Rows, currency: string) {
  const productId = new Map(productsCsv.map((r) => [r.product, randomUUID()]));
  const listPrice = new Map(productsCsv.map((r) => [r.product, r.sales_price]));
  await insertMany(
    ctx,
    PRODUCT_STORE,
    productsCsv.map((r) => ({
      id: productId.get(r.product)!,
      name: r.product,
      sku: r.product.toUpperCase().replace(/\s+/g, '-'),
      description: `${r.series} series`,
      unitPriceValue: r.sales_price,
      currency,
      active: true,
    })),
  );

  return { productId, listPrice };
}

/** Three contacts per account. */
async function loadContacts(ctx: ServiceContext, accountsCsv: Rows, accountId: Map<string, string>) {
  const contactsOf = new Map<string, string[]>();
  const contacts = accountsCsv.flatMap((r) =>
    [0, 1, 2].map((i) => {
      const first = FIRST[Math.floor(unit(`${r.account}f${i}`) * FIRST.length)];
      const last = LAST[Math.floor(unit(`${r.account}l${i}`) * LAST.length)];
      const id = randomUUID();
      contactsOf.set(r.account, [...(contactsOf.get(r.account) ?? []), id]);
      return {
        id,
        firstName: first,
        lastName: last,
        email: `${slug(first)}.${slug(last)}${i}@${slug(r.account).replace(/\./g, '')}.example.com`,
        title: ['CEO', 'Head of Purchasing', 'IT Manager'][i],
        accountId: accountId.get(r.account)!,
        ownerId: null,
        customFields: {},
      };
    }),
  );
  await insertMany(ctx, CONTACT_STORE, contacts);

  return { contactsOf, contacts: contacts.length };
}

/** Opportunities in the default pipeline, with their real dates, a line item each and their stage history. */
async function loadDeals(
  ctx: ServiceContext,
  pipelines: PipelineService,
  pipelineCsv: Rows,
  ids: {
    accountId: Map<string, string>;
    contactsOf: Map<string, string[]>;
    userId: Map<string, string>;
    productId: Map<string, string>;
    listPrice: Map<string, string>;
  },
  currency: string,
) {
  const { accountId, contactsOf, userId, productId, listPrice } = ids;
  const pipeline = await pipelines.defaultPipeline(ctx.tx);
  const stageByName = new Map((await pipelines.stages(ctx.tx, pipeline.id)).map((s) => [s.name, s]));
  const opps = pipelineCsv.map((r) => {
    const product = PRODUCT_ALIASES[r.product] ?? r.product;
    const stage = stageByName.get(STAGE_OF[r.deal_stage])!;
    const created = r.engage_date ? Date.parse(r.engage_date) : DATASET_END - Math.floor(unit(r.opportunity_id) * 90) * DAY;
    const closed = r.close_date ? Date.parse(r.close_date) : null;
    const amount = r.close_value !== '' ? Number(r.close_value).toFixed(2) : Number(listPrice.get(product)).toFixed(2);
    return {
      row: r,
      product,
      stage,
      values: {
        id: randomUUID(),
        name: `${product} for ${r.account || 'a prospect'}`,
        accountId: r.account ? accountId.get(r.account)! : null,
        primaryContactId: r.account ? contactsOf.get(r.account)![Math.floor(unit(r.opportunity_id + 'c') * 3)] : null,
        pipelineId: pipeline.id,
        stageId: stage.id,
        amountValue: amount,
        currency,
        expectedCloseDate: closed === null && r.engage_date ? new Date(Date.parse(r.engage_date) + 90 * DAY).toISOString().slice(0, 10) : null,
        closedAt: closed === null ? null : new Date(closed),
        status: r.deal_stage === 'Won' ? OpportunityStatus.WON : r.deal_stage === 'Lost' ? OpportunityStatus.LOST : OpportunityStatus.OPEN,
        stageEnteredAt: new Date(closed ?? created),
        ownerId: userId.get(r.sales_agent)!,
        externalId: r.opportunity_id,
        customFields: {},
        createdAt: new Date(created),
        updatedAt: new Date(closed ?? created),
      },
    };
  });
  await insertMany(
    ctx,
    OPPORTUNITY_STORE,
    opps.map((o) => o.values),
  );
  await insertMany(
    ctx,
    LINE_ITEM_STORE,
    opps.map((o) => ({
      id: randomUUID(),
      opportunityId: o.values.id,
      productId: productId.get(o.product)!,
      name: o.product,
      quantityValue: '1',
      unitPriceValue: o.values.amountValue,
      discountValue: '0',
      currency,
      position: 0,
    })),
  );
  // Stage history: Qualification from the engage date, then the closing stage from the close date.
  const history = opps.flatMap((o) => {
    const v = o.values;
    const qualification = stageByName.get('Qualification')!;
    const entries: unknown[][] = [];
    if (v.closedAt) {
      entries.push([randomUUID(), v.id, pipeline.id, qualification.id, v.createdAt, v.closedAt]);
      entries.push([randomUUID(), v.id, pipeline.id, o.stage.id, v.closedAt, null]);
    } else {
      entries.push([randomUUID(), v.id, pipeline.id, o.stage.id, v.createdAt, null]);
    }
    return entries;
  });
  for (let i = 0; i < history.length; i += 2000) {
    const chunk = history.slice(i, i + 2000);
    await ctx.tx.query(
      `INSERT INTO opportunity_stage_history (workspace_id, id, opportunity_id, pipeline_id, stage_id, entered_at, left_at)
       SELECT $1, h.id, h.opportunity_id, h.pipeline_id, h.stage_id, h.entered_at, h.left_at
       FROM json_to_recordset($2::json) AS h(id uuid, opportunity_id uuid, pipeline_id uuid, stage_id uuid, entered_at timestamptz, left_at timestamptz)`,
      [
        ctx.tx.workspaceId,
        JSON.stringify(
          chunk.map(([id, opportunity_id, pipeline_id, stage_id, entered_at, left_at]) => ({ id, opportunity_id, pipeline_id, stage_id, entered_at, left_at })),
        ),
      ],
    );
  }

  return opps;
}

/** Two activities per engaged deal: the first call, and a meeting or an email on closing. */
async function loadActivities(ctx: ServiceContext, opps: Deal[]): Promise<number> {
  const activities = opps.flatMap((o): (Record<string, unknown> & { id: string })[] => {
    const v = o.values;
    const base = { accountId: v.accountId, contactId: v.primaryContactId, opportunityId: v.id, ownerId: v.ownerId, customFields: {} };
    const call = {
      ...base,
      id: randomUUID(),
      type: ActivityType.CALL,
      subject: `Discovery call: ${o.product}`,
      status: ActivityStatus.COMPLETED,
      durationSeconds: 300 + Math.floor(unit(v.externalId + 'd') * 1800),
      outcome: 'Connected',
      completedAt: v.createdAt,
      createdAt: v.createdAt,
    };
    if (!v.closedAt) {
      const due = new Date(DATASET_END + (1 + Math.floor(unit(v.externalId + 't') * 30)) * DAY);
      return [
        call,
        {
          ...base,
          id: randomUUID(),
          type: ActivityType.TASK,
          subject: `Follow up on ${o.product}`,
          status: ActivityStatus.OPEN,
          dueAt: due,
          createdAt: v.createdAt,
        },
      ];
    }
    const type = unit(v.externalId + 'm') < 0.5 ? ActivityType.MEETING : ActivityType.EMAIL;
    return [
      call,
      {
        ...base,
        id: randomUUID(),
        type,
        subject: v.status === OpportunityStatus.WON ? 'Contract signed' : 'Closed: no decision',
        status: ActivityStatus.COMPLETED,
        completedAt: v.closedAt,
        createdAt: v.closedAt,
      },
    ];
  });
  await insertMany(ctx, ACTIVITY_STORE, activities);

  return activities.length;
}
