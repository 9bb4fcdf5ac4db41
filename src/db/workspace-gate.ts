import type { DataSource } from 'typeorm';

/** Thrown when a workspace waited too long for one of its connection slots (answered SERVICE_UNAVAILABLE, as the pool's own wait is). */
export class WorkspaceBusy extends Error {
  constructor(readonly max: number) {
    super(`This workspace already has ${max} database connections busy on this instance; retry shortly`);
  }
}

interface GateOptions {
  /** Connections one workspace may hold at once. */
  max: number;
  /** How long a transaction waits for a slot before WorkspaceBusy; 0: no limit. */
  waitMs: number;
  /**
   * Slow connection time (ms: the part of each transaction past SLOW_AFTER_MS, decaying with a
   * half-life of USAGE_HALF_LIFE_MS) past which a workspace is heavy: while another workspace is
   * active, it holds one connection at a time. 0: never.
   */
  heavyAfterMs: number;
  now?: () => number;
}

interface Slots {
  held: number;
  /** When each held slot was taken (its time so far counts towards the usage). */
  starts: number[];
  /** Each waiter is called with the time its slot was taken. */
  waiting: ((start: number) => void)[];
  /** Connection time of released slots, decayed to `usageAt`. */
  usage: number;
  usageAt: number;
  /** Last time a slot was asked for or given back. */
  seen: number;
}

/**
 * Only the part of a transaction past this long counts as heavy use: short transactions, however
 * many, and however slowed down by others, never make a workspace heavy; slow statements do.
 */
const SLOW_AFTER_MS = 500;
/** How fast past connection time is forgotten: a workspace heavy a minute ago is light again. */
const USAGE_HALF_LIFE_MS = 10_000;
/** A workspace that asked for or gave back a slot this recently is active (it is someone to be fair to). */
const ACTIVE_MS = 2_000;

/**
 * How many pooled connections one workspace may hold at once on this instance. The pool is shared by
 * every tenant: without a cap, one workspace's slow requests (or its automation runs, its imports)
 * take every connection and every other tenant waits. A transaction takes a slot before it takes a
 * connection and gives it back when it ends; past the cap it waits, in order, at most `waitMs`.
 *
 * Connections are not the only thing shared: a slow statement holds a CPU core of the database for
 * as long as it runs. So a workspace's recent slow connection time is counted (the part of each
 * transaction past SLOW_AFTER_MS, decaying), and one that has run slow work for long (`heavyAfterMs`)
 * holds one connection at a time while any other workspace is active: its slow work goes on, one
 * statement after another, and the others keep the rest of the machine. Short transactions never
 * count, so a tenant with steady traffic is not throttled, even when a heavy neighbour slows it down.
 * Alone, nobody is throttled.
 */
export class WorkspaceGate {
  private readonly slots = new Map<string, Slots>();
  private readonly now: () => number;
  private releases = 0;

  constructor(private readonly opts: GateOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Resolves with the function that gives the slot back (call it once). */
  async acquire(workspaceId: string): Promise<() => void> {
    const now = this.now();
    let s = this.slots.get(workspaceId);
    if (!s) this.slots.set(workspaceId, (s = { held: 0, starts: [], waiting: [], usage: 0, usageAt: now, seen: now }));
    s.seen = now;
    if (!s.waiting.length && s.held < this.capOf(workspaceId, s, now)) return this.take(workspaceId, s, now);
    const slots = s;
    const start = await new Promise<number>((resolve, reject) => {
      const grant = (taken: number) => {
        clearTimeout(timer);
        resolve(taken);
      };
      const timer =
        this.opts.waitMs > 0
          ? setTimeout(() => {
              const i = slots.waiting.indexOf(grant);
              if (i >= 0) slots.waiting.splice(i, 1);
              reject(new WorkspaceBusy(this.capOf(workspaceId, slots, this.now())));
            }, this.opts.waitMs)
          : undefined;
      slots.waiting.push(grant);
    });
    // `pump` counted the slot as held when it granted it.
    return this.releaser(workspaceId, slots, start);
  }

  /** Slots held by a workspace now (for tests and metrics). */
  held(workspaceId: string): number {
    return this.slots.get(workspaceId)?.held ?? 0;
  }

  /** Whether the workspace counts as heavy now (its recent slow connection time is past heavyAfterMs). */
  heavy(workspaceId: string): boolean {
    const s = this.slots.get(workspaceId);
    return !!s && this.opts.heavyAfterMs > 0 && this.usageOf(s, this.now()) > this.opts.heavyAfterMs;
  }

  /**
   * Whether another workspace is active on this pool now (holds a slot, or asked for or gave one back
   * in the last ACTIVE_MS): background work of this workspace then yields (see ImportService).
   */
  contended(workspaceId: string): boolean {
    return this.othersActive(workspaceId, this.now());
  }

  private take(workspaceId: string, s: Slots, now: number): () => void {
    s.held++;
    s.starts.push(now);
    return this.releaser(workspaceId, s, now);
  }

  private releaser(workspaceId: string, s: Slots, start: number): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const now = this.now();
      s.held--;
      s.starts.splice(s.starts.indexOf(start), 1);
      s.usage = this.decayed(s, now) + Math.max(0, now - start - SLOW_AFTER_MS);
      s.usageAt = now;
      s.seen = now;
      this.pump(workspaceId, s, now);
      if (++this.releases % 1000 === 0) this.forgetIdle(now);
    };
  }

  /** Hands free slots to the workspace's waiters, in order, up to its cap. */
  private pump(workspaceId: string, s: Slots, now: number): void {
    while (s.waiting.length && s.held < this.capOf(workspaceId, s, now)) {
      s.held++;
      s.starts.push(now);
      s.waiting.shift()!(now);
    }
  }

  private capOf(workspaceId: string, s: Slots, now: number): number {
    const heavy = this.opts.heavyAfterMs > 0 && this.usageOf(s, now) > this.opts.heavyAfterMs && this.othersActive(workspaceId, now);
    return heavy ? 1 : this.opts.max;
  }

  private usageOf(s: Slots, now: number): number {
    let inFlight = 0;
    for (const start of s.starts) inFlight += Math.max(0, now - start - SLOW_AFTER_MS);
    return this.decayed(s, now) + inFlight;
  }

  private decayed(s: Slots, now: number): number {
    return s.usage * Math.pow(0.5, (now - s.usageAt) / USAGE_HALF_LIFE_MS);
  }

  private othersActive(workspaceId: string, now: number): boolean {
    for (const [id, s] of this.slots) if (id !== workspaceId && (s.held > 0 || now - s.seen < ACTIVE_MS)) return true;
    return false;
  }

  /** Workspaces with nothing held or waiting and their usage forgotten take no memory. */
  private forgetIdle(now: number): void {
    for (const [id, s] of this.slots) if (!s.held && !s.waiting.length && now - s.seen > ACTIVE_MS && this.decayed(s, now) < 10) this.slots.delete(id);
  }
}

const gates = new WeakMap<DataSource, WorkspaceGate>();

/** Caps the connections each workspace holds on this data source's pool (see WorkspaceGate). */
export function limitConnectionsPerWorkspace(ds: DataSource, opts: GateOptions): WorkspaceGate {
  const gate = new WorkspaceGate(opts);
  gates.set(ds, gate);
  return gate;
}

export function workspaceGate(ds: DataSource): WorkspaceGate | undefined {
  return gates.get(ds);
}
