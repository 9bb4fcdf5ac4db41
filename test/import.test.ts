import { Writable } from 'node:stream';
import { parse as parseSync } from 'csv-parse/sync';
import { exportRows } from '../scripts/export';
import { codes, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

const START = `mutation($i: StartImportInput!) { startImport(input: $i) { id status total } }`;
const JOB = `query($id: ID!) { importJob(id: $id) { status total processed created updated unchanged failed errorCount errors { row column message } message } }`;

describe('CSV import', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Import Co');
    await t.gql(
      'mutation { defineCustomField(input: { entityType: ACCOUNT, key: "tier", label: "Tier", type: SELECT, options: ["Gold", "Silver"] }) { id } }',
      {},
      admin.accessToken,
    );
  });
  afterAll(() => t.close());

  async function run(input: Record<string, unknown>) {
    const s = await t.gql(START, { i: input }, admin.accessToken);
    if (s.errors) return { start: s, job: null };
    await t.services.imports.idle();
    const j = await t.gql(JOB, { id: s.data.startImport.id }, admin.accessToken);
    return { start: s, job: j.data.importJob };
  }

  it('imports a dirty real-world CSV: BOM, semicolons, quoted newlines, several date formats, custom fields, bad rows reported', async () => {
    const csv =
      '\uFEFFId;Company;Web;Staff;Revenue;Tier;Notes\r\n' +
      'E-1;Acme;acme.com;120;"1 200,50";Gold;"two\nlines"\r\n' +
      'E-2;"Beta; Inc";beta.com;12;99.5;Silver;\r\n' +
      'E-3;Gamma;gamma.com;many;10;Gold;\r\n' +
      'E-4;Delta;delta.com;5;10;Platinum;\r\n' +
      'E-5;;eps.com;5;10;;\r\n';
    const { start, job } = await run({
      entityType: 'ACCOUNT',
      csv,
      mapping: { Id: 'externalId', Company: 'name', Web: 'domain', Staff: 'employees', Revenue: 'annualRevenue', Tier: 'customFields.tier', Notes: 'address' },
    });
    expect(start.errors).toBeUndefined();
    expect(job).toMatchObject({ status: 'COMPLETED', total: 5, processed: 5, created: 2, failed: 3, errorCount: 3 });
    expect(job.errors).toEqual([
      { row: 4, column: 'Staff', message: 'is not a whole number' },
      { row: 5, column: 'Tier', message: 'customFields.tier: must be one of: Gold, Silver' },
      { row: 6, column: 'Company', message: 'name: is required to create' },
    ]);
    const acme = await t.gql(
      '{ account(externalId: "E-1") { name employees annualRevenue { amount } customFields address } b: account(externalId: "E-2") { name } }',
      {},
      admin.accessToken,
    );
    expect(acme.data.account).toEqual({
      name: 'Acme',
      employees: 120,
      annualRevenue: { amount: '1200.50' },
      customFields: { tier: 'Gold' },
      address: 'two\nlines',
    });
    expect(acme.data.b.name).toBe('Beta; Inc');
    // The same file again: nothing changes.
    const again = await run({
      entityType: 'ACCOUNT',
      csv,
      mapping: { Id: 'externalId', Company: 'name', Web: 'domain', Staff: 'employees', Revenue: 'annualRevenue', Tier: 'customFields.tier', Notes: 'address' },
    });
    expect(again.job).toMatchObject({ created: 0, updated: 0, unchanged: 2, failed: 3 });
  });

  it('allOrNone: one bad row in 1 200 and nothing is written, the job FAILED with the row named; a clean file is written whole', async () => {
    const header = 'ext,first,last,email\n';
    const line = (i: number) => `AON-${i},First${i},Last${i},aon${i}@example.test\n`;
    const mapping = { ext: 'externalId', first: 'firstName', last: 'lastName', email: 'email' };
    // Row 1 101 (file row 1 102) has a bad email: it sits in the third batch, after two that succeeded.
    const rows = Array.from({ length: 1200 }, (_, i) => (i === 1100 ? `AON-${i},Bad,Row,not-an-email\n` : line(i)));
    const count = async () =>
      (await t.gql('{ leads(filter: { externalId: { startsWith: "AON-" } }) { totalCount } }', {}, admin.accessToken)).data.leads.totalCount;
    const bad = await run({ entityType: 'LEAD', csv: header + rows.join(''), mapping, allOrNone: true });
    expect(bad.start.errors).toBeUndefined();
    expect(bad.job).toMatchObject({
      status: 'FAILED',
      total: 1200,
      processed: 1200,
      created: 0,
      updated: 0,
      failed: 1,
      errorCount: 1,
      message: '1 of 1200 rows failed; allOrNone: nothing was written',
    });
    expect(bad.job.errors).toEqual([{ row: 1102, column: 'email', message: expect.stringContaining('email') }]);
    expect(await count()).toBe(0);
    const good = await run({ entityType: 'LEAD', csv: header + Array.from({ length: 1200 }, (_, i) => line(i)).join(''), mapping, allOrNone: true });
    expect(good.job).toMatchObject({ status: 'COMPLETED', total: 1200, processed: 1200, created: 1200, failed: 0 });
    expect(await count()).toBe(1200);
  });

  it('reads ISO, slashed and dotted dates into opportunities, and a dry run writes nothing', async () => {
    const csv =
      'ref,deal,close,stage,value\nO-1,One,2026-03-04,Proposal,10\nO-2,Two,04/03/2026,Proposal,20\nO-3,Three,13/02/2026,Proposal,30\nO-4,Four,04.03.2026,Proposal,40\nO-5,Five,2026-02-30,Proposal,50\n';
    const mapping = { ref: 'externalId', deal: 'name', close: 'expectedCloseDate', stage: 'stageName', value: 'amount' };
    // Only the job's own life is recorded; no opportunity and no event of one.
    const before = await t.sql<{ n: number }>(
      `SELECT (SELECT count(*) FROM opportunity)::int + (SELECT count(*) FROM event WHERE entity_type <> 'import_job')::int AS n`,
    );
    const dry = await run({ entityType: 'OPPORTUNITY', csv, mapping, dryRun: true, dateFormat: 'DMY' });
    expect(dry.job).toMatchObject({ status: 'COMPLETED', created: 4, failed: 1 });
    expect(await t.sql(`SELECT (SELECT count(*) FROM opportunity)::int + (SELECT count(*) FROM event WHERE entity_type <> 'import_job')::int AS n`)).toEqual(
      before,
    );
    const real = await run({ entityType: 'OPPORTUNITY', csv, mapping, dateFormat: 'DMY' });
    expect(real.job).toMatchObject({ created: 4, failed: 1 });
    expect(real.job.errors).toEqual([{ row: 6, column: 'close', message: 'is not a date' }]);
    const dates = await t.sql<{ external_id: string; d: string }>(`SELECT external_id, expected_close_date AS d FROM opportunity ORDER BY external_id`);
    expect(dates).toEqual([
      { external_id: 'O-1', d: '2026-03-04' },
      { external_id: 'O-2', d: '2026-03-04' },
      { external_id: 'O-3', d: '2026-02-13' },
      { external_id: 'O-4', d: '2026-03-04' },
    ]);
  });

  it('refuses a mapping to an unknown field or column, and malformed CSV, before starting', async () => {
    const bad = await t.gql(
      START,
      { i: { entityType: 'CONTACT', csv: 'a,b\n1,2\n', mapping: { a: 'lastName', b: 'shoeSize', c: 'email' } } },
      admin.accessToken,
    );
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0].extensions.fields!.map((f) => f.field).sort()).toEqual(['mapping.b', 'mapping.c']);
    const broken = await t.gql(START, { i: { entityType: 'CONTACT', csv: 'a,b\n"unterminated,2\n', mapping: { a: 'lastName' } } }, admin.accessToken);
    expect(codes(broken)).toEqual(['BAD_USER_INPUT']);
    expect(await t.sql('SELECT 1 FROM import_job WHERE entity_type = $1', ['contact'])).toEqual([]);
  });

  it('handles thousands of rows in batches, and resumes a job a stopped instance left running', async () => {
    const rows = Array.from({ length: 2400 }, (_, i) => `C-${i},Last${i},user${i}@example.com`);
    const csv = ['ext,last,email', ...rows].join('\n');
    const { job } = await run({ entityType: 'CONTACT', csv, mapping: { ext: 'externalId', last: 'lastName', email: 'email' } });
    expect(job).toMatchObject({ status: 'COMPLETED', processed: 2400, created: 2400, failed: 0 });
    // The job's life is in the event log: created, started, one progress per batch of 100, completed.
    const jobId = (await t.sql<{ id: string }>(`SELECT id FROM import_job WHERE total = 2400 ORDER BY created_at LIMIT 1`))[0].id;
    const life = await t.sql<{ type: string; data: { processed: number } }>('SELECT type, data FROM event WHERE entity_id = $1 ORDER BY id', [jobId]);
    expect(life.map((e) => e.type)).toEqual(['import_job.created', 'import_job.started', ...Array(24).fill('import_job.progressed'), 'import_job.completed']);
    expect(life.filter((e) => e.type === 'import_job.progressed').map((e) => e.data.processed)).toEqual(Array.from({ length: 24 }, (_, i) => (i + 1) * 100));
    // Simulate a crash after ten batches of a second import: progress says 1000 rows are done.
    const s = await t.gql(
      START,
      { i: { entityType: 'CONTACT', csv: csv.replace(/Last/g, 'Renamed'), mapping: { ext: 'externalId', last: 'lastName' } } },
      admin.accessToken,
    );
    await t.services.imports.idle();
    await t.sql(`UPDATE import_job SET status = 'RUNNING', processed = 1000, updated = 1000, finished_at = NULL WHERE id = $1`, [s.data.startImport.id]);
    await t.services.imports.resumeUnfinished();
    await t.services.imports.idle();
    const resumed = (await t.gql(JOB, { id: s.data.startImport.id }, admin.accessToken)).data.importJob;
    expect(resumed).toMatchObject({ status: 'COMPLETED', processed: 2400, failed: 0 });
    expect(resumed.updated + resumed.unchanged).toBe(2400);
  }, 120_000);
});

