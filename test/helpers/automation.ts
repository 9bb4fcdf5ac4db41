import type { TestApp } from './app';

/**
 * Runs the automation engine until its cursor has passed every event in the log. One consume() may
 * stop short: the engine reads only events older than every transaction still running on the
 * Postgres server, which other test files share.
 */
export async function settleAutomation(t: TestApp, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    await t.services.automation.engine.consume();
    const [{ behind }] = await t.sql<{ behind: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM event e, automation_cursor c WHERE (e.tx_id, e.id) > (c.tx, c.seq)) AS behind`,
    );
    if (!behind) return;
    if (Date.now() > deadline) throw new Error('the automation engine did not catch up with the event log');
    await new Promise((r) => setTimeout(r, 25));
  }
}
