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