describe('CSV import with defaults: no key column, no mapping', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Plain Files Co');
  });
  afterAll(() => t.close());

  const JOB_KEYS = `query($id: ID!) { importJob(id: $id) { status matchOn mapping created updated unchanged failed errors { row column message } } }`;
  async function run(input: Record<string, unknown>) {
    const s = await t.gql(START, { i: input }, admin.accessToken);
    expect(s.errors).toBeUndefined();
    await t.services.imports.idle();
    return (await t.gql(JOB_KEYS, { id: s.data.startImport.id }, admin.accessToken)).data.importJob;
  }
  const contacts = async () =>
    (
      (await t.gql('{ contacts(first: 100) { nodes { firstName lastName email phone } } }', {}, admin.accessToken)).data.contacts.nodes as Record<
        string,
        string | null
      >[]
    ).sort((a, b) => String(a.lastName).localeCompare(String(b.lastName)));

  it('a plain list of contacts: columns mapped from the header, rows matched on email (any case), a row without one created', async () => {
    const csv =
      'First Name,Last Name,E-mail,Phone Number,Favourite colour\nAda,Lovelace,ada@example.test,111,blue\nGrace,Hopper,grace@example.test,222,red\nNo,Email,,333,green\n';
    const first = await run({ entityType: 'CONTACT', csv });
    expect(first).toMatchObject({ status: 'COMPLETED', matchOn: 'EMAIL', created: 3, updated: 0, failed: 0, errors: [] });
    expect(first.mapping).toEqual({ 'First Name': 'firstName', 'Last Name': 'lastName', 'E-mail': 'email', 'Phone Number': 'phone' });
    // The same people again, one email in capitals and one phone changed: matched, not duplicated.
    const again = await run({
      entityType: 'CONTACT',
      csv: 'first_name,last_name,email,phone\nAda,Lovelace,ADA@example.test,111\nGrace,Hopper,grace@example.test,999\n',
    });
    expect(again).toMatchObject({ status: 'COMPLETED', matchOn: 'EMAIL', created: 0, updated: 1, unchanged: 1, failed: 0 });
    expect(await contacts()).toEqual([
      { firstName: 'No', lastName: 'Email', email: null, phone: '333' },
      { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.test', phone: '999' },
      { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.test', phone: '111' },
    ]);
  });

  it('each kind with a natural key matches on it; a kind without one, or a file without the key, creates every row (NONE)', async () => {
    const cases: [string, string, string, string][] = [
      ['ACCOUNT', 'name,domain\nNorthwind,northwind.test\n', 'name,domain\nNorthwind Traders,NORTHWIND.test\n', 'DOMAIN'],
      ['LEAD', 'lastName,email\nLee,lee@lead.test\n', 'lastName,email\nLee-Renamed,lee@lead.test\n', 'EMAIL'],
      ['PRODUCT', 'name,sku\nWidget,W-1\n', 'name,sku\nWidget Pro,w-1\n', 'SKU'],
    ];
    for (const [entityType, csv, changed, key] of cases) {
      expect(await run({ entityType, csv })).toMatchObject({ matchOn: key, created: 1, failed: 0 });
      expect(await run({ entityType, csv: changed })).toMatchObject({ matchOn: key, created: 0, updated: 1, failed: 0 });
    }
    // Opportunities have no natural key; accounts without a domain column have none to match on.
    for (const [entityType, csv] of [
      ['OPPORTUNITY', 'name,amount,currency\nBig deal,100,EUR\n'],
      ['ACCOUNT', 'name,industry\nNo Domain Inc,Retail\n'],
    ]) {
      expect(await run({ entityType, csv })).toMatchObject({ status: 'COMPLETED', matchOn: 'NONE', created: 1, failed: 0 });
      expect(await run({ entityType, csv })).toMatchObject({ status: 'COMPLETED', matchOn: 'NONE', created: 1, failed: 0 });
    }
  });

  it('an external id column that holds ids wins; an empty one does not', async () => {
    expect(await run({ entityType: 'LEAD', csv: 'externalId,lastName,email\nX-1,Xu,xu@lead.test\n' })).toMatchObject({ matchOn: 'EXTERNAL_ID', created: 1 });
    expect(await run({ entityType: 'LEAD', csv: 'externalId,lastName,email\nX-1,Xu,other@lead.test\n' })).toMatchObject({ matchOn: 'EXTERNAL_ID', updated: 1 });
    expect(await run({ entityType: 'LEAD', csv: 'externalId,lastName,email\n,Xu,other@lead.test\n' })).toMatchObject({ matchOn: 'EMAIL', unchanged: 1 });
    // A key given explicitly is kept, and a row without it is still created.
    expect(await run({ entityType: 'LEAD', csv: 'lastName,email\nNoKey,\n', matchOn: 'EMAIL' })).toMatchObject({ matchOn: 'EMAIL', created: 1, failed: 0 });
  });

  it('a header that names no field is refused before starting, saying to give a mapping', async () => {
    const r = await t.gql(START, { i: { entityType: 'CONTACT', csv: 'foo,bar\n1,2\n' } }, admin.accessToken);
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].extensions.fields).toEqual([{ field: 'mapping', message: expect.stringContaining('give a mapping') }]);
  });

  it("Trellis' own CSV export imports back with defaults: every row matched, custom fields and formula cells kept", async () => {
    await t.gql('mutation { defineCustomField(input: { entityType: CONTACT, key: "tier", label: "Tier", type: TEXT }) { id } }', {}, admin.accessToken);
    const made = await t.gql(
      'mutation { a: createContact(input: { firstName: "Round", lastName: "Trip", email: "round@trip.test", customFields: { tier: "gold" } }) { id } b: createContact(input: { lastName: "=1+1", email: "formula@trip.test" }) { id } }',
      {},
      admin.accessToken,
    );
    expect(made.errors).toBeUndefined();
    const before = await contacts();
    const chunks: string[] = [];
    const out = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
    await exportRows({ url: `${t.url}/graphql`, token: admin.accessToken }, { entity: 'contacts', format: 'csv', out, quiet: true });
    const csv = chunks.join('');
    expect(csv).toContain("'=1+1");
    const back = await run({ entityType: 'CONTACT', csv });
    expect(back).toMatchObject({ status: 'COMPLETED', matchOn: 'EMAIL', created: 1, updated: 0, failed: 0 });
    // The one row created is the contact without an email (nothing to match it on); the others are unchanged.
    expect(back.unchanged).toBe(before.length - 1);
    expect(back.mapping).toMatchObject({ firstName: 'firstName', email: 'email', 'owner.email': 'ownerEmail', customFields: 'customFields' });
    expect(back.mapping).not.toHaveProperty('id');
    const tier = await t.gql('{ contacts(filter: { email: { eq: "round@trip.test" } }) { nodes { customFields } } }', {}, admin.accessToken);
    expect(tier.data.contacts.nodes).toEqual([{ customFields: { tier: 'gold' } }]);
  });
});

