/**
 * Waiting for a condition that events make true: `until(done)` resolves as soon as `done()` holds,
 * checked at once and after each `notify()`, and rejects with `message()` after `ms`. The subscription
 * helpers (WebSocket, SSE) notify on every message they receive.
 */
export function condition(): { notify: () => void; until: (done: () => boolean, ms: number, message: () => string) => Promise<void> } {
  const waiters: (() => void)[] = [];
  return {
    notify: () => waiters.splice(0).forEach((w) => w()),
    until: (done, ms, message) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (done()) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        const timer = setTimeout(() => reject(new Error(message())), ms);
        check();
      }),
  };
}

/** What a subscription helper records: its results, and how it ended (if it has). */
interface Recorded {
  results: { data?: unknown }[];
  failure?: unknown;
  completed: boolean;
}

/**
 * The waits both subscription helpers (WebSocket, SSE) offer, on what `s` records: `waitFor(n)`
 * resolves once n results arrived (or the subscription ended), `ended()` once it completed or failed.
 * Each rejects after `ms` naming what was received: 30 s by default, because events are handed out
 * only once every older writing transaction of the whole PostgreSQL cluster has ended, and the test
 * files share one cluster: another file's long write (an all-or-none import) holds this file's
 * events back for its length (seen twice on CI at 10 s; see the issue 17 note).
 */
export function resultWaiters(s: Recorded, until: ReturnType<typeof condition>['until']) {
  return {
    waitFor(count: number, ms = 30_000): Promise<void> {
      return until(
        () => s.results.length >= count || !!s.failure || s.completed,
        ms,
        () => `expected ${count} results, got ${s.results.length}: ${JSON.stringify(s.results.slice(-3))} ${JSON.stringify(s.failure ?? null)}`,
      );
    },
    ended(ms = 10_000): Promise<void> {
      return until(
        () => s.completed || !!s.failure,
        ms,
        () => `the subscription did not end: ${JSON.stringify(s.results.slice(-3))}`,
      );
    },
  };
}
