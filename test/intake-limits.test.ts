import { settleAutomation } from './helpers/automation';
import { signUp, startSecondInstance, startTestApp, type SignedUp, type TestApp } from './helpers/app';

// Finding 13 of issue 17: the public intake's limits were per instance and in memory (N instances,
// N times the limit), and a SEND_EMAIL rule on web leads made the workspace's SMTP an open relay
// for anyone holding the form's token.

describe('public intake limits, shared by every instance', () => {
  let t: TestApp;
  let second: Awaited<ReturnType<typeof startSecondInstance>>;
  let admin: SignedUp;
  let token: string;
  const env = {
    TRUST_PROXY: 'loopback',
    INTAKE_SUBMISSIONS_PER_ADDRESS_PER_MINUTE: '3',
    INTAKE_SUBMISSIONS_PER_FORM_PER_MINUTE: '5',
    WEBHOOK_WORKERS: 'false',
    AUTOMATION_WORKERS: 'false',
  };
  beforeAll(async () => {
    t = await startTestApp(env);
    second = await startSecondInstance(t, env);
    admin = await signUp(t, 'Intake Limits Co');
    token = (await t.gql('mutation { rotateIntakeToken }', {}, admin.accessToken)).data.rotateIntakeToken;
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  const post = (base: string, address: string, lastName: string) =>
    fetch(`${base}/intake/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ lastName }),
    });
  const leads = async () => (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM lead WHERE workspace_id = $1`, [admin.workspaceId]))[0].n;

  it('per address and form: 3 a minute in all, across both instances', async () => {
    const before = await leads();
    const statuses = [];
    for (const [i, base] of [t.url, second.url, t.url, second.url, t.url].entries()) statuses.push((await post(base, '198.51.100.1', `Address ${i}`)).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    expect(await leads()).toBe(before + 3);
    const refused = await post(second.url, '198.51.100.1', 'Again');
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as any).error.code).toBe('RATE_LIMITED');
  });

  it('per form: 5 a minute in all, whatever the addresses and instances', async () => {
    // 3 already taken above; 2 more from new addresses, then none.
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(i % 2 ? second.url : t.url, `198.51.100.${10 + i}`, `Form ${i}`)).status);
    expect(statuses).toEqual([201, 201, 429, 429]);
  });
});

describe('the daily cap on automation emails', () => {
  let t: TestApp;
  const CAP = 2;
  beforeAll(async () => {
    t = await startTestApp({ AUTOMATION_WORKERS: 'false', WEBHOOK_WORKERS: 'false', AUTOMATION_EMAILS_PER_DAY: String(CAP) });
  });
  afterAll(() => t.close());

  /** A workspace with a welcome-email rule on web leads, and its intake token. */
  const workspace = async (name: string) => {
    const admin = await signUp(t, name);
    const rule = await t.gql(
      `mutation($i: AutomationRuleInput!) { createAutomationRule(input: $i) { id } }`,
      {
        i: {
          name: 'Welcome',
          trigger: { type: 'RECORD_EVENT', events: ['lead.created'] },
          actions: [{ type: 'SEND_EMAIL', params: { to: 'RECORD', subject: 'Welcome {{record.lastName}}', body: 'Hello' } }],
        },
      },
      admin.accessToken,
    );
    expect(rule.errors).toBeUndefined();
    const token = (await t.gql('mutation { rotateIntakeToken }', {}, admin.accessToken)).data.rotateIntakeToken as string;
    const submit = async (i: number) => {
      const r = await fetch(`${t.url}/intake/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ lastName: `Lead ${i}`, email: `lead${i}@${name.replace(/\W/g, '').toLowerCase()}.test` }),
      });
      expect(r.status).toBe(201);
    };
    const runs = async () =>
      (await t.gql(`{ automationRuns(first: 50) { nodes { status error actions { type ok error } } } }`, {}, admin.accessToken)).data.automationRuns.nodes as {
        status: string;
        error: string | null;
        actions: { ok: boolean; error: string | null }[];
      }[];
    const sent = async () => (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM sent_email WHERE workspace_id = $1`, [admin.workspaceId]))[0].n;
    return { admin, submit, runs, sent };
  };

  it('past the cap a run is FAILED with the reason in its log, and nothing is sent; other workspaces have their own cap', async () => {
    const a = await workspace('Relay A');
    for (let i = 0; i < CAP + 2; i++) await a.submit(i);
    await settleAutomation(t);
    expect(await a.sent()).toBe(CAP);
    const runs = await a.runs();
    expect(runs.map((r) => r.status).sort()).toEqual([...Array(CAP).fill('SUCCEEDED'), 'FAILED', 'FAILED'].sort());
    for (const failed of runs.filter((r) => r.status === 'FAILED')) {
      expect(failed.error).toMatch(new RegExp(`daily cap of ${CAP} automation emails`));
      expect(failed.error).toMatch(/AUTOMATION_EMAILS_PER_DAY/);
      expect(failed.actions[0]).toMatchObject({ ok: false, error: expect.stringMatching(/daily cap/) });
    }

    const b = await workspace('Relay B');
    await b.submit(0);
    await settleAutomation(t);
    expect(await b.sent()).toBe(1);
    expect((await b.runs()).map((r) => r.status)).toEqual(['SUCCEEDED']);
  });

  it('emails older than a day no longer count', async () => {
    const c = await workspace('Relay C');
    for (let i = 0; i < CAP; i++) await c.submit(i);
    await settleAutomation(t);
    expect(await c.sent()).toBe(CAP);
    await t.sql(`UPDATE sent_email SET created_at = created_at - interval '25 hours' WHERE workspace_id = $1`, [c.admin.workspaceId]);
    await c.submit(CAP);
    await settleAutomation(t);
    expect(await c.sent()).toBe(CAP + 1);
  });
});
