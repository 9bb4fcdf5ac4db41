import { signUp, startSecondInstance, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';
import { settleAutomation } from './helpers/automation';

const CREATE_RULE = `mutation($i: AutomationRuleInput!) { createAutomationRule(input: $i) { id name active trigger { type events } actions { type params } } }`;
const RUNS = `query($r: ID) { automationRuns(ruleId: $r, first: 100) { totalCount nodes { status occasion entityId error actions { type ok summary error details } } } }`;

describe('automation', () => {
  let t: TestApp;
  let admin: SignedUp;
  let repA: { token: string; id: string; email: string };
  let repB: { token: string; id: string; email: string };
  let teamId: string;

  const rule = async (input: Record<string, unknown>) => {
    const r = await t.gql(CREATE_RULE, { i: { name: 'Rule', ...input } }, admin.accessToken);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data.createAutomationRule.id as string;
  };
  const runs = async (ruleId: string) => (await t.gql(RUNS, { r: ruleId }, admin.accessToken)).data.automationRuns;
  const settle = () => settleAutomation(t);

  beforeAll(async () => {
    t = await startTestApp({ AUTOMATION_WORKERS: 'false' });
    admin = await signUp(t, 'Auto Co');
    repA = await userWithRole(t, admin, 'REP');
    repB = await userWithRole(t, admin, 'REP');
    const team = await t.gql(`mutation($i: CreateTeamInput!) { createTeam(input: $i) { id } }`, { i: { name: 'Inbound' } }, admin.accessToken);
    teamId = team.data.createTeam.id;
    for (const u of [repA, repB])
      await t.gql(`mutation($id: ID!, $t: ID!) { updateUser(id: $id, input: { teamId: $t }) { id } }`, { id: u.id, t: teamId }, admin.accessToken);
  });
  afterAll(() => t.close());

  it('lead intake end to end: a web lead is assigned round-robin, welcomed by email (logged and kept as an EMAIL activity) and given a follow-up task', async () => {
    const ruleId = await rule({
      name: 'Web leads',
      trigger: { type: 'RECORD_EVENT', events: ['lead.created'] },
      conditions: { source: { eq: 'WEB' } },
      actions: [
        { type: 'ASSIGN_OWNER', params: { strategy: 'ROUND_ROBIN', teamId } },
        { type: 'SEND_EMAIL', params: { to: 'RECORD', subject: 'Welcome, {{record.firstName}}', body: 'Thanks for writing to us about {{record.company}}.' } },
        { type: 'CREATE_TASK', params: { subject: 'Call {{record.firstName}} {{record.lastName}}', dueInDays: 1 } },
      ],
    });
    const token = (await t.gql(`mutation { rotateIntakeToken }`, {}, admin.accessToken)).data.rotateIntakeToken;
    expect(token).toMatch(/^itk_/);
    const post = (body: string, type = 'application/json') => fetch(`${t.url}/intake/${token}`, { method: 'POST', headers: { 'content-type': type }, body });
    const first = await post(
      JSON.stringify({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', company: 'Analytical', message: 'Please call me' }),
    );
    expect(first.status).toBe(201);
    const second = await post('firstName=Alan&lastName=Turing&email=alan%40example.com&company=Bletchley', 'application/x-www-form-urlencoded');
    expect(second.status).toBe(201);
    // Through the API, a lead of another source does not match the conditions.
    await t.gql(`mutation { createLead(input: { lastName: "Referral", source: REFERRAL }) { id } }`, {}, admin.accessToken);
    await settle();

    const leads = await t.gql(
      `{ leads(filter: { source: { eq: WEB } }, orderBy: [{ field: CREATED_AT }]) { nodes { id firstName owner { id } activities { type subject status dueAt } } } }`,
      {},
      admin.accessToken,
    );
    const [ada, alan] = leads.data.leads.nodes;
    expect([ada.owner.id, alan.owner.id].sort()).toEqual([repA.id, repB.id].sort());
    expect(ada.owner.id).not.toBe(alan.owner.id);
    const types = (l: { activities: { type: string; subject: string }[] }) => l.activities.map((a) => `${a.type}:${a.subject}`).sort();
    expect(types(ada)).toEqual(['EMAIL:Welcome, Ada', 'NOTE:Web form message', 'TASK:Call Ada Lovelace']);
    expect(types(alan)).toEqual(['EMAIL:Welcome, Alan', 'TASK:Call Alan Turing']);
    const mails = await t.gql(`{ sentEmails(first: 10) { nodes { recipient subject body transport entityId } } }`, {}, admin.accessToken);
    expect(mails.data.sentEmails.nodes.map((m: { recipient: string }) => m.recipient).sort()).toEqual(['ada@example.com', 'alan@example.com']);
    expect(mails.data.sentEmails.nodes.find((m: { recipient: string }) => m.recipient === 'ada@example.com')).toMatchObject({
      subject: 'Welcome, Ada',
      body: 'Thanks for writing to us about Analytical.',
      transport: 'LOG',
      entityId: ada.id,
    });
    const r = await runs(ruleId);
    expect(r.totalCount).toBe(2);
    expect(r.nodes.every((n: { status: string }) => n.status === 'SUCCEEDED')).toBe(true);
    // The task was made by the rule: its event carries actor AUTOMATION and depth 1.
    const [ev] = await t.sql<{ actor_type: string; actor_id: string; depth: number }>(
      `SELECT actor_type, actor_id, depth FROM event WHERE type = 'activity.created' AND data->>'subject' = 'Call Ada Lovelace'`,
    );
    expect(ev).toMatchObject({ actor_type: 'AUTOMATION', actor_id: ruleId, depth: 1 });

    // Bad intake requests: a clear error, nothing saved.
    const before = (await t.sql(`SELECT count(*)::int AS n FROM lead`))[0].n;
    expect(
      (await fetch(`${t.url}/intake/itk_${'x'.repeat(32)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"lastName":"X"}' }))
        .status,
    ).toBe(404);
    const bad = await post(JSON.stringify({ lastName: '', email: 'not-an-email', admin: true }));
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as any;
    expect(body.error.code).toBe('BAD_USER_INPUT');
    expect([...new Set(body.error.fields.map((f: { field: string }) => f.field))].sort()).toEqual(['admin', 'email', 'lastName']);
    expect((await t.sql(`SELECT count(*)::int AS n FROM lead`))[0].n).toBe(before);
    await t.gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }, admin.accessToken);
  });

  it('runs each (rule, event) once, even when the consumer goes over the same events again', async () => {
    const ruleId = await rule({
      trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
      actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'New account {{record.name}}' } }],
    });
    await t.gql(`mutation { createAccount(input: { name: "Once Ltd" }) { id } }`, {}, admin.accessToken);
    await settle();
    // Rewind the durable cursor, as if the instance had died before saving it.
    await t.sql(`UPDATE automation_cursor SET tx = '0', seq = 0`);
    await settle();
    const r = await runs(ruleId);
    expect(r.totalCount).toBe(1);
    const inbox = await t.gql(`{ notifications { title } }`, {}, admin.accessToken);
    expect(inbox.data.notifications.filter((n: { title: string }) => n.title === 'New account Once Ltd')).toHaveLength(1);
    await t.gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }, admin.accessToken);
  });

  it('changedFields: only when one of the fields changed; UPDATE_FIELDS writes through the service', async () => {
    const ruleId = await rule({
      trigger: { type: 'RECORD_EVENT', events: ['opportunity.updated'], changedFields: ['amount'] },
      actions: [{ type: 'UPDATE_FIELDS', params: { fields: { probability: 40 } } }],
    });
    const opp = await t.gql(
      `mutation { createOpportunity(input: { name: "Deal", amount: { amount: "100", currency: "EUR" } }) { id } }`,
      {},
      admin.accessToken,
    );
    const id = opp.data.createOpportunity.id;
    await t.gql(`mutation($id: ID!) { updateOpportunity(id: $id, input: { name: "Deal renamed" }) { id } }`, { id }, admin.accessToken);
    await settle();
    expect((await runs(ruleId)).totalCount).toBe(0);
    await t.gql(`mutation($id: ID!) { updateOpportunity(id: $id, input: { amount: { amount: "250", currency: "EUR" } }) { id } }`, { id }, admin.accessToken);
    await settle();
    const got = await t.gql(`query($id: ID!) { opportunity(id: $id) { probability } }`, { id }, admin.accessToken);
    expect(got.data.opportunity.probability).toBe(40);
    expect((await runs(ruleId)).totalCount).toBe(1);
    await t.gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }, admin.accessToken);
  });

  it('the loop guard: a rule that retriggers itself stops after depth 3 with a recorded error', async () => {
    // Every task it creates is a new activity.created event: a loop, but for the guard.
    const ruleId = await rule({
      trigger: { type: 'RECORD_EVENT', events: ['activity.created'] },
      actions: [{ type: 'CREATE_TASK', params: { subject: 'Echo of {{record.subject}}' } }],
    });
    await t.gql(`mutation { createActivity(input: { type: NOTE, subject: "Origin" }) { id } }`, {}, admin.accessToken);
    for (let i = 0; i < 5; i++) await settle();
    const r = await runs(ruleId);
    const ok = r.nodes.filter((n: { status: string }) => n.status === 'SUCCEEDED');
    const guarded = r.nodes.filter((n: { error: string | null }) => n.error?.includes('loop guard'));
    expect(ok).toHaveLength(3);
    expect(guarded).toHaveLength(1);
    expect(guarded[0].actions).toEqual([]);
    const tasks = await t.sql<{ subject: string; depth: number }>(
      `SELECT data->>'subject' AS subject, depth FROM event WHERE type = 'activity.created' AND data->>'subject' LIKE 'Echo of%' ORDER BY depth`,
    );
    expect(tasks.map((x) => [x.depth, x.subject])).toEqual([
      [1, 'Echo of Origin'],
      [2, 'Echo of Echo of Origin'],
      [3, 'Echo of Echo of Echo of Origin'],
    ]);
    await t.gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }, admin.accessToken);
  });

  it('a failing action fails the run and keeps nothing of it; the run log says which action and why', async () => {
    const ruleId = await rule({
      trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
      actions: [
        { type: 'CREATE_TASK', params: { subject: 'Should vanish' } },
        { type: 'SEND_EMAIL', params: { to: 'OWNER', subject: 'Hi', body: 'Hello' } },
      ],
    });
    // An account created by an API key has no owner: the email has no recipient.
    const key = await t.gql(`mutation { createApiKey(input: { name: "w", scopes: [READ, WRITE] }) { secret } }`, {}, admin.accessToken);
    await t.gql(`mutation { createAccount(input: { name: "Ownerless" }) { id } }`, {}, key.data.createApiKey.secret);
    await settle();
    const r = await runs(ruleId);
    expect(r.nodes[0]).toMatchObject({
      status: 'FAILED',
      actions: [
        { type: 'CREATE_TASK', ok: true },
        { type: 'SEND_EMAIL', ok: false, error: expect.stringContaining('no owner') },
      ],
    });
    expect(await t.sql(`SELECT 1 FROM activity WHERE subject = 'Should vanish'`)).toHaveLength(0);
    await t.gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }, admin.accessToken);
  });

  it('refuses bad rules with an error naming what is wrong, and saves nothing', async () => {
    const bad = async (input: Record<string, unknown>) => {
      const r = await t.gql(
        CREATE_RULE,
        { i: { name: 'Bad', actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'x' } }], ...input } },
        admin.accessToken,
      );
      expect(r.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
      return r.errors![0].extensions.fields?.[0].field;
    };
    expect(await bad({ trigger: { type: 'SCHEDULE', cron: '61 * * * *' } })).toBe('input.trigger.cron');
    expect(await bad({ trigger: { type: 'SCHEDULE', cron: '0 8 * * 1', timezone: 'Mars/Olympus' } })).toBe('input.trigger.timezone');
    expect(await bad({ trigger: { type: 'RECORD_EVENT', events: ['lead.created'] }, conditions: { nope: { eq: 1 } } })).toMatch(/^input\.conditions/);
    expect(
      await bad({
        trigger: { type: 'RECORD_EVENT', events: ['lead.created'] },
        actions: [{ type: 'CREATE_TASK', params: { subject: 'Hi {{record.shoeSize}}' } }],
      }),
    ).toBe('input.actions[0].params.subject');
    expect(await bad({ trigger: { type: 'RECORD_EVENT', events: ['lead.created'] }, actions: [{ type: 'CREATE_TASK', params: {} }] })).toBe(
      'input.actions[0].params.subject',
    );
    expect(
      await bad({
        trigger: { type: 'RECORD_EVENT', events: ['lead.created'] },
        actions: [{ type: 'UPDATE_FIELDS', params: { fields: { email: 'not-an-email' } } }],
      }),
    ).toMatch(/^input\.actions\[0\]\.params\.fields/);
    expect(
      await bad({
        trigger: { type: 'RECORD_EVENT', events: ['lead.created'] },
        actions: [{ type: 'ASSIGN_OWNER', params: { userIds: ['00000000-0000-0000-0000-000000000000'] } }],
      }),
    ).toBe('input.actions[0].params.userIds');
    expect(await bad({ trigger: { type: 'DATE_RELATIVE', entityType: 'OPPORTUNITY', dateField: 'name', offsetDays: -7 } })).toBe('input.trigger.dateField');
    expect(await bad({ trigger: { type: 'INACTIVITY', entityType: 'PRODUCT', days: 3 } })).toBe('input.trigger.entityType');
    const list = await t.gql(`{ automationRules { id name } }`, {}, admin.accessToken);
    expect(list.data.automationRules.filter((r: { name: string }) => r.name === 'Bad')).toEqual([]);
    const rep = await t.gql(
      CREATE_RULE,
      { i: { name: 'x', trigger: { type: 'SCHEDULE', cron: '* * * * *' }, actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'x' } }] } },
      repA.token,
    );
    expect(rep.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('testAutomationRule is a dry run: it reports, and writes nothing', async () => {
    const ruleId = await rule({
      trigger: { type: 'RECORD_EVENT', events: ['lead.*'] },
      conditions: { company: { contains: 'acme' } },
      actions: [
        { type: 'ASSIGN_OWNER', params: { strategy: 'LEAST_LOADED', userIds: [repA.id, repB.id] } },
        { type: 'CREATE_TASK', params: { subject: 'Follow up {{record.company}}' } },
      ],
    });
    const lead = await t.gql(`mutation { createLead(input: { lastName: "Dry", company: "ACME Corp" }) { id version } }`, {}, admin.accessToken);
    const other = await t.gql(`mutation { createLead(input: { lastName: "Wet", company: "Other" }) { id } }`, {}, admin.accessToken);
    const eventsBefore = (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM event`))[0].n;
    const res = await t.gql(
      `mutation($id: ID!, $r: ID) { testAutomationRule(id: $id, recordId: $r) { conditionsMet actions { type ok summary details } } }`,
      { id: ruleId, r: lead.data.createLead.id },
      admin.accessToken,
    );
    expect(res.data.testAutomationRule.conditionsMet).toBe(true);
    expect(res.data.testAutomationRule.actions.map((a: { type: string; ok: boolean }) => [a.type, a.ok])).toEqual([
      ['ASSIGN_OWNER', true],
      ['CREATE_TASK', true],
    ]);
    expect(res.data.testAutomationRule.actions[1].summary).toContain('Follow up ACME Corp');
    const no = await t.gql(
      `mutation($id: ID!, $r: ID) { testAutomationRule(id: $id, recordId: $r) { conditionsMet actions { type } } }`,
      { id: ruleId, r: other.data.createLead.id },
      admin.accessToken,
    );
    expect(no.data.testAutomationRule).toEqual({ conditionsMet: false, actions: [] });
    expect((await t.sql(`SELECT count(*)::int AS n FROM event`))[0].n).toBe(eventsBefore + 0);
    expect((await runs(ruleId)).totalCount).toBe(0);
    await t.gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }, admin.accessToken);
  });

  describe('time-based triggers', () => {
    it('SCHEDULE: each due slot runs once across three engines, missed slots are caught up within the window, each record once per slot', async () => {
      const ruleId = await rule({
        trigger: { type: 'SCHEDULE', cron: '0 * * * *', timezone: 'Europe/Paris', entityType: 'ACCOUNT', query: { name: { startsWith: 'Sched' } } },
        actions: [{ type: 'CREATE_TASK', params: { subject: 'Hourly check {{record.name}}' } }],
      });
      await t.gql(
        `mutation { a: createAccount(input: { name: "Sched A" }) { id } b: createAccount(input: { name: "Sched B" }) { id } }`,
        {},
        admin.accessToken,
      );
      // Pretend the rule was made just after the hour, 5 hours ago: 5 hourly slots have come since.
      await t.sql(`UPDATE automation_rule SET created_at = date_trunc('hour', now()) - interval '5 hours' + interval '1 second' WHERE id = $1`, [ruleId]);
      const engines = [t.services.automation.engine, ...(await Promise.all([1, 2].map(() => startSecondInstance(t, { AUTOMATION_WORKERS: 'false' }))))];
      try {
        const now = new Date();
        const all = engines.map((e) => ('services' in e ? e.services.automation.engine : e));
        const counts = await Promise.all(all.map((e) => e.tick(now)));
        expect(counts.reduce((a, b) => a + b, 0)).toBe(10);
        const slots = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM automation_slot WHERE rule_id = $1`, [ruleId]);
        expect(slots[0].n).toBe(5);
        // Ticking again does nothing more.
        expect((await Promise.all(all.map((e) => e.tick(now)))).reduce((a, b) => a + b, 0)).toBe(0);
        const r = await runs(ruleId);
        expect(r.totalCount).toBe(10);
        expect(new Set(r.nodes.map((n: { occasion: string }) => n.occasion)).size).toBe(10);
      } finally {
        for (const e of engines) if ('close' in e) await e.close();
      }
      await t.gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }, admin.accessToken);
    });

    it('INACTIVITY: a stale open deal raises an alert once per quiet spell', async () => {
      const ruleId = await rule({
        trigger: { type: 'INACTIVITY', entityType: 'OPPORTUNITY', days: 14 },
        actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'Stale: {{record.name}}' } }],
      });
      const opp = await t.gql(`mutation { createOpportunity(input: { name: "Sleepy deal" }) { id } }`, {}, admin.accessToken);
      const id = opp.data.createOpportunity.id;
      await t.sql(`UPDATE opportunity_stage_history SET entered_at = now() - interval '20 days' WHERE opportunity_id = $1`, [id]);
      const engine = t.services.automation.engine;
      const in1h = new Date(Date.now() + 3600_000);
      await engine.tick(new Date());
      await engine.tick(in1h);
      const r = await runs(ruleId);
      expect(r.nodes.map((n: { entityId: string; status: string }) => [n.entityId, n.status])).toEqual([[id, 'SUCCEEDED']]);
      const inbox = await t.gql(`{ notifications { title } }`, {}, admin.accessToken);
      expect(inbox.data.notifications.filter((n: { title: string }) => n.title === 'Stale: Sleepy deal')).toHaveLength(1);
      await t.gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }, admin.accessToken);
    });

    it('DATE_RELATIVE: 7 days before expectedCloseDate, once per date', async () => {
      const ruleId = await rule({
        trigger: { type: 'DATE_RELATIVE', entityType: 'OPPORTUNITY', dateField: 'expectedCloseDate', offsetDays: -7 },
        actions: [{ type: 'CREATE_TASK', params: { subject: 'Closing soon: {{record.name}} on {{record.expectedCloseDate}}' } }],
      });
      const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
      // Due today; not yet; and one whose moment came before the rule existed (no flood of old alerts).
      await t.gql(
        `mutation($a: Date, $b: Date, $c: Date) { x: createOpportunity(input: { name: "Soon", expectedCloseDate: $a }) { id } y: createOpportunity(input: { name: "Later", expectedCloseDate: $b }) { id } z: createOpportunity(input: { name: "Past", expectedCloseDate: $c }) { id } }`,
        { a: inDays(7), b: inDays(30), c: inDays(5) },
        admin.accessToken,
      );
      await t.services.automation.engine.tick(new Date(Date.now() + 60_000));
      await t.services.automation.engine.tick(new Date(Date.now() + 3600_000));
      const r = await runs(ruleId);
      expect(r.nodes.map((n: { actions: { summary: string }[] }) => n.actions[0].summary)).toEqual([`created the task "Closing soon: Soon on ${inDays(7)}"`]);
      await t.gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }, admin.accessToken);
    });
  });

  it('waits for nothing it should not: the engine of a running app consumes events on its own', async () => {
    const app2 = await startSecondInstance(t);
    try {
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['product.created'] },
        actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'Product {{record.name}}' } }],
      });
      await t.gql(`mutation { createProduct(input: { name: "Widget", sku: "W-1" }) { id } }`, {}, admin.accessToken);
      const deadline = Date.now() + 10_000;
      let n = 0;
      while (Date.now() < deadline && n === 0) {
        n = (await runs(ruleId)).totalCount;
        if (!n) await new Promise((r) => setTimeout(r, 100));
      }
      expect(n).toBe(1);
    } finally {
      await app2.close();
    }
  });
});
