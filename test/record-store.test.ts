import { signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';
// After the helpers, which load reflect-metadata for the decorators of src/.
import { inWorkspace } from '../src/db/tenant-transaction';
import type { ServiceContext } from '../src/data/context';
import { systemViewer, SYSTEM_ACTOR } from '../src/kernel/viewer';
import { AUTOMATION_RULE_STORE } from '../src/modules/automation/automation-rule.service';
import { ActionType, TriggerType } from '../src/modules/automation/automation-rule.entity';
import { insertRecord, updateRecord } from '../src/data/record-store';
import { WEBHOOK_ENDPOINT_STORE } from '../src/modules/webhooks/webhook-endpoint.service';

/**
 * The record store writes each value as its column's type wants it: a JS array is a JSON array in a
 * jsonb column and a PostgreSQL array in an array column; null is SQL NULL in both.
 */
describe('record store values by column type', () => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Record store');
  });
  afterAll(() => t.close());

  const inCtx = <R>(fn: (ctx: ServiceContext) => Promise<R>) =>
    inWorkspace(t.ds, admin.workspaceId, (tx) => fn({ tx, viewer: systemViewer(admin.workspaceId), actor: SYSTEM_ACTOR }));

  it('updates a jsonb column holding an array, and reads it back as the same array', async () => {
    const first = [{ type: ActionType.NOTIFY, params: { to: 'ADMINS', title: 'one' } }];
    const second = [
      { type: ActionType.NOTIFY, params: { to: 'ADMINS', title: 'two' } },
      { type: ActionType.CREATE_TASK, params: { subject: 'Call', tags: ['a', 'b'] } },
    ];
    const trigger = { type: TriggerType.RECORD_EVENT, events: ['lead.created'] };
    const id = await inCtx(
      async (ctx) =>
        (await insertRecord(ctx, AUTOMATION_RULE_STORE, { name: 'Store', active: true, trigger, triggerType: trigger.type, conditions: null, actions: first }))
          .record.id,
    );

    const updated = await inCtx(
      async (ctx) => (await updateRecord(ctx, AUTOMATION_RULE_STORE, id, { actions: second, conditions: { status: { eq: 'NEW' } } })).record,
    );
    expect(updated.actions).toEqual(second);
    expect(updated.version).toBe(2);
    const [row] = await t.sql<{ actions: unknown; kind: string; conditions: unknown }>(
      `SELECT actions, jsonb_typeof(actions) AS kind, conditions FROM automation_rule WHERE id = $1`,
      [id],
    );
    expect(row).toEqual({ actions: second, kind: 'array', conditions: { status: { eq: 'NEW' } } });

    // null in a jsonb column is SQL NULL, not the JSON null.
    await inCtx((ctx) => updateRecord(ctx, AUTOMATION_RULE_STORE, id, { conditions: null }));
    const [cleared] = await t.sql<{ isNull: boolean }>(`SELECT conditions IS NULL AS "isNull" FROM automation_rule WHERE id = $1`, [id]);
    expect(cleared.isNull).toBe(true);

    // The event records the new actions too.
    const events = await t.sql<{ data: { actions: unknown } }>(`SELECT data FROM event WHERE entity_id = $1 AND type = 'automation_rule.updated' ORDER BY id`, [
      id,
    ]);
    expect(events[0].data.actions).toEqual(second);
  });

  it('updates a text[] column with a JS array as a PostgreSQL array', async () => {
    const id = await inCtx(
      async (ctx) =>
        (
          await insertRecord(ctx, WEBHOOK_ENDPOINT_STORE, {
            url: 'https://example.com/hook',
            events: ['lead.created'],
            filter: null,
            secret: 'whsec_test',
            active: true,
          })
        ).record.id,
    );
    const updated = await inCtx(async (ctx) => (await updateRecord(ctx, WEBHOOK_ENDPOINT_STORE, id, { events: ['lead.*', 'opportunity.won'] })).record);
    expect(updated.events).toEqual(['lead.*', 'opportunity.won']);
    const [row] = await t.sql<{ events: string[]; type: string }>(`SELECT events, pg_typeof(events)::text AS type FROM webhook_endpoint WHERE id = $1`, [id]);
    expect(row).toEqual({ events: ['lead.*', 'opportunity.won'], type: 'text[]' });
  });
});
