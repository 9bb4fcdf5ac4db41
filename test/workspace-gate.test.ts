import { WorkspaceBusy, WorkspaceGate } from '../src/db/workspace-gate';

// The per-workspace share of a pool, on its own (no database): order, waiting, refusal, heavy workspaces.

const A = 'workspace-a';
const B = 'workspace-b';

function gate(opts: { max: number; waitMs?: number; heavyAfterMs?: number }) {
  let now = 0;
  const g = new WorkspaceGate({ max: opts.max, waitMs: opts.waitMs ?? 0, heavyAfterMs: opts.heavyAfterMs ?? 0, now: () => now });
  return { g, advance: (ms: number) => (now += ms) };
}
const settled = () => new Promise((r) => setImmediate(r));

describe('WorkspaceGate', () => {
  it('gives a workspace at most its share at once, and the next slot to its waiters in order', async () => {
    const { g } = gate({ max: 2 });
    const first = await g.acquire(A);
    const second = await g.acquire(A);
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) => g.acquire(A).then((release) => (order.push(n), release)));
    await settled();
    expect(order).toEqual([]);
    expect(g.held(A)).toBe(2);
    // Another workspace is not held up by A's share.
    const other = await g.acquire(B);
    other();
    first();
    await settled();
    expect(order).toEqual([1]);
    second();
    second(); // a second release of the same slot changes nothing
    await settled();
    expect(order).toEqual([1, 2]);
    expect(g.held(A)).toBe(2);
    for (const release of await Promise.all(waiting.slice(0, 2))) release();
    await settled();
    expect(order).toEqual([1, 2, 3]);
    (await waiting[2])();
    expect(g.held(A)).toBe(0);
  });

  it('refuses a waiter after waitMs with WorkspaceBusy, and the slot it did not get goes to the next', async () => {
    const { g } = gate({ max: 1, waitMs: 30 });
    const held = await g.acquire(A);
    await expect(g.acquire(A)).rejects.toBeInstanceOf(WorkspaceBusy);
    const later = g.acquire(A);
    held();
    const release = await later;
    expect(g.held(A)).toBe(1);
    release();
    expect(g.held(A)).toBe(0);
  });

  it('holds a heavy workspace to one connection while another is active, and not when it is alone', async () => {
    const { g, advance } = gate({ max: 3, heavyAfterMs: 5000 });
    // A keeps three connections busy for 4 s: 12 connection-seconds, heavy.
    const a = [await g.acquire(A), await g.acquire(A), await g.acquire(A)];
    advance(4000);
    a.forEach((release) => release());
    expect(g.heavy(A)).toBe(true);
    // Alone, A still gets its whole share.
    const alone = [await g.acquire(A), await g.acquire(A), await g.acquire(A)];
    alone.forEach((release) => release());
    advance(3000);
    // B active: A gets one at a time.
    const b = await g.acquire(B);
    const one = await g.acquire(A);
    let second = false;
    const next = g.acquire(A).then((release) => ((second = true), release));
    await settled();
    expect(second).toBe(false);
    one();
    await settled();
    expect(second).toBe(true);
    (await next)();
    b();
    // Its usage decays (half-life 10 s): a minute later A is light again, B active or not.
    advance(60_000);
    expect(g.heavy(A)).toBe(false);
    const bAgain = await g.acquire(B);
    const light = [await g.acquire(A), await g.acquire(A)];
    expect(g.held(A)).toBe(2);
    light.forEach((release) => release());
    bAgain();
  });

  it('is relative: a busy workspace beside a busier one, or among equals, keeps its share', async () => {
    const { g, advance } = gate({ max: 3, heavyAfterMs: 5000 });
    // A 30 connection-seconds, B 8: both past the threshold.
    const a = await g.acquire(A);
    const b = await g.acquire(B);
    advance(8000);
    b();
    advance(22_000 - 8000);
    a();
    // B uses far less than A: B keeps its whole share while A is active.
    const keepA = await g.acquire(A);
    const bSlots = [await g.acquire(B), await g.acquire(B), await g.acquire(B)];
    expect(g.held(B)).toBe(3);
    bSlots.forEach((release) => release());
    keepA();
    // Among equals (C and D, 10 s each), neither is held to one.
    const C = 'workspace-c';
    const D = 'workspace-d';
    const { g: eq, advance: tick } = gate({ max: 2, heavyAfterMs: 5000 });
    const c = await eq.acquire(C);
    const d = await eq.acquire(D);
    tick(10_000);
    c();
    d();
    const both = [await eq.acquire(C), await eq.acquire(C), await eq.acquire(D), await eq.acquire(D)];
    expect([eq.held(C), eq.held(D)]).toEqual([2, 2]);
    both.forEach((release) => release());
  });
});
