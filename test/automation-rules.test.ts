import { MAX_PAGE_SIZE } from '../src/data/connection';
import { apiKey, signUp, startSecondInstance, startTestApp, userWithRole, type SignedUp, type TestApp } from './helpers/app';
import { settleAutomation } from './helpers/automation';

const CREATE_RULE = `mutation($i: AutomationRuleInput!) { createAutomationRule(input: $i) { id version } }`;
const UPDATE_RULE = `mutation($id: ID!, $i: UpdateAutomationRuleInput!, $v: Int) { updateAutomationRule(id: $id, input: $i, expectedVersion: $v) { id name active version trigger { events } actions { type params } } }`;
const RUNS = `query($r: ID, $first: Int, $after: String) { automationRuns(ruleId: $r, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id status occasion entityId createdAt } } }`;

/** Schedules (catch-up window, time zones), lead intake, and managing rules and their runs. */
describe('automation rules', () => {
  let t: TestApp;
  let admin: SignedUp;
  let rep: { token: string; id: string; email: string };

  const gql = async (query: string, variables: Record<string, unknown> = {}, token = admin.accessToken) => {
    const r = await t.gql(query, variables, token);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data;
  };
  const rule = async (input: Record<string, unknown>) => (await gql(CREATE_RULE, { i: { name: 'Rule', ...input } })).createAutomationRule.id as string;
  const runs = async (ruleId: string | null, token = admin.accessToken) => (await gql(RUNS, { r: ruleId, first: 500 }, token)).automationRuns;
  const drop = (ruleId: string) => gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId });
  /**
   * Runs the engine until it has read every event committed so far. The log hands out an event once
   * no older transaction is still open anywhere on the server (other test files share it), so one
   * consume() may stop short: poll, with a deadline.
   */
  const settle = () => settleAutomation(t);
  const account = async (name: string, token = admin.accessToken) =>
    (await gql(`mutation($n: String!) { createAccount(input: { name: $n }) { id } }`, { n: name }, token)).createAccount.id as string;
  const slotsOf = async (ruleId: string) =>
    (await t.sql<{ slot: Date }>(`SELECT slot FROM automation_slot WHERE rule_id = $1 ORDER BY slot`, [ruleId])).map((r) => r.slot.toISOString());
  const occasionsOf = async (ruleId: string) =>
    (await t.sql<{ occasion: string }>(`SELECT occasion FROM automation_run WHERE rule_id = $1 ORDER BY occasion`, [ruleId])).map((r) => r.occasion);

  beforeAll(async () => {
    t = await startTestApp({ AUTOMATION_WORKERS: 'false' });
    admin = await signUp(t, 'Rules Co');
    rep = await userWithRole(t, admin, 'REP');
  });
  afterAll(() => t.close());

  describe('SCHEDULE', () => {
    it('after downtime, only the slots inside AUTOMATION_CATCH_UP_HOURS run, each once', async () => {
      const other = await startSecondInstance(t, { AUTOMATION_WORKERS: 'false', AUTOMATION_CATCH_UP_HOURS: '1' });
      let ruleId: string | null = null;
      try {
        const engine = other.services.automation.engine;
        ruleId = await rule({
          trigger: { type: 'SCHEDULE', cron: '*/20 * * * *' },
          actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'Every 20 minutes' } }],
        });
        // Made at 00:00:30; no instance ran until 05:30: 16 slots were missed, 3 of them in the last hour.
        await t.sql(`UPDATE automation_rule SET created_at = '2025-01-01T00:00:30Z' WHERE id = $1`, [ruleId]);
        expect(await engine.tick(new Date('2025-01-01T05:30:00Z'))).toBe(3);
        const expected = ['2025-01-01T04:40:00.000Z', '2025-01-01T05:00:00.000Z', '2025-01-01T05:20:00.000Z'];
        expect(await slotsOf(ruleId)).toEqual(expected);
        expect(await occasionsOf(ruleId)).toEqual(expected.map((s) => `slot:${s}`));
        expect(await engine.tick(new Date('2025-01-01T05:30:00Z'))).toBe(0);
        // The next tick an hour later: its own slots, never the old ones.
        expect(await engine.tick(new Date('2025-01-01T06:30:00Z'))).toBe(3);
        expect(await slotsOf(ruleId)).toEqual([...expected, '2025-01-01T05:40:00.000Z', '2025-01-01T06:00:00.000Z', '2025-01-01T06:20:00.000Z']);
        const inbox = await gql(`{ notifications { title } }`);
        expect(inbox.notifications.filter((n: { title: string }) => n.title === 'Every 20 minutes')).toHaveLength(6);
      } finally {
        if (ruleId) await drop(ruleId);
        await other.close();
      }
    });

    it('a cron in America/New_York fires at 9:00 local time: 14:00 UTC in winter, 13:00 UTC in summer, across the DST change', async () => {
      const engine = t.services.automation.engine;
      const ruleId = await rule({
        trigger: { type: 'SCHEDULE', cron: '0 9 * * *', timezone: 'America/New_York' },
        actions: [{ type: 'CREATE_TASK', params: { subject: 'Morning review' } }],
      });
      await t.sql(`UPDATE automation_rule SET created_at = '2025-03-07T00:00:00Z' WHERE id = $1`, [ruleId]);
      // Clocks went forward in New York on Sunday 9 March 2025 and back on Sunday 2 November.
      for (const now of ['2025-03-08T15:00:00Z', '2025-03-09T15:00:00Z', '2025-07-15T12:59:00Z', '2025-07-15T15:00:00Z', '2025-11-03T15:00:00Z'])
        await engine.tick(new Date(now));
      const expected = [
        '2025-03-08T14:00:00.000Z',
        '2025-03-09T13:00:00.000Z',
        '2025-07-14T13:00:00.000Z',
        '2025-07-15T13:00:00.000Z',
        '2025-11-03T14:00:00.000Z',
      ];
      expect(await slotsOf(ruleId)).toEqual(expected);
      expect(await occasionsOf(ruleId)).toEqual(expected.map((s) => `slot:${s}`));
      const r = await runs(ruleId);
      expect(r.nodes.every((n: { status: string }) => n.status === 'SUCCEEDED')).toBe(true);
      await drop(ruleId);
    });
  });

  describe('lead intake', () => {
    const post = (token: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${t.url}/intake/${token}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const leadCount = async () => (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM lead`))[0].n;
    const WORKSPACE_TOKEN = `{ me { workspace { id intakeToken } } }`;

    it('the token is visible to an ADMIN only; a bad or rotated-out token answers 404 and creates nothing', async () => {
      expect((await gql(WORKSPACE_TOKEN)).me.workspace.intakeToken).toBeNull();
      const first = (await gql(`mutation { rotateIntakeToken }`)).rotateIntakeToken as string;
      expect((await gql(WORKSPACE_TOKEN)).me.workspace.intakeToken).toBe(first);
      for (const token of [rep.token, (await apiKey(t, admin, ['READ', 'WRITE'])).secret]) {
        const r = await t.gql(WORKSPACE_TOKEN, {}, token);
        expect(r.errors?.map((e) => [e.extensions.code, e.path?.join('.')])).toEqual([['FORBIDDEN', 'me.workspace.intakeToken']]);
        expect(r.data.me.workspace).toEqual({ id: admin.workspaceId, intakeToken: null });
      }
      expect((await t.gql(`mutation { rotateIntakeToken }`, {}, rep.token)).errors?.[0].extensions.code).toBe('FORBIDDEN');
      expect((await gql(WORKSPACE_TOKEN)).me.workspace.intakeToken).toBe(first);

      expect((await post(first, { lastName: 'Before rotation' })).status).toBe(201);
      const second = (await gql(`mutation { rotateIntakeToken }`)).rotateIntakeToken as string;
      expect(second).not.toBe(first);
      const before = await leadCount();
      for (const token of [first, 'nope', `itk_${'A'.repeat(32)}`, `${second}x`]) {
        const res = await post(token, { lastName: 'Nobody' });
        expect([token, res.status]).toEqual([token, 404]);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
      }
      expect(await leadCount()).toBe(before);
      const ok = await post(second, { lastName: 'After rotation' });
      expect(ok.status).toBe(201);
      const { id } = (await ok.json()) as { id: string };
      expect((await gql(`query($id: ID!) { lead(id: $id) { lastName source } }`, { id })).lead).toEqual({ lastName: 'After rotation', source: 'WEB' });
    });

    it('rate-limits one address to 10 posts a minute: then 429 with Retry-After, and nothing created', async () => {
      const token = (await gql(`mutation { rotateIntakeToken }`)).rotateIntakeToken as string;
      const before = await leadCount();
      for (let i = 0; i < 10; i++) expect((await post(token, { lastName: `Flood ${i}` })).status).toBe(201);
      for (const headers of [{}, { 'x-forwarded-for': '203.0.113.7' }] as Record<string, string>[]) {
        const res = await post(token, { lastName: 'One too many' }, headers);
        expect(res.status).toBe(429);
        const wait = Number(res.headers.get('retry-after'));
        expect(Number.isInteger(wait) && wait >= 1 && wait <= 60).toBe(true);
        expect(((await res.json()) as { error: { code: string; retryAfterSeconds: number } }).error).toMatchObject({
          code: 'RATE_LIMITED',
          retryAfterSeconds: wait,
        });
      }
      expect(await leadCount()).toBe(before + 10);
      expect(await t.sql(`SELECT 1 FROM lead WHERE last_name = 'One too many'`)).toHaveLength(0);
    });
  });

  describe('managing rules', () => {
    it('updateAutomationRule: active false stops runs, true resumes them; new actions are checked like a new rule', async () => {
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
        conditions: { name: { startsWith: 'Pause' } },
        actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'Industry {{record.industry}}' } }],
      });
      const one = await account('Pause 1');
      await settle();
      expect((await runs(ruleId)).nodes.map((n: { entityId: string }) => n.entityId)).toEqual([one]);
      expect((await gql(UPDATE_RULE, { id: ruleId, i: { active: false } })).updateAutomationRule.active).toBe(false);
      await account('Pause 2');
      await settle();
      expect((await runs(ruleId)).totalCount).toBe(1);
      await gql(UPDATE_RULE, { id: ruleId, i: { active: true } });
      const three = await account('Pause 3');
      await settle();
      expect((await runs(ruleId)).nodes.map((n: { entityId: string }) => n.entityId)).toEqual([three, one]);

      const current = (await gql(`{ automationRules { id version actions { type params } } }`)).automationRules.find((r: { id: string }) => r.id === ruleId);
      const bad = async (i: Record<string, unknown>) => {
        const r = await t.gql(UPDATE_RULE, { id: ruleId, i }, admin.accessToken);
        expect(r.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
        return r.errors![0].extensions.fields?.map((f) => f.field);
      };
      expect(await bad({ actions: [{ type: 'CREATE_TASK', params: { subject: 'Hi {{record.shoeSize}}' } }] })).toEqual(['input.actions[0].params.subject']);
      expect(
        await bad({
          actions: [
            { type: 'NOTIFY', params: { to: 'ADMINS', title: 'ok' } },
            { type: 'ASSIGN_OWNER', params: { strategy: 'LOUDEST' } },
          ],
        }),
      ).toEqual(['input.actions[1].params.strategy']);
      expect((await bad({ actions: [] }))?.[0]).toMatch(/actions$/);
      // A new trigger re-checks the actions kept: leads have no industry.
      expect(await bad({ trigger: { type: 'RECORD_EVENT', events: ['lead.created'] }, conditions: null })).toEqual(['input.actions[0].params.title']);
      const unchanged = (await gql(`{ automationRules { id version actions { type params } } }`)).automationRules.find((r: { id: string }) => r.id === ruleId);
      expect(unchanged).toEqual(current);

      const stale = await t.gql(UPDATE_RULE, { id: ruleId, i: { name: 'Late' }, v: current.version - 1 }, admin.accessToken);
      expect(stale.errors?.[0].extensions.code).toBe('CONFLICT');
      const changed = await gql(UPDATE_RULE, {
        id: ruleId,
        i: { actions: [{ type: 'CREATE_TASK', params: { subject: 'Call about {{record.name}}' } }] },
        v: current.version,
      });
      expect(changed.updateAutomationRule.actions).toEqual([
        { type: 'CREATE_TASK', params: { subject: 'Call about {{record.name}}', body: null, assignee: null, dueInDays: null } },
      ]);
      const four = await account('Pause 4');
      await settle();
      expect(await t.sql(`SELECT subject FROM activity WHERE account_id = $1`, [four])).toEqual([{ subject: 'Call about Pause 4' }]);
      await drop(ruleId);
    });

    it('UPDATE_FIELDS: the records its fields name by id must exist in the workspace, on create and on update; a refused rule writes nothing', async () => {
      const other = await signUp(t, 'Elsewhere Co');
      const theirAccount = await account('Theirs', other.accessToken);
      const ours = await account('Ours');
      const gone = await account('Gone');
      await gql(`mutation($id: ID!) { deleteAccount(id: $id) { id } }`, { id: gone });
      const leaver = await userWithRole(t, admin, 'REP');
      await gql(`mutation($id: ID!) { deactivateUser(id: $id) { id } }`, { id: leaver.id });
      const nobody = '00000000-0000-4000-8000-000000000000';
      const pipelines = async (token = admin.accessToken) =>
        (await gql(`{ pipelines { nodes { id name stages { id kind } } } }`, {}, token)).pipelines.nodes as {
          id: string;
          name: string;
          stages: { id: string; kind: string }[];
        }[];
      const [main] = await pipelines();
      const second = (
        await gql(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id stages { id } } }`, {
          i: { name: 'Renewals', stages: [{ name: 'Open', probability: 10 }] },
        })
      ).createPipeline;
      const [theirPipeline] = await pipelines(other.accessToken);

      const written = async () =>
        (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM event WHERE workspace_id = $1 AND entity_type = 'automation_rule'`, [admin.workspaceId]))[0]
          .n;
      const before = await written();
      const onContacts = { type: 'RECORD_EVENT', events: ['contact.created'] };
      const onDeals = { type: 'RECORD_EVENT', events: ['opportunity.created'] };
      const onActivities = { type: 'RECORD_EVENT', events: ['activity.created'] };
      const setting = (fields: Record<string, unknown>) => ({ type: 'UPDATE_FIELDS', params: { fields } });
      /** The fields a refused rule names, with the error code. */
      const refused = async (trigger: Record<string, unknown>, actions: Record<string, unknown>[]) => {
        const r = await t.gql(CREATE_RULE, { i: { name: 'Refs', trigger, actions } }, admin.accessToken);
        return [r.errors?.[0].extensions.code, r.errors?.[0].extensions.fields?.map((f) => f.field)];
      };
      const at = (i: number, ...fields: string[]) => ['BAD_USER_INPUT', fields.map((f) => `input.actions[${i}].params.fields.${f}`)];

      expect(await refused(onContacts, [setting({ ownerId: nobody })])).toEqual(at(0, 'ownerId'));
      expect(await refused(onContacts, [setting({ ownerId: leaver.id })])).toEqual(at(0, 'ownerId'));
      expect(await refused(onContacts, [setting({ accountId: theirAccount })])).toEqual(at(0, 'accountId'));
      expect(await refused(onContacts, [setting({ accountId: gone })])).toEqual(at(0, 'accountId'));
      expect(await refused(onContacts, [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'x' } }, setting({ accountId: ours, ownerId: nobody })])).toEqual(
        at(1, 'ownerId'),
      );
      expect(await refused(onDeals, [setting({ primaryContactId: nobody, ownerId: nobody })])).toEqual(at(0, 'primaryContactId', 'ownerId'));
      expect(await refused(onDeals, [setting({ stageId: nobody })])).toEqual(at(0, 'stageId'));
      expect(await refused(onDeals, [setting({ stageId: theirPipeline.stages[0].id })])).toEqual(at(0, 'stageId'));
      expect(await refused(onDeals, [setting({ pipelineId: theirPipeline.id })])).toEqual(at(0, 'pipelineId'));
      expect(await refused(onDeals, [setting({ pipelineId: second.id, stageId: main.stages[0].id })])).toEqual(at(0, 'stageId'));
      expect(await refused(onActivities, [setting({ leadId: nobody })])).toEqual(at(0, 'leadId'));
      expect(await written()).toBe(before);
      expect((await gql(`{ automationRules { name } }`)).automationRules.filter((r: { name: string }) => r.name === 'Refs')).toEqual([]);

      // Ids of this workspace are accepted, and the rule sets them.
      const ruleId = await rule({ trigger: onContacts, actions: [setting({ accountId: ours, ownerId: rep.id })] });
      const dealRule = await rule({ trigger: onDeals, actions: [setting({ pipelineId: second.id, stageId: second.stages[0].id })] });
      const update = async (fields: Record<string, unknown>) => {
        const r = await t.gql(UPDATE_RULE, { id: ruleId, i: { actions: [setting(fields)] } }, admin.accessToken);
        return [r.errors?.[0].extensions.code, r.errors?.[0].extensions.fields?.map((f) => f.field)];
      };
      const saved = await t.sql(`SELECT version, actions FROM automation_rule WHERE id = $1`, [ruleId]);
      const afterCreate = await written();
      expect(await update({ ownerId: nobody })).toEqual(at(0, 'ownerId'));
      expect(await update({ accountId: theirAccount })).toEqual(at(0, 'accountId'));
      expect(await t.sql(`SELECT version, actions FROM automation_rule WHERE id = $1`, [ruleId])).toEqual(saved);
      expect(await written()).toBe(afterCreate);

      const contact = (await gql(`mutation { createContact(input: { lastName: "Refs" }) { id } }`)).createContact.id;
      await settle();
      expect(await t.sql(`SELECT account_id, owner_id FROM contact WHERE id = $1`, [contact])).toEqual([{ account_id: ours, owner_id: rep.id }]);
      await drop(ruleId);
      await drop(dealRule);
    });

    it('a rule about no records keeps working when its schedule is changed', async () => {
      const ruleId = await rule({
        trigger: { type: 'SCHEDULE', cron: '0 8 * * 1' },
        actions: [{ type: 'CREATE_TASK', params: { subject: 'Weekly pipeline review' } }],
      });
      const r = await t.gql(UPDATE_RULE, { id: ruleId, i: { trigger: { type: 'SCHEDULE', cron: '0 9 * * 1', timezone: 'Europe/Paris' } } }, admin.accessToken);
      expect(r.errors).toBeUndefined();
      await t.sql(`UPDATE automation_rule SET created_at = '2025-06-01T00:00:00Z' WHERE id = $1`, [ruleId]);
      await t.services.automation.engine.tick(new Date('2025-06-02T08:00:00Z'));
      expect(await occasionsOf(ruleId)).toEqual(['slot:2025-06-02T07:00:00.000Z']);
      expect(await t.sql(`SELECT owner_id FROM activity WHERE subject = 'Weekly pipeline review'`)).toEqual([{ owner_id: null }]);
      await drop(ruleId);
    });

    it('deleteAutomationRule: the rule is gone and runs no more; its runs stay in the log', async () => {
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
        conditions: { name: { startsWith: 'Doomed' } },
        actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'Doomed' } }],
      });
      await account('Doomed 1');
      await settle();
      const [run] = (await runs(ruleId)).nodes;
      expect((await gql(`mutation($id: ID!) { deleteAutomationRule(id: $id) { id active } }`, { id: ruleId })).deleteAutomationRule).toEqual({
        id: ruleId,
        active: false,
      });
      expect((await gql(`{ automationRules { id } }`)).automationRules.map((r: { id: string }) => r.id)).not.toContain(ruleId);
      for (const [q, v] of [
        [UPDATE_RULE, { id: ruleId, i: { active: true } }],
        [`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }],
        [`mutation($id: ID!) { testAutomationRule(id: $id) { conditionsMet } }`, { id: ruleId }],
      ] as const) {
        expect((await t.gql(q, v, admin.accessToken)).errors?.[0].extensions.code).toBe('NOT_FOUND');
      }
      await account('Doomed 2');
      await settle();
      const all = await runs(null);
      expect(all.nodes.filter((n: { id: string }) => n.id === run.id)).toHaveLength(1);
      expect(await t.sql(`SELECT 1 FROM automation_run WHERE rule_id = $1`, [ruleId])).toHaveLength(1);
    });

    it('automationRuns pages with first/after, newest first, without gaps or repeats', async () => {
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
        conditions: { name: { startsWith: 'Paged' } },
        actions: [{ type: 'NOTIFY', params: { to: 'ADMINS', title: 'Paged' } }],
      });
      const made: string[] = [];
      for (let i = 0; i < 5; i++) {
        made.push(await account(`Paged ${i}`));
        await settle();
      }
      const seen: { id: string; entityId: string; createdAt: string }[] = [];
      const sizes: number[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = (await gql(RUNS, { r: ruleId, first: 2, after })).automationRuns;
        expect(page.totalCount).toBe(5);
        sizes.push(page.nodes.length);
        seen.push(...page.nodes);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(sizes).toEqual([2, 2, 1]);
      expect(seen.map((n) => n.entityId)).toEqual([...made].reverse());
      expect(new Set(seen.map((n) => n.id)).size).toBe(5);
      expect((await t.gql(RUNS, { r: ruleId, first: MAX_PAGE_SIZE + 1 }, admin.accessToken)).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
      expect((await t.gql(RUNS, { r: ruleId }, rep.token)).errors?.[0].extensions.code).toBe('FORBIDDEN');
      await drop(ruleId);
    });

    it('another workspace cannot see, change, test or run a rule: NOT_FOUND, and none of its runs, emails or rules', async () => {
      const ruleId = await rule({
        trigger: { type: 'RECORD_EVENT', events: ['account.created'] },
        conditions: { name: { startsWith: 'Tenant' } },
        actions: [{ type: 'SEND_EMAIL', params: { to: 'ops@example.com', subject: 'Tenant {{record.name}}', body: 'x' } }],
      });
      await account('Tenant One');
      await settle();
      expect((await runs(ruleId)).totalCount).toBe(1);
      const other = await signUp(t, 'Other Co');
      for (const [q, v] of [
        [UPDATE_RULE, { id: ruleId, i: { active: false } }],
        [`mutation($id: ID!) { deleteAutomationRule(id: $id) { id } }`, { id: ruleId }],
        [`mutation($id: ID!) { testAutomationRule(id: $id) { conditionsMet } }`, { id: ruleId }],
        [RUNS, { r: ruleId }],
      ] as const) {
        const r = await t.gql(q, v, other.accessToken);
        expect(r.errors?.[0].extensions.code).toBe('NOT_FOUND');
      }
      expect((await runs(null, other.accessToken)).totalCount).toBe(0);
      expect((await gql(`{ sentEmails { totalCount } }`, {}, other.accessToken)).sentEmails.totalCount).toBe(0);
      expect((await gql(`{ automationRules { id } }`, {}, other.accessToken)).automationRules).toEqual([]);
      // Its events do not run our rule; our users cannot be named in its rules.
      await account('Tenant Two', other.accessToken);
      await settle();
      expect((await runs(ruleId)).totalCount).toBe(1);
      for (const [action, field] of [
        [{ type: 'ASSIGN_OWNER', params: { userIds: [rep.id] } }, 'input.actions[0].params.userIds'],
        [{ type: 'NOTIFY', params: { to: rep.id, title: 'x' } }, 'input.actions[0].params.to'],
        [{ type: 'CREATE_TASK', params: { subject: 'x', assignee: rep.id } }, 'input.actions[0].params.assignee'],
      ] as const) {
        const r = await t.gql(
          CREATE_RULE,
          { i: { name: 'Cross', trigger: { type: 'RECORD_EVENT', events: ['account.created'] }, actions: [action] } },
          other.accessToken,
        );
        expect([r.errors?.[0].extensions.code, r.errors?.[0].extensions.fields?.[0].field]).toEqual(['BAD_USER_INPUT', field]);
      }
      const still = await gql(`{ automationRules { id active } }`);
      expect(still.automationRules).toContainEqual({ id: ruleId, active: true });
      await drop(ruleId);
    });
  });
});
