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
    // A keeps three connections busy for 4 s: 3 x 3.5 s of slow work, heavy.
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

  it('counts only slow work: short transactions, however many and however slowed, never make a workspace heavy', async () => {
    const { g, advance } = gate({ max: 3, heavyAfterMs: 5000 });
    const other = await g.acquire(B);
    // A thousand transactions of 400 ms each: 400 connection-seconds, none of it past 500 ms.
    for (let i = 0; i < 1000; i++) {
      const release = await g.acquire(A);
      advance(400);
      release();
    }
    expect(g.heavy(A)).toBe(false);
    const slots = [await g.acquire(A), await g.acquire(A), await g.acquire(A)];
    expect(g.held(A)).toBe(3);
    slots.forEach((release) => release());
    // One slow statement of 6 s is 5.5 s of slow work: heavy.
    const slow = await g.acquire(A);
    advance(6000);
    slow();
    expect(g.heavy(A)).toBe(true);
    other();
  });

  it('says a workspace is contended while another holds a slot or used one in the last 2 s, not when it is alone', async () => {
    const { g, advance } = gate({ max: 2 });
    const a = await g.acquire(A);
    expect(g.contended(A)).toBe(false);
    const b = await g.acquire(B);
    expect(g.contended(A)).toBe(true);
    expect(g.contended(B)).toBe(true);
    b();
    advance(1900);
    expect(g.contended(A)).toBe(true);
    advance(200);
    expect(g.contended(A)).toBe(false);
    // A's own slots never make it contended.
    expect(g.contended(B)).toBe(true);
    a();
    advance(2100);
    expect(g.contended(B)).toBe(false);
  });
});
