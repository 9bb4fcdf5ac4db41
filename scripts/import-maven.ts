// The worked integration example: load the Maven CRM sample (demo/maven-crm, a copy of
// shared/datasets/maven-crm) into a workspace through the public API only. Everything is an upsert
// by external id or natural key, so a second run changes nothing and says so (all UNCHANGED).
//
//   TRELLIS_API_KEY=trl_... npm run import:maven [-- --url http://localhost:4000/graphql --dir demo/maven-crm]
//
// Owners are referenced by email (ownerEmail). Users are people, not data an API key may create:
// give --admin-email and --admin-password to create the missing sales agents as REP users first;
// without them, deals whose agent is not a user yet are loaded without an owner.
import { resolve } from 'node:path';
import { INDUSTRY_FIXES, MAVEN_DIR, PRODUCT_ALIASES, readMaven, slug, STAGE_OF } from '../src/modules/workspaces/maven-dataset';
import { clientFromEnv, gql, parseArgs, type ClientOptions } from './lib/api-client';

type Row = Record<string, string>;
const emailOf = (agent: string) => `${slug(agent)}@demo.trellis.dev`;

interface Batch {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  results: { index: number; status: string; errors: { field: string; message: string }[] }[];
}
type Totals = Record<string, { created: number; updated: number; unchanged: number; failed: number }>;

async function upsert(c: ClientOptions, totals: Totals, mutation: string, inputType: string, inputs: object[], matchOn = 'EXTERNAL_ID'): Promise<void> {
  const t = (totals[mutation] ??= { created: 0, updated: 0, unchanged: 0, failed: 0 });
  for (let i = 0; i < inputs.length; i += 1000) {
    const chunk = inputs.slice(i, i + 1000);
    const data = await gql<Record<string, Batch>>(
      c,
      `mutation($i: [${inputType}!]!, $m: MatchOn) { r: ${mutation}(inputs: $i, matchOn: $m) { created updated unchanged failed results { index status errors { field message } } } }`,
      { i: chunk, m: matchOn },
    );
    const r = data.r;
    for (const k of ['created', 'updated', 'unchanged', 'failed'] as const) t[k] += r[k];
    for (const f of r.results.filter((x) => x.status === 'FAILED').slice(0, 5))
      console.error(`  ${mutation}[${i + f.index}]: ${f.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
  }
}

async function ensureUsers(c: ClientOptions, args: Record<string, string | boolean>, teams: Row[]): Promise<Set<string>> {
  const existing = await gql<{ users: { nodes: { email: string }[] } }>(c, '{ users(first: 500) { nodes { email } } }');
  const emails = new Set(existing.users.nodes.map((u) => u.email.toLowerCase()));
  const email = args['admin-email'] ?? process.env.TRELLIS_ADMIN_EMAIL;
  const password = args['admin-password'] ?? process.env.TRELLIS_ADMIN_PASSWORD;
  if (!email || !password) return emails;
  // logIn needs no credentials (the placeholder token is ignored by an operation that needs none).
  const login = await gql<{ logIn: { accessToken: string } }>(
    { ...c, token: 'none' },
    'mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }',
    { e: email, p: password },
  );
  const admin = { url: c.url, token: login.logIn.accessToken };
  const people = [...new Set(teams.flatMap((t) => [t.manager, t.sales_agent]))];
  for (const name of people) {
    if (emails.has(emailOf(name))) continue;
    const role = teams.some((t) => t.manager === name) ? 'MANAGER' : 'REP';
    await gql(admin, 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { name, email: emailOf(name), role } });
    emails.add(emailOf(name));
  }
  return emails;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const c = clientFromEnv(args);
  const dir = resolve(String(args.dir ?? MAVEN_DIR));
  const started = Date.now();
  const totals: Totals = {};
  const teams = readMaven(dir, 'sales_teams.csv');
  const users = await ensureUsers(c, args, teams);
  const owner = (agent: string) => (users.has(emailOf(agent)) ? emailOf(agent) : undefined);

  await upsert(
    c,
    totals,
    'upsertProducts',
    'UpsertProductInput',
    readMaven(dir, 'products.csv').map((p) => ({
      sku: p.product.toUpperCase().replace(/\s+/g, '-'),
      name: p.product,
      description: `${p.series} series`,
      unitPrice: { amount: p.sales_price, currency: 'USD' },
    })),
    'SKU',
  );
  await upsert(
    c,
    totals,
    'upsertAccounts',
    'UpsertAccountInput',
    readMaven(dir, 'accounts.csv').map((a) => ({
      externalId: `maven:${slug(a.account)}`,
      name: a.account,
      industry: INDUSTRY_FIXES[a.sector] ?? a.sector,
      employees: Number(a.employees),
      annualRevenue: { amount: (Number(a.revenue) * 1_000_000).toFixed(2), currency: 'USD' },
      country: a.office_location,
    })),
  );
  const deals = readMaven(dir, 'sales_pipeline.csv');
  await upsert(
    c,
    totals,
    'upsertOpportunities',
    'UpsertOpportunityInput',
    deals.map((d) => {
      const product = PRODUCT_ALIASES[d.product] ?? d.product;
      return {
        externalId: d.opportunity_id,
        name: `${product} for ${d.account || 'a prospect'}`,
        accountExternalId: d.account ? `maven:${slug(d.account)}` : undefined,
        stageName: STAGE_OF[d.deal_stage],
        amount: d.close_value ? { amount: Number(d.close_value).toFixed(2), currency: 'USD' } : undefined,
        ownerEmail: owner(d.sales_agent),
        createdAt: d.engage_date ? `${d.engage_date}T00:00:00Z` : undefined,
        closedAt: d.close_date ? `${d.close_date}T00:00:00Z` : undefined,
      };
    }),
  );
  for (const [mutation, t] of Object.entries(totals))
    console.log(`${mutation.padEnd(22)} created ${t.created}  updated ${t.updated}  unchanged ${t.unchanged}  failed ${t.failed}`);
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
