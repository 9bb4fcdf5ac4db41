// `npm run bench:automation` (also a step of `npm run bench`): the automation engine (issue 7).
// 50 active rules: 40 on events of other kinds of records, 9 on `contact.created` whose conditions
// hold for no contact, 1 on `contact.created` whose conditions hold for every 20th contact and which
// creates a task. BENCH_AUTO_EVENTS (20000) contacts are upserted in batches of 1000. Measured: events
// evaluated per second (the events are written while no engine runs, then one instance starts and
// works through them: the time until its cursor has passed the last; target at least 2 000/s), and,
// with BENCH_AUTO_RATE (50) matching contacts created per second for 10 s, the delay from an event
// to its rule's run (p50, p99).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadBenchConfig, ROOT, writeResult } from './config';
import { post, startServer } from './servers';
import { recreateDatabase, startDatabase } from './setup';
import { percentile, sleep } from './stats';

const EVENTS = Number(process.env.BENCH_AUTO_EVENTS ?? 20_000);
const RATE = Number(process.env.BENCH_AUTO_RATE ?? 50);

const OTHER_EVENTS = [
  'opportunity.won',
  'opportunity.lost',
  'opportunity.stage_changed',
  'lead.created',
  'lead.converted',
  'account.updated',
  'activity.completed',
  'product.created',
];

async function main(): Promise<void> {
  const cfg = loadBenchConfig([], { ...process.env, BENCH_SCALE: '0.0001' });
  const dataDir = join(ROOT, 'bench', 'data', 'automation');
  mkdirSync(dataDir, { recursive: true });
  const db = await startDatabase({ ...cfg, dataDir });
  const owner = new Client({ connectionString: db.ownerUrl });
  try {
    await recreateDatabase(db);
    // The writer runs no rules, so that the backlog is there before the engine starts.
    const trellis = await startServer('trellis', { db, logDir: dataDir, workspaceId: '', trellisRoot: ROOT, trellisEnv: { AUTOMATION_WORKERS: 'false' } });
    await owner.connect();
    let engine: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      const up = await post<any>(trellis, {
        query: 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }',
        variables: { i: { workspaceName: 'Automation bench', name: 'Admin', email: 'admin@automation.test', password: 'benchmark password' } },
      });
      const admin = { ...trellis, headers: { authorization: `Bearer ${up.signUp.accessToken}` } };
      const rule = (name: string, trigger: unknown, conditions: unknown, actions: unknown[]) =>
        post(admin, {
          query: 'mutation($i: AutomationRuleInput!) { createAutomationRule(input: $i) { id } }',
          variables: { i: { name, trigger, conditions, actions } },
        });
      const notify = [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'x' } }];
      for (let i = 0; i < 40; i++) await rule(`other ${i}`, { type: 'RECORD_EVENT', events: [OTHER_EVENTS[i % OTHER_EVENTS.length]] }, null, notify);
      for (let i = 0; i < 9; i++) await rule(`never ${i}`, { type: 'RECORD_EVENT', events: ['contact.created'] }, { title: { eq: `Nobody ${i}` } }, notify);
      await rule('every 20th', { type: 'RECORD_EVENT', events: ['contact.created'] }, { title: { eq: 'Buyer' } }, [
        { type: 'CREATE_TASK', params: { subject: 'Call {{record.lastName}}' } },
      ]);

      const [start] = (await owner.query(`SELECT coalesce(max(id), 0)::bigint AS id FROM event`)).rows;
      for (let i = 0; i < EVENTS; i += 1000) {
        const inputs = Array.from({ length: Math.min(1000, EVENTS - i) }, (_, k) => ({
          externalId: `c-${i + k}`,
          lastName: `Contact ${i + k}`,
          title: (i + k) % 20 === 0 ? 'Buyer' : 'Engineer',
        }));
        await post(admin, { query: 'mutation($i: [UpsertContactInput!]!) { upsertContacts(inputs: $i) { created } }', variables: { i: inputs } });
      }
      const [last] = (await owner.query(`SELECT max(id)::bigint AS id FROM event`)).rows;
      const evaluated = Number((await owner.query(`SELECT count(*) AS n FROM event WHERE id > $1 AND id <= $2`, [start.id, last.id])).rows[0].n);
      const cursorAt = async () => BigInt((await owner.query(`SELECT seq FROM automation_cursor`)).rows[0].seq);
      const waitPast = async (id: bigint) => {
        const deadline = Date.now() + 300_000;
        while (Date.now() < deadline && (await cursorAt()) < id) await sleep(10);
      };

      // Throughput: an instance with the engine starts on the backlog; timed from the cursor's first move.
      const began = Date.now();
      let firstMove = 0;
      const watching = (async () => {
        while (!firstMove && Date.now() - began < 120_000) {
          if ((await cursorAt()) > BigInt(start.id)) firstMove = Date.now();
          else await sleep(5);
        }
      })();
      engine = await startServer('trellis', { db, logDir: dataDir, workspaceId: '', trellisRoot: ROOT, trellisEnv: { AUTOMATION_WORKERS: 'true' } });
      const ready = Date.now();
      await waitPast(BigInt(last.id));
      await watching;
      const seconds = (Date.now() - firstMove) / 1000;
      const backlogRuns = Number((await owner.query(`SELECT count(*) AS n FROM automation_run`)).rows[0].n);

      // Delay: matching contacts at a steady rate, one mutation each.
      const total = RATE * 10;
      const t0 = Date.now();
      const writes: Promise<unknown>[] = [];
      for (let n = 0; n < total; n++) {
        const wait = t0 + (n * 1000) / RATE - Date.now();
        if (wait > 0) await sleep(wait);
        writes.push(
          post(admin, {
            query: 'mutation($i: CreateContactInput!) { createContact(input: $i) { id } }',
            variables: { i: { lastName: `Live ${n}`, title: 'Buyer' } },
          }),
        );
      }
      await Promise.all(writes);
      await waitPast(BigInt((await owner.query(`SELECT max(id)::bigint AS id FROM event`)).rows[0].id));
      const delays = (
        await owner.query(
          `SELECT extract(epoch FROM r.created_at - e.occurred_at) * 1000 AS ms FROM automation_run r JOIN event e ON e.id = r.event_id WHERE e.id > $1`,
          [last.id],
        )
      ).rows
        .map((r: { ms: string }) => Number(r.ms))
        .sort((a: number, b: number) => a - b);
      const result = {
        rules: 50,
        events: evaluated,
        backlogRuns,
        startSeconds: (ready - began) / 1000,
        eventsPerSecond: Math.round(evaluated / seconds),
        rate: RATE,
        runs: delays.length,
        delayP50Ms: Math.round(percentile(delays, 50)),
        delayP99Ms: Math.round(percentile(delays, 99)),
      };
      console.log('\nautomation engine, one instance, 50 active rules:');
      console.log(
        `  backlog: ${result.events} events evaluated in ${seconds.toFixed(1)} s = ${result.eventsPerSecond} events/s, ${backlogRuns} runs; target >= 2000/s: ${result.eventsPerSecond >= 2000 ? 'met' : 'NOT met'}`,
      );
      console.log(
        `  live, ${RATE} matching events/s: ${result.runs} runs; delay from the event to its rule's run: p50 ${result.delayP50Ms} ms, p99 ${result.delayP99Ms} ms`,
      );
      const file = writeResult('automation', { date: new Date().toISOString(), ...result });
      console.log(`results written to ${file}`);
    } finally {
      await engine?.stop();
      await trellis.stop();
    }
  } finally {
    await owner.end().catch(() => undefined);
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
