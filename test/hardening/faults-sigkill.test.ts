import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { killTrellis, ok, signUpVia, sql, startTrellis, stopTrellis, until, type Trellis } from './faults-support';

// Issue 10, point 2, faults (2/2): Trellis as a real process (dist/src/main.js) killed with SIGKILL in
// the middle of background work, then started again on the same database (a fresh clone of the
// shared test server's template: this file never restarts PostgreSQL).
//
// Imports have no allOrNone (StartImportInput takes entityType, csv, mapping, matchOn, dryRun,
// dateFormat): what must hold is that only whole batches of 100 persist, each with the job's progress
// in the same transaction, and that the job resumes and applies every row exactly once.

const START = `mutation($i: StartImportInput!) { startImport(input: $i) { id total } }`;
const BATCH = 100;

interface JobRow {
  status: string;
  total: number;
  processed: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
}

describe('SIGKILL during a CSV import', () => {
  let db: TestDatabase;
  const running: Trellis[] = [];
  const start = async () => {
    const t = await startTrellis({
      databaseUrl: db.appUrl,
      migrationUrl: db.ownerUrl,
      workerUrl: db.workerUrl,
      env: { WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false', MAX_BODY_BYTES: '20000000' },
    });
    running.push(t);
    return t;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(running.map(stopTrellis));
    await db.drop();
  }, 60_000);

  const job = async (id: string) =>
    (await sql<JobRow>(db.ownerUrl, `SELECT status, total, processed, created, updated, unchanged, failed FROM import_job WHERE id = $1`, [id]))[0];
  /** The import's contacts (by external id) and their contact.created events. */
  const imported = async (workspaceId: string, prefix: string) => {
    const rows = await sql<{ external_id: string }>(db.ownerUrl, `SELECT external_id FROM contact WHERE workspace_id = $1 AND external_id LIKE $2`, [
      workspaceId,
      `${prefix}%`,
    ]);
    const [{ events }] = await sql<{ events: number }>(
      db.ownerUrl,
      `SELECT count(*)::int AS events FROM event e JOIN contact c ON c.workspace_id = e.workspace_id AND c.id = e.entity_id
       WHERE e.workspace_id = $1 AND e.type = 'contact.created' AND c.external_id LIKE $2`,
      [workspaceId, `${prefix}%`],
    );
    return { ids: rows.map((r) => r.external_id), events };
  };
  const csvOf = (prefix: string, n: number) =>
    [
      'ext,first,last,email,title',
      ...Array.from({ length: n }, (_, i) => `${prefix}${i},First${i},Last${i},${prefix.toLowerCase()}${i}@import.test,Title ${i}`),
    ].join('\n');
  const firstRows = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).sort();
  const mapping = { ext: 'externalId', first: 'firstName', last: 'lastName', email: 'email', title: 'title' };

  /** Kills `t` once the job has processed at least `atLeast` rows (and not all): what is in the database must be whole batches. */
  async function killMidway(t: Trellis, jobId: string, atLeast: number, workspaceId: string, prefix: string): Promise<number> {
    await until(`the import to pass ${atLeast} rows`, async () => (await job(jobId)).processed >= atLeast, 120_000, 5);
    await killTrellis(t, db.ownerUrl);
    const j = await job(jobId);
    expect(j.status).toBe('RUNNING');
    expect(j.processed).toBeLessThan(j.total);
    expect(j.processed % BATCH).toBe(0);
    // Exactly the rows of the batches the job counts as done: the batch in flight left nothing.
    const now = await imported(workspaceId, prefix);
    expect(now.ids.length).toBe(j.processed);
    expect(now.ids.sort()).toEqual(firstRows(prefix, j.processed));
    expect(now.events).toBe(j.processed);
    expect(j.created).toBe(j.processed);
    return j.processed;
  }

  /** The job's progress events: one per batch, each batch once, in order. */
  async function progress(jobId: string): Promise<number[]> {
    const rows = await sql<{ processed: number }>(
      db.ownerUrl,
      `SELECT (data->>'processed')::int AS processed FROM event WHERE entity_id = $1 AND type = 'import_job.progressed' ORDER BY id`,
      [jobId],
    );
    return rows.map((r) => r.processed);
  }
  const expectedProgress = (total: number) => Array.from({ length: Math.ceil(total / BATCH) }, (_, i) => Math.min(total, (i + 1) * BATCH));

  it('persists whole batches only, and after restarts finishes with every row exactly once', async () => {
    const total = 12_000;
    const prefix = 'IMP-';
    let t = await start();
    const admin = await signUpVia(t.url, 'Import Crash');
    const { startImport } = await ok(t.url, START, { i: { entityType: 'CONTACT', csv: csvOf(prefix, total), mapping } }, admin.token);
    expect(startImport.total).toBe(total);

    const first = await killMidway(t, startImport.id, 1000, admin.workspaceId, prefix);
    t = await start(); // resumes the job left RUNNING
    const second = await killMidway(t, startImport.id, first + 1500, admin.workspaceId, prefix);
    expect(second).toBeGreaterThan(first);
    t = await start();
    await until('the import to complete', async () => (await job(startImport.id)).status !== 'RUNNING', 180_000, 50);

    expect(await job(startImport.id)).toEqual({ status: 'COMPLETED', total, processed: total, created: total, updated: 0, unchanged: 0, failed: 0 });
    const done = await imported(admin.workspaceId, prefix);
    expect(done.ids.length).toBe(total);
    expect(done.ids.sort()).toEqual(firstRows(prefix, total));
    expect(done.events).toBe(total);
    expect(await progress(startImport.id)).toEqual(expectedProgress(total));
    process.stderr.write(`import: killed at ${first} and ${second} of ${total} rows; completed with ${total} contacts, one event each\n`);
    await stopTrellis(t);
  }, 300_000);

  it('two instances started after the crash both resume the job: still every batch exactly once', async () => {
    const total = 8000;
    const prefix = 'TWO-';
    const t = await start();
    const admin = await signUpVia(t.url, 'Import Crash Two');
    const { startImport } = await ok(t.url, START, { i: { entityType: 'CONTACT', csv: csvOf(prefix, total), mapping } }, admin.token);
    const at = await killMidway(t, startImport.id, 1000, admin.workspaceId, prefix);
    // A deployment of two instances comes back: each resumes the unfinished jobs on start.
    const [a, b] = await Promise.all([start(), start()]);
    await until('the import to complete', async () => (await job(startImport.id)).status !== 'RUNNING', 180_000, 50);
    // Both are idle again (neither still applies a batch after the other finished).
    await new Promise((r) => setTimeout(r, 1000));

    expect(await job(startImport.id)).toEqual({ status: 'COMPLETED', total, processed: total, created: total, updated: 0, unchanged: 0, failed: 0 });
    const done = await imported(admin.workspaceId, prefix);
    expect(done.ids.sort()).toEqual(firstRows(prefix, total));
    expect(done.events).toBe(total);
    expect(await progress(startImport.id)).toEqual(expectedProgress(total));
    const [{ n }] = await sql<{ n: number }>(db.ownerUrl, `SELECT count(*)::int AS n FROM event WHERE entity_id = $1 AND type = 'import_job.completed'`, [
      startImport.id,
    ]);
    expect(n).toBe(1);
    process.stderr.write(`import, two instances resuming: killed at ${at} of ${total}; completed once, every batch once\n`);
    await Promise.all([stopTrellis(a), stopTrellis(b)]);
  }, 300_000);
});