describe('CSV import beside other tenants', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp({ MAX_BODY_BYTES: '20000000' });
    admin = await signUp(t, 'Bulk Loader');
  });
  afterAll(() => t.close());

  it('a file of megabytes is parsed in slices: no turn of the event loop is held as long as parsing it takes', async () => {
    // 300 000 rows (9 MB): parsed in one piece, each of the two parses (the request's check, the job's
    // start) held the shared event loop, every other tenant's requests with it, for the whole parse.
    // The bound is relative to that parse, timed here on this machine under its present load.
    const csv = ['ext,name', ...Array.from({ length: 300_000 }, (_, i) => `bulk-${i},Bulk account ${i}`)].join('\n');
    const began = performance.now();
    parseSync(csv, { relax_column_count: true, skip_empty_lines: true });
    const wholeParseMs = performance.now() - began;
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 2);
    try {
      const s = await t.gql(START, { i: { entityType: 'ACCOUNT', csv } }, admin.accessToken);
      expect(s.errors).toBeUndefined();
      expect(s.data.startImport).toMatchObject({ status: 'PENDING', total: 300_000 });
      // Until the job has parsed the file and applied its first batch.
      for (let processed = 0; processed === 0;) {
        await new Promise((r) => setTimeout(r, 20));
        processed = (await t.gql(JOB, { id: s.data.startImport.id }, admin.accessToken)).data.importJob.processed;
      }
    } finally {
      clearInterval(ticker);
      await t.services.imports.stop();
    }
    expect({ longest: Math.round(longest), underHalfOfTheParse: longest < wholeParseMs / 2 }).toEqual({
      longest: Math.round(longest),
      underHalfOfTheParse: true,
    });
  });
});
