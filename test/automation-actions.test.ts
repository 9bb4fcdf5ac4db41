import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { mapRule } from '../src/modules/automation/rule-runner';
import { signUp, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';
import { settleAutomation } from './helpers/automation';
import { startReceiver, type Receiver } from './helpers/receiver';
import { killTrellis, startTrellis, until } from './hardening/faults-support';
import { subscribe, waitUntil, type Subscriber } from './helpers/subscriber';

const CREATE_RULE = `mutation($i: AutomationRuleInput!) { createAutomationRule(input: $i) { id } }`;
const RUNS = `query($r: ID) { automationRuns(ruleId: $r, first: 100) { totalCount nodes { status occasion entityId error actions { type ok summary error details } } } }`;

type User = { token: string; id: string; email: string };

/** The actions of automation rules, each through the real engine, database and network. */
describe('automation actions', () => {
  let t: TestApp;
  let admin: SignedUp;
  let repA: User;
  let repB: User;
  const subscribers: Subscriber[] = [];
  const receivers: Receiver[] = [];

  const gql = async (query: string, variables: Record<string, unknown> = {}, token = admin.accessToken) => {
    const r = await t.gql(query, variables, token);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data;
  };
  const rule = async (input: Record<string, unknown>) => (await gql(CREATE_RULE, { i: { name: 'Rule', ...input } })).createAutomationRule.id as string;
  const refused = async (input: Record<string, unknown>) => {
    const r = await t.gql(CREATE_RULE, { i: { name: 'Refused', ...input } }, admin.accessToken);
    expect(r.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    return r.errors![0].extensions.fields?.map((f) => f.field);
  };
  const runs = async (ruleId: string) => (await gql(RUNS, { r: ruleId })).automationRuns;
  const drop = (ruleId: string) => gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId });
  /**
   * Runs the engine until it has read every event committed so far. The log hands out an event once
   * no older transaction is still open anywhere on the server (other test files share it), so one
   * consume() may stop short: poll, with a deadline.
   */
  const settle = () => settleAutomation(t);
  const rep = () => userWithRole(t, admin, 'REP');
  const createLead = async (input: Record<string, unknown>) =>
    (await gql(`mutation($i: CreateLeadInput!) { createLead(input: $i) { id } }`, { i: input })).createLead.id as string;
  const ownerOf = async (entity: string, id: string) => (await t.sql<{ owner_id: string }>(`SELECT owner_id FROM ${entity} WHERE id = $1`, [id]))[0].owner_id;

  beforeAll(async () => {
    t = await startTestApp({ AUTOMATION_WORKERS: 'false', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    admin = await signUp(t, 'Actions Co');
    repA = await rep();
    repB = await rep();
  });
  afterAll(async () => {
    for (const s of subscribers) await s.close();
    for (const r of receivers) await r.close();
    await t.close();
  });

  describe('ASSIGN_OWNER', () => {
    it('ROUND_ROBIN over userIds skips a deactivated user and cycles in the order given', async () => {
      const [u1, u2, u3] = [await rep(), await rep(), await rep()];
      await gql(`mutation($id: ID!) { deactivateUser(id: $id) { active } }`, { id: u2.id });
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['lead.created'] },
        conditions: { company: { eq: 'Round' } },
        actions: [{ type: 'ASSIGN_OWNER', params: { strategy: 'ROUND_ROBIN', userIds: [u1.id, u2.id, u3.id] } }],
      });
      // One at a time: the engine may run a batch of different records side by side, in any order.
      const leads: string[] = [];
      for (let i = 0; i < 5; i++) {
        leads.push(await createLead({ lastName: `Round ${i}`, company: 'Round' }));
        await settle();
      }
      const owners = await Promise.all(leads.map((id) => ownerOf('lead', id)));
      expect(owners).toEqual([u1.id, u3.id, u1.id, u3.id, u1.id]);
      const r = await runs(ruleId);
      expect(r.nodes.map((n: { status: string }) => n.status)).toEqual(Array(5).fill('SUCCEEDED'));
      expect(r.nodes.every((n: { actions: { details: { ownerId: string } }[] }) => n.actions[0].details.ownerId !== u2.id)).toBe(true);
      await drop(ruleId);
    });

    it('LEAST_LOADED picks whoever owns the fewest OPEN opportunities (won and deleted ones do not count), as loads are at run time', async () => {
      const [l1, l2, l3] = [await rep(), await rep(), await rep()];
      const pipelines = await gql(`{ pipelines(first: 10) { nodes { isDefault stages { id kind } } } }`);
      const stages = pipelines.pipelines.nodes.find((p: { isDefault: boolean }) => p.isDefault).stages as { id: string; kind: string }[];
      const wonStage = stages.find((s) => s.kind === 'WON')!.id;
      const opp = async (name: string, ownerId: string, stageId?: string) =>
        (await gql(`mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) { id status } }`, { i: { name, ownerId, stageId } }))
          .createOpportunity;
      // l1: 2 open. l2: 1 open, 3 won, 2 open but deleted. l3: 2 open.
      for (const u of [l1, l1, l2, l3, l3]) await opp('Load', u.id);
      for (let i = 0; i < 3; i++) expect((await opp('Load won', l2.id, wonStage)).status).toBe('WON');
      for (let i = 0; i < 2; i++) {
        const gone = await opp('Load deleted', l2.id);
        await gql(`mutation($id: ID!) { deleteOpportunity(id: $id) { id } }`, { id: gone.id });
      }
      const l3Open = await t.sql<{ id: string }>(`SELECT id FROM opportunity WHERE owner_id = $1 LIMIT 1`, [l3.id]);
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['opportunity.created'] },
        conditions: { name: { startsWith: 'Least' } },
        actions: [{ type: 'ASSIGN_OWNER', params: { strategy: 'LEAST_LOADED', userIds: [l1.id, l2.id, l3.id] } }],
      });
      const first = (await opp('Least 1', admin.userId)).id;
      await settle();
      expect(await ownerOf('opportunity', first)).toBe(l2.id);
      // Now 2, 2, 2; one of l3's deals is won: l3 is the least loaded.
      await gql(`mutation($id: ID!, $s: ID!) { updateOpportunity(id: $id, input: { stageId: $s }) { status } }`, { id: l3Open[0].id, s: wonStage });
      const second = (await opp('Least 2', admin.userId)).id;
      await settle();
      expect(await ownerOf('opportunity', second)).toBe(l3.id);
      await drop(ruleId);
    });

    it('LEAST_LOADED stays fair in a burst: 20 leads at once over 2 idle users is exactly 10 each', async () => {
      const [b1, b2] = [await rep(), await rep()];
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['lead.created'] },
        conditions: { company: { eq: 'Least burst' } },
        actions: [{ type: 'ASSIGN_OWNER', params: { strategy: 'LEAST_LOADED', userIds: [b1.id, b2.id] } }],
      });
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => createLead({ lastName: `Least burst ${i}`, company: 'Least burst' })));
      await settle();
      expect((await runs(ruleId)).nodes.map((n: { status: string; error: string | null }) => n.error ?? n.status)).toEqual(Array(20).fill('SUCCEEDED'));
      const owners = await Promise.all(ids.map((id) => ownerOf('lead', id)));
      expect([owners.filter((o) => o === b1.id).length, owners.filter((o) => o === b2.id).length]).toEqual([10, 10]);
      // 20 runs at the same time, each in its own transaction.
      const direct = await Promise.all(Array.from({ length: 20 }, (_, i) => createLead({ lastName: `Least direct ${i}`, company: 'Not least burst' })));
      const [row] = await t.sql(`SELECT * FROM automation_rule WHERE id = $1`, [ruleId]);
      const done = await Promise.all(
        direct.map((id) => t.services.automation.runner.execute(admin.workspaceId, mapRule(t.ds)(row), { occasion: `test:${id}`, entityId: id })),
      );
      expect(done.map((r) => r?.status)).toEqual(Array(20).fill('SUCCEEDED'));
      const again = await Promise.all(direct.map((id) => ownerOf('lead', id)));
      expect([again.filter((o) => o === b1.id).length, again.filter((o) => o === b2.id).length]).toEqual([10, 10]);
      await drop(ruleId);
    });

    it('concurrent runs never take the same turn: 20 leads at once over 2 users is exactly 10 each', async () => {
      const [c1, c2] = [await rep(), await rep()];
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['lead.created'] },
        conditions: { company: { eq: 'Burst' } },
        actions: [{ type: 'ASSIGN_OWNER', params: { userIds: [c1.id, c2.id] } }],
      });
      const tally = async (ids: string[]) => {
        const owners = await Promise.all(ids.map((id) => ownerOf('lead', id)));
        return [owners.filter((o) => o === c1.id).length, owners.filter((o) => o === c2.id).length];
      };
      // Through the API: 20 leads created concurrently, consumed by the engine.
      const viaApi = await Promise.all(Array.from({ length: 20 }, (_, i) => createLead({ lastName: `Burst ${i}`, company: 'Burst' })));
      await settle();
      expect(await tally(viaApi)).toEqual([10, 10]);
      // 20 runs of the rule at the same time, each in its own transaction.
      const direct = await Promise.all(Array.from({ length: 20 }, (_, i) => createLead({ lastName: `Direct ${i}`, company: 'Not burst' })));
      const [row] = await t.sql(`SELECT * FROM automation_rule WHERE id = $1`, [ruleId]);
      const loaded = mapRule(t.ds)(row);
      const done = await Promise.all(
        direct.map((id) => t.services.automation.runner.execute(admin.workspaceId, loaded, { occasion: `test:${id}`, entityId: id })),
      );
      expect(done.map((r) => r?.status)).toEqual(Array(20).fill('SUCCEEDED'));
      expect(await tally(direct)).toEqual([10, 10]);
      expect((await t.sql<{ n: string }>(`SELECT round_robin::text AS n FROM automation_rule WHERE id = $1`, [ruleId]))[0].n).toBe('40');
      await drop(ruleId);
    });
  });

  it('SEND_EMAIL without SMTP_URL: logged in sentEmails and kept as an EMAIL activity; OWNER is the owner’s address, or a fixed address', async () => {
    const ruleId = await rule({
      name: 'Mail rule',
      trigger: { type: 'RECORD_EVENT', events: ['contact.created'] },
      conditions: { lastName: { startsWith: 'Mailer' } },
      actions: [
        { type: 'SEND_EMAIL', params: { to: 'OWNER', subject: 'Your new contact {{record.firstName}}', body: 'Reach them at {{record.email}}.' } },
        { type: 'SEND_EMAIL', params: { to: 'desk@example.com', subject: 'New contact {{record.lastName}}', body: 'From {{rule.name}} on {{event.type}}' } },
      ],
    });
    const c = await gql(
      `mutation($o: ID) { createContact(input: { firstName: "Grace", lastName: "Mailer", email: "grace@example.com", ownerId: $o }) { id } }`,
      { o: repA.id },
    );
    const contactId = c.createContact.id;
    await settle();

    const mails = (
      await gql(`{ sentEmails(first: 50) { totalCount nodes { id ruleId recipient subject body transport entityType entityId activityId error } } }`)
    ).sentEmails;
    const mine = mails.nodes.filter((m: { entityId: string }) => m.entityId === contactId);
    expect(mine).toHaveLength(2);
    const toOwner = mine.find((m: { recipient: string }) => m.recipient === repA.email);
    const toDesk = mine.find((m: { recipient: string }) => m.recipient === 'desk@example.com');
    expect(toOwner).toMatchObject({
      ruleId,
      subject: 'Your new contact Grace',
      body: 'Reach them at grace@example.com.',
      transport: 'LOG',
      entityType: 'contact',
      error: null,
    });
    expect(toDesk).toMatchObject({ ruleId, subject: 'New contact Mailer', body: 'From Mail rule on contact.created', transport: 'LOG', entityType: 'contact' });

    // Each email is an EMAIL activity on the contact, owned by the contact's owner.
    const acts = (await gql(`query($id: ID!) { contact(id: $id) { activities(first: 20) { id type subject body owner { id } } } }`, { id: contactId })).contact
      .activities;
    const emails = acts.filter((a: { type: string }) => a.type === 'EMAIL');
    expect(emails.map((a: { id: string }) => a.id).sort()).toEqual([toOwner.activityId, toDesk.activityId].sort());
    expect(emails.find((a: { id: string }) => a.id === toOwner.activityId)).toMatchObject({
      subject: 'Your new contact Grace',
      body: 'Reach them at grace@example.com.',
      owner: { id: repA.id },
    });

    const [run] = (await runs(ruleId)).nodes;
    expect(run.status).toBe('SUCCEEDED');
    expect(run.actions.map((a: { details: { to: string; sentEmailId: string } }) => [a.details.to, a.details.sentEmailId])).toEqual([
      [repA.email, toOwner.id],
      ['desk@example.com', toDesk.id],
    ]);
    // A rep cannot read the sent-mail log.
    expect((await t.gql(`{ sentEmails { totalCount } }`, {}, repA.token)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    await drop(ruleId);
  });

  it('NOTIFY reaches the record owner live through notificationReceived and lands in their inbox; a fixed user gets theirs', async () => {
    const live = async (token: string) => {
      const before = t.services.eventBus.subscriberCount;
      const s = await subscribe(t.url, `Bearer ${token}`, `subscription { notificationReceived { id title body entityType entityId userId } }`);
      subscribers.push(s);
      await waitUntil(() => t.services.eventBus.subscriberCount >= before + 2 || !!s.failure, 5_000, 'the subscription to register');
      return s;
    };
    const ownerSub = await live(repA.token);
    const ruleId = await rule({
      trigger: { type: 'RECORD_EVENT', events: ['opportunity.created'] },
      conditions: { name: { startsWith: 'Notify' } },
      actions: [
        { type: 'NOTIFY', params: { to: 'OWNER', title: '{{record.name}} is yours', body: 'Closes {{record.expectedCloseDate}}' } },
        { type: 'NOTIFY', params: { to: repB.id, title: 'FYI: {{record.name}}' } },
      ],
    });
    const opp = await gql(`mutation($o: ID) { createOpportunity(input: { name: "Notify Deal", ownerId: $o, expectedCloseDate: "2031-05-06" }) { id } }`, {
      o: repA.id,
    });
    const oppId = opp.createOpportunity.id;
    await settle();
    await ownerSub.waitFor(1);
    const pushed = ownerSub.data[0].notificationReceived;
    expect(pushed).toMatchObject({ title: 'Notify Deal is yours', body: 'Closes 2031-05-06', entityType: 'opportunity', entityId: oppId, userId: repA.id });
    const inbox = (token: string) =>
      gql(`{ notifications { id title entityId } }`, {}, token).then((d) => d.notifications as { id: string; title: string; entityId: string }[]);
    expect((await inbox(repA.token)).filter((n) => n.entityId === oppId)).toEqual([{ id: pushed.id, title: 'Notify Deal is yours', entityId: oppId }]);
    expect((await inbox(repB.token)).filter((n) => n.entityId === oppId).map((n) => n.title)).toEqual(['FYI: Notify Deal']);
    // The admin created the deal but does not own it: nothing for them.
    expect((await inbox(admin.accessToken)).filter((n) => n.entityId === oppId)).toEqual([]);
    expect(ownerSub.results).toHaveLength(1);
    await drop(ruleId);
  });

  describe('CALL_WEBHOOK', () => {
    const secret = 'whsec_' + randomBytes(32).toString('base64');

    it('POSTs once the run has committed (not inside its transaction), signed with the rule’s secret (standardwebhooks verifies it), with the rule, event and record; the outcome is recorded with an event', async () => {
      const rx = await startReceiver('/automation');
      receivers.push(rx);
      const ruleId = await rule({
        name: 'Hook rule',
        trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
        conditions: { name: { startsWith: 'Hook' } },
        actions: [
          { type: 'CREATE_TASK', params: { subject: 'Task of {{record.name}}' } },
          { type: 'CALL_WEBHOOK', params: { url: rx.url, secret } },
        ],
      });
      // What the database holds while the receiver has the request: the run and its task, committed.
      let during: unknown[] = [];
      rx.respond = (_req, res) =>
        void t
          .sql(
            `SELECT r.status, r.actions->1->>'ok' AS call_ok, (SELECT count(*)::int FROM activity a WHERE a.account_id = r.entity_id) AS tasks
             FROM automation_run r WHERE r.rule_id = $1`,
            [ruleId],
          )
          .then((rows) => (during = rows))
          .finally(() => res.writeHead(200).end('ok'));
      const accountId = (await gql(`mutation { createAccount(input: { name: "Hook Ltd", industry: "Energy" }) { id } }`)).createAccount.id;
      await settle();
      await settle();
      // Made after the commit, still within the run that consume() awaited: exactly one.
      expect(rx.received).toHaveLength(1);
      expect(during).toEqual([{ status: 'PENDING', call_ok: 'false', tasks: 1 }]);
      const [got] = rx.received;
      const headers = {
        'webhook-id': got.headers['webhook-id'] as string,
        'webhook-timestamp': got.headers['webhook-timestamp'] as string,
        'webhook-signature': got.headers['webhook-signature'] as string,
      };
      expect(new Webhook(secret).verify(got.body, headers)).toEqual(got.json);
      expect(() => new Webhook('whsec_' + randomBytes(32).toString('base64')).verify(got.body, headers)).toThrow();
      expect(() => new Webhook(secret).verify(got.body.replace('Hook Ltd', 'Fake Ltd'), headers)).toThrow();
      expect(got.headers['content-type']).toContain('application/json');
      expect(got.json).toMatchObject({
        type: 'automation.webhook',
        data: { ruleId, ruleName: 'Hook rule', event: { type: 'account.created' }, record: { id: accountId, name: 'Hook Ltd', industry: 'Energy' } },
      });
      const [run] = (await runs(ruleId)).nodes;
      expect(run).toMatchObject({
        status: 'SUCCEEDED',
        error: null,
        entityId: accountId,
        actions: [
          { type: 'CREATE_TASK', ok: true },
          { type: 'CALL_WEBHOOK', ok: true, error: null, details: { url: rx.url, statusCode: 200, webhookId: headers['webhook-id'], attempts: 1 } },
        ],
      });
      // The outcome went through the event log, as the rule (its run's depth), without the secret; the secret is dropped from the call.
      const events = await t.sql<{ type: string; actor_type: string; actor_id: string; depth: number; data: Record<string, unknown>; changes: unknown }>(
        `SELECT type, actor_type, actor_id, depth, data, changes FROM event WHERE entity_type = 'automation_run' AND data->>'ruleId' = $1`,
        [ruleId],
      );
      expect(events).toEqual([
        {
          type: 'automation_run.webhook_called',
          actor_type: 'AUTOMATION',
          actor_id: ruleId,
          depth: 1,
          changes: [{ field: 'status', old: 'PENDING', new: 'SUCCEEDED' }],
          data: expect.objectContaining({
            webhookId: headers['webhook-id'],
            url: rx.url,
            status: 'SUCCEEDED',
            statusCode: 200,
            error: null,
            attempts: 1,
            runStatus: 'SUCCEEDED',
          }),
        },
      ]);
      expect(JSON.stringify(events)).not.toContain(secret.slice(6, 30));
      expect(await t.sql(`SELECT status, secret, attempts FROM automation_webhook_call WHERE rule_id = $1`, [ruleId])).toEqual([
        { status: 'SUCCEEDED', secret: null, attempts: 1 },
      ]);
      await drop(ruleId);
    });

    it('a receiver answering 500 fails the run, which kept its other actions (before and after the call: they committed first); the call is not retried', async () => {
      const rx = await startReceiver('/broken');
      receivers.push(rx);
      rx.respond = (_req, res) => res.writeHead(500).end('boom');
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
        conditions: { name: { startsWith: 'Broken' } },
        actions: [
          { type: 'CREATE_TASK', params: { subject: 'Task of {{record.name}}' } },
          { type: 'CALL_WEBHOOK', params: { url: rx.url, secret } },
          { type: 'NOTIFY', params: { to: 'ADMINS', title: 'Notice of {{record.name}}' } },
        ],
      });
      const accountId = (await gql(`mutation { createAccount(input: { name: "Broken Co" }) { id } }`)).createAccount.id;
      await settle();
      expect(rx.received).toHaveLength(1);
      const [run] = (await runs(ruleId)).nodes;
      expect(run.status).toBe('FAILED');
      expect(run.error).toBe(`CALL_WEBHOOK failed: POST ${rx.url} failed: 500`);
      expect(run.actions.map((a: { type: string; ok: boolean; error: string | null }) => [a.type, a.ok, a.error])).toEqual([
        ['CREATE_TASK', true, null],
        ['CALL_WEBHOOK', false, `POST ${rx.url} failed: 500`],
        ['NOTIFY', true, null],
      ]);
      expect(await t.sql(`SELECT 1 FROM activity WHERE account_id = $1`, [accountId])).toHaveLength(1);
      expect(await t.sql(`SELECT 1 FROM notification WHERE title = 'Notice of Broken Co'`)).not.toHaveLength(0);
      const byRule = await t.sql<{ type: string }>(`SELECT type FROM event WHERE actor_type = 'AUTOMATION' AND actor_id = $1 ORDER BY id`, [ruleId]);
      expect(byRule.map((e) => e.type)).toContain('automation_run.webhook_called');
      // An answer is an outcome: neither the engine's recovery, even an hour later, nor another consume makes it again.
      expect(await t.services.automation.calls.recover(new Date(Date.now() + 3600_000))).toBe(0);
      await settle();
      expect(rx.received).toHaveLength(1);
      await drop(ruleId);
    });

    it('an instance killed between the commit and the answer loses no call: once its lease has run out, another instance makes it again (same webhook-id, verified signature), at most 5 times in all; the run stays one', async () => {
      // The receiver holds every request without answering: the instance making the calls is killed meanwhile.
      const rx = await startReceiver('/crash');
      receivers.push(rx);
      rx.respond = () => undefined;
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
        conditions: { name: { startsWith: 'Crash' } },
        actions: [
          { type: 'CREATE_TASK', params: { subject: 'Task of {{record.name}}' } },
          { type: 'CALL_WEBHOOK', params: { url: rx.url, secret } },
        ],
      });
      // Another Trellis, a real process on this database, runs the rules; this one does not.
      const other = await startTrellis({
        databaseUrl: t.db.appUrl,
        migrationUrl: t.db.ownerUrl,
        workerUrl: t.db.workerUrl,
        env: { AUTOMATION_WORKERS: 'true', WEBHOOK_WORKERS: 'false', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_TIMEOUT_MS: '30000' },
      });
      let accounts: string[];
      try {
        // In one transaction: the engine reads both events at once and runs the two records side by side.
        const made = await gql(`mutation { a: createAccount(input: { name: "Crash 1" }) { id } b: createAccount(input: { name: "Crash 2" }) { id } }`);
        accounts = [made.a.id, made.b.id];
        await rx.waitFor(2, 20_000);
      } finally {
        await killTrellis(other);
      }
      // Its sessions end as PostgreSQL sees their sockets close (this process' own share the application name, so
      // wait for what matters here: the event consumer's advisory lock of the killed process released).
      await until(
        'the killed process to let go of the automation consumer lock',
        async () =>
          (
            await t.sql<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            )
          )[0].n === 0,
        20_000,
      );
      const state = () =>
        t.sql<{ entity_id: string; status: string; tasks: number; call: string; attempts: number }>(
          `SELECT r.entity_id, r.status, (SELECT count(*)::int FROM activity a WHERE a.account_id = r.entity_id) AS tasks, c.status AS call, c.attempts
           FROM automation_run r JOIN automation_webhook_call c ON c.run_id = r.id WHERE r.rule_id = $1 ORDER BY r.entity_id`,
          [ruleId],
        );
      // Each run committed its task and its call, pending; nothing recorded an outcome.
      const sorted = [...accounts].sort();
      expect(await state()).toEqual(sorted.map((id) => ({ entity_id: id, status: 'PENDING', tasks: 1, call: 'PENDING', attempts: 1 })));
      const [first] = rx.received;
      // Exactly once per occasion: consuming the events again here runs nothing twice.
      await settle();
      expect((await runs(ruleId)).totalCount).toBe(2);
      // While the dead instance's lease holds, nobody makes its calls again.
      expect(await t.services.automation.calls.recover()).toBe(0);
      // One of the two has been cut off four more times (as if each instance that took it over had died too).
      const [gaveUp, madeAgain] = sorted;
      await t.sql(`UPDATE automation_webhook_call c SET attempts = 5 FROM automation_run r WHERE r.id = c.run_id AND r.entity_id = $1`, [gaveUp]);
      rx.respond = (_req, res) => res.writeHead(204).end();
      // Past the killed instance's lease (3 x its WEBHOOK_TIMEOUT_MS).
      const later = new Date(Date.now() + 10 * 60_000);
      expect(await t.services.automation.calls.recover(later)).toBe(2);
      expect(rx.received).toHaveLength(3);
      const again = rx.received[2];
      expect(again.json.data.record.id).toBe(madeAgain);
      const original = rx.received.slice(0, 2).find((r) => r.json.data.record.id === madeAgain)!;
      expect(again.headers['webhook-id']).toBe(original.headers['webhook-id']);
      expect(again.body).toBe(original.body);
      const headers = {
        'webhook-id': again.headers['webhook-id'] as string,
        'webhook-timestamp': again.headers['webhook-timestamp'] as string,
        'webhook-signature': again.headers['webhook-signature'] as string,
      };
      expect(new Webhook(secret).verify(again.body, headers)).toEqual(again.json);
      expect(first.headers['webhook-id']).toMatch(/^auto_/);
      expect(await state()).toEqual(
        [
          { entity_id: gaveUp, status: 'FAILED', tasks: 1, call: 'FAILED', attempts: 6 },
          { entity_id: madeAgain, status: 'SUCCEEDED', tasks: 1, call: 'SUCCEEDED', attempts: 2 },
        ].sort((a, b) => (a.entity_id < b.entity_id ? -1 : 1)),
      );
      const nodes = (await runs(ruleId)).nodes as {
        entityId: string;
        error: string | null;
        actions: { type: string; ok: boolean; details: { attempts?: number; statusCode?: number } }[];
      }[];
      expect(nodes.find((n) => n.entityId === gaveUp)!.error).toBe(
        'CALL_WEBHOOK failed: no outcome recorded after 5 attempts (the instance making it stopped each time): given up',
      );
      expect(nodes.find((n) => n.entityId === madeAgain)!.actions[1]).toMatchObject({
        type: 'CALL_WEBHOOK',
        ok: true,
        details: { attempts: 2, statusCode: 204 },
      });
      // Each outcome recorded once, through the event log.
      const outcomes = await t.sql<{ entity_id: string; n: number }>(
        `SELECT r.entity_id, count(*)::int AS n FROM event e JOIN automation_run r ON r.id = e.entity_id WHERE e.type = 'automation_run.webhook_called' AND r.rule_id = $1 GROUP BY 1 ORDER BY 1`,
        [ruleId],
      );
      expect(outcomes).toEqual(sorted.map((id) => ({ entity_id: id, n: 1 })));
      // Done: nothing is made a third time.
      expect(await t.services.automation.calls.recover(new Date(later.getTime() + 3600_000))).toBe(0);
      expect(rx.received).toHaveLength(3);
      await drop(ruleId);
    }, 120_000);

    it('the secret stays out of the event log: the admin reading the change feed never sees it, and a rep gets no rule events at all', async () => {
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
        conditions: { name: { eq: 'Never' } },
        actions: [{ type: 'CALL_WEBHOOK', params: { url: 'https://example.com/hook', secret } }],
      });
      // The admin sees the rule's actions, secret included, through the rules API (ADMIN only).
      const listed = await gql(`{ automationRules { id actions { params } } }`);
      expect(listed.automationRules.find((r: { id: string }) => r.id === ruleId).actions[0].params.secret).toBe(secret);
      await gql(`mutation($id: ID!) { updateAutomationRule(id: $id, input: { name: "Renamed" }) { id } }`, { id: ruleId });
      await drop(ruleId);
      const events = await t.sql<{ data: unknown; changes: unknown }>(`SELECT data, changes FROM event WHERE entity_id = $1`, [ruleId]);
      expect(events.length).toBeGreaterThanOrEqual(3);
      expect(JSON.stringify(events)).not.toContain(secret.slice(6, 30));
      // The feed shows an event once older transactions have ended: poll until the rule's three are there.
      let mine: { entityId: string }[] = [];
      for (const deadline = Date.now() + 10_000; mine.length < 3 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
        const feed = await gql(`{ changes(first: 1000) { events { entityId type data changes { field old new } } } }`);
        mine = feed.changes.events.filter((e: { entityId: string }) => e.entityId === ruleId);
      }
      expect(mine.map((e: any) => e.type)).toEqual(['automation_rule.created', 'automation_rule.updated', 'automation_rule.deleted']);
      expect(JSON.stringify(mine)).not.toContain(secret.slice(6, 30));
      expect(JSON.stringify(mine)).toContain('redacted:');
      // Rules are read through an ADMIN-only query: their events are the ADMIN's (see event-visibility.ts).
      const repFeed = await gql(`{ changes(first: 1000) { events { entityId } } }`, {}, repA.token);
      expect(repFeed.changes.events.filter((e: { entityId: string }) => e.entityId === ruleId)).toEqual([]);
    });
  });

  describe('templates', () => {
    it('render custom fields, relation ids, and computed fields such as a lead’s name', async () => {
      await gql(`mutation { defineCustomField(input: { entityType: ACCOUNT, key: "tier", label: "Tier", type: TEXT }) { id } }`);
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
        conditions: { name: { startsWith: 'Tmpl' } },
        actions: [
          {
            type: 'CREATE_TASK',
            params: { subject: '{{record.customFields.tier}} account {{record.name}}', body: 'Owner {{record.ownerId}}', assignee: repB.id },
          },
        ],
      });
      const acc = await gql(`mutation($o: ID) { createAccount(input: { name: "Tmpl Ltd", ownerId: $o, customFields: { tier: "Gold" } }) { id } }`, {
        o: repA.id,
      });
      const leadRule = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['lead.created'] },
        conditions: { company: { eq: 'Tmpl' } },
        actions: [{ type: 'CREATE_TASK', params: { subject: 'Call {{record.name}}' } }],
      });
      const leadId = await createLead({ firstName: 'Ada', lastName: 'Lovelace', company: 'Tmpl' });
      const oppRule = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['opportunity.created'] },
        conditions: { name: { eq: 'Tmpl deal' } },
        actions: [{ type: 'CREATE_TASK', params: { subject: '{{record.name}} worth {{record.amount}}, closing {{record.expectedCloseDate}}' } }],
      });
      const oppId = (
        await gql(
          `mutation { createOpportunity(input: { name: "Tmpl deal", amount: { amount: "1200.5", currency: "EUR" }, expectedCloseDate: "2031-01-02" }) { id } }`,
        )
      ).createOpportunity.id;
      await settle();
      const [worth] = await t.sql<{ subject: string }>(`SELECT subject FROM activity WHERE opportunity_id = $1 AND type = 'TASK'`, [oppId]);
      expect(worth?.subject).toBe('Tmpl deal worth 1200.50 EUR, closing 2031-01-02');
      const [task] = await t.sql<{ subject: string; body: string; owner_id: string }>(
        `SELECT subject, body, owner_id FROM activity WHERE account_id = $1 AND type = 'TASK'`,
        [acc.createAccount.id],
      );
      expect(task).toEqual({ subject: 'Gold account Tmpl Ltd', body: `Owner ${repA.id}`, owner_id: repB.id });
      const [call] = await t.sql<{ subject: string }>(`SELECT subject FROM activity WHERE lead_id = $1 AND type = 'TASK'`, [leadId]);
      expect(call?.subject).toBe('Call Ada Lovelace');
      for (const id of [ruleId, leadRule, oppRule]) await drop(id);
    });

    it('refuse sections and partials with BAD_USER_INPUT naming the param, and save nothing', async () => {
      const trigger = { type: 'RECORD_EVENT', events: ['account.created'] };
      expect(await refused({ trigger, actions: [{ type: 'CREATE_TASK', params: { subject: '{{#record.name}}x{{/record.name}}' } }] })).toEqual([
        'input.actions[0].params.subject',
      ]);
      expect(
        await refused({
          trigger,
          actions: [
            { type: 'NOTIFY', params: { to: 'ADMINS', title: 'ok' } },
            { type: 'SEND_EMAIL', params: { to: 'OWNER', subject: 'Hi', body: '{{^record.name}}none{{/record.name}}' } },
          ],
        }),
      ).toEqual(['input.actions[1].params.body']);
      expect(await refused({ trigger, actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: '{{> header}}' } }] })).toEqual([
        'input.actions[0].params.title',
      ]);
      expect(await refused({ trigger, actions: [{ type: 'CREATE_TASK', params: { subject: 'Hi {{record.name' } }] })).toEqual([
        'input.actions[0].params.subject',
      ]);
      // A relation is not a value of the record (it would render empty): its id is.
      expect(await refused({ trigger, actions: [{ type: 'CREATE_TASK', params: { subject: 'For {{record.owner}}' } }] })).toEqual([
        'input.actions[0].params.subject',
      ]);
      expect(await refused({ trigger, actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: '{{record.contacts}}' } }] })).toEqual([
        'input.actions[0].params.title',
      ]);
      const list = await gql(`{ automationRules { name } }`);
      expect(list.automationRules.filter((r: { name: string }) => r.name === 'Refused')).toEqual([]);
    });

    it('refuse OWNER-based actions on records that have no owner', async () => {
      const trigger = { type: 'RECORD_EVENT', events: ['product.created'] };
      expect(await refused({ trigger, actions: [{ type: 'ASSIGN_OWNER', params: { userIds: [repA.id] } }] })).toEqual(['input.actions[0].params']);
      expect(await refused({ trigger, actions: [{ type: 'NOTIFY', params: { to: 'OWNER', title: 'x' } }] })).toEqual(['input.actions[0].params.to']);
      expect(await refused({ trigger, actions: [{ type: 'SEND_EMAIL', params: { to: 'OWNER', subject: 'x', body: 'y' } }] })).toEqual([
        'input.actions[0].params.to',
      ]);
    });
  });
});