describe('SIGKILL during automation runs', () => {
  let db: TestDatabase;
  const running: Trellis[] = [];
  const start = async (automation = true) => {
    const t = await startTrellis({
      databaseUrl: db.appUrl,
      migrationUrl: db.ownerUrl,
      workerUrl: db.workerUrl,
      env: { WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: String(automation) },
    });
    running.push(t);
    return t;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(running.map(stopTrellis));
    await db.drop();
  }, 60_000);

  it('runs each (rule, event) exactly once across kills: one task per contact, nothing lost', async () => {
    const contacts = 1500;
    // Set up on an instance that runs no rules: every run is then ahead of the instance killed below.
    let t = await start(false);
    const admin = await signUpVia(t.url, 'Automation Crash');
    const rule = await ok(
      t.url,
      `mutation($i: AutomationRuleInput!) { createAutomationRule(input: $i) { id } }`,
      {
        i: {
          name: 'Call every new contact',
          trigger: { type: 'RECORD_EVENT', events: ['contact.created'] },
          actions: [{ type: 'CREATE_TASK', params: { subject: 'Call {{record.lastName}}' } }],
        },
      },
      admin.token,
    );
    const ruleId = rule.createAutomationRule.id as string;
    for (let i = 0; i < contacts; i += 500) {
      const inputs = Array.from({ length: 500 }, (_, k) => ({ externalId: `AUTO-${i + k}`, lastName: `Auto${i + k}` }));
      await ok(t.url, `mutation($i: [UpsertContactInput!]!) { upsertContacts(inputs: $i) { created } }`, { i: inputs }, admin.token);
    }
    await stopTrellis(t);
    t = await start();

    const state = async () => {
      const [s] = await sql<{ runs: number; succeeded: number; tasks: number; distinct_events: number }>(
        db.ownerUrl,
        `SELECT (SELECT count(*)::int FROM automation_run WHERE rule_id = $2) AS runs,
                (SELECT count(*)::int FROM automation_run WHERE rule_id = $2 AND status = 'SUCCEEDED') AS succeeded,
                (SELECT count(DISTINCT event_id)::int FROM automation_run WHERE rule_id = $2) AS distinct_events,
                (SELECT count(*)::int FROM activity WHERE workspace_id = $1 AND type = 'TASK' AND subject LIKE 'Call Auto%') AS tasks`,
        [admin.workspaceId, ruleId],
      );
      return s;
    };
    const killAt = async (atLeast: number) => {
      await until(`${atLeast} runs`, async () => (await state()).runs >= atLeast, 60_000, 5);
      await killTrellis(t, db.ownerUrl);
      const s = await state();
      // A run and its task commit together: every run recorded did its task, the one in flight neither.
      expect(s.runs).toBeLessThan(contacts);
      expect(s).toEqual({ runs: s.runs, succeeded: s.runs, tasks: s.runs, distinct_events: s.runs });
      return s.runs;
    };

    const first = await killAt(200);
    t = await start();
    const second = await killAt(first + 400);
    t = await start();
    await until('every contact to have its run', async () => (await state()).runs >= contacts, 120_000, 50);
    // Settled: the cursor has passed every event and no further run appears.
    await new Promise((r) => setTimeout(r, 2000));

    expect(await state()).toEqual({ runs: contacts, succeeded: contacts, tasks: contacts, distinct_events: contacts });
    // One task on each contact, no contact without, none with two.
    const perContact = await sql<{ n: number; contacts: number }>(
      db.ownerUrl,
      `SELECT coalesce(a.n, 0)::int AS n, count(*)::int AS contacts FROM contact c
       LEFT JOIN (SELECT contact_id, count(*) AS n FROM activity WHERE workspace_id = $1 AND type = 'TASK' GROUP BY contact_id) a ON a.contact_id = c.id
       WHERE c.workspace_id = $1 GROUP BY 1`,
      [admin.workspaceId],
    );
    expect(perContact).toEqual([{ n: 1, contacts }]);
    // Each run is for one contact.created event, and every such event has one.
    const [{ missing, foreign }] = await sql<{ missing: number; foreign: number }>(
      db.ownerUrl,
      `SELECT (SELECT count(*)::int FROM event e WHERE e.workspace_id = $1 AND e.type = 'contact.created'
                 AND NOT EXISTS (SELECT 1 FROM automation_run r WHERE r.rule_id = $2 AND r.event_id = e.id AND r.entity_id = e.entity_id)) AS missing,
              (SELECT count(*)::int FROM automation_run r WHERE r.rule_id = $2
                 AND NOT EXISTS (SELECT 1 FROM event e WHERE e.id = r.event_id AND e.type = 'contact.created' AND r.occasion = 'event:' || e.id)) AS foreign`,
      [admin.workspaceId, ruleId],
    );
    expect({ missing, foreign }).toEqual({ missing: 0, foreign: 0 });
    process.stderr.write(`automation: killed at ${first} and ${second} of ${contacts} runs; finished with one run and one task per contact\n`);
  }, 300_000);
});
