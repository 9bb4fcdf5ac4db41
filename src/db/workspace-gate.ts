import type { DataSource } from 'typeorm';

/** Thrown when a workspace waited too long for one of its connection slots (answered RATE_LIMITED). */
export class WorkspaceBusy extends Error {
  constructor(readonly max: number) {
    super(`This workspace already has ${max} database connections busy on this instance; retry shortly`);
  }
}

interface Slots {
  held: number;
  waiting: (() => void)[];
}

/**
 * How many pooled connections one workspace may hold at once on this instance. The pool is shared by
 * every tenant: without a cap, one workspace's slow requests (or its automation runs, its imports)
 * take every connection and every other tenant waits. A transaction takes a slot before it takes a
 * connection and gives it back when it ends; past the cap it waits, in order, at most `waitMs`.
 */
export class WorkspaceGate {
  private readonly slots = new Map<string, Slots>();

  constructor(
    readonly max: number,
    private readonly waitMs: number,
  ) {}

  /** Resolves with the function that gives the slot back (call it once). */
  async acquire(workspaceId: string): Promise<() => void> {
    let s = this.slots.get(workspaceId);
    if (!s) this.slots.set(workspaceId, (s = { held: 0, waiting: [] }));
    if (s.held < this.max) {
      s.held++;
      return this.releaser(workspaceId, s);
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer =
        this.waitMs > 0
          ? setTimeout(() => {
              const i = s.waiting.indexOf(grant);
              if (i >= 0) s.waiting.splice(i, 1);
              reject(new WorkspaceBusy(this.max));
            }, this.waitMs)
          : undefined;
      s.waiting.push(grant);
    });
    // The slot was handed over by its releaser: `held` did not go down in between.
    return this.releaser(workspaceId, s);
  }

  /** Slots held by a workspace now (for tests and metrics). */
  held(workspaceId: string): number {
    return this.slots.get(workspaceId)?.held ?? 0;
  }

  private releaser(workspaceId: string, s: Slots): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = s.waiting.shift();
      if (next) return next();
      s.held--;
      if (s.held === 0) this.slots.delete(workspaceId);
    };
  }
}

const gates = new WeakMap<DataSource, WorkspaceGate>();

/** Caps the connections each workspace holds on this data source's pool (see WorkspaceGate). */
export function limitConnectionsPerWorkspace(ds: DataSource, max: number, waitMs: number): WorkspaceGate {
  const gate = new WorkspaceGate(max, waitMs);
  gates.set(ds, gate);
  return gate;
}

export function workspaceGate(ds: DataSource): WorkspaceGate | undefined {
  return gates.get(ds);
}
