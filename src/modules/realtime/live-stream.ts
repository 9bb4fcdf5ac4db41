import { Repeater } from '@repeaterjs/repeater';
import { AppError } from '../../graphql/errors';
import type { RequestContext } from '../../graphql/context';

export interface Emitter<T> {
  /** Queues a value for the subscriber; resolves once it has taken it. */
  push(value: T): Promise<unknown>;
  /** Ends the subscription with an error the subscriber sees. */
  fail(err: Error): void;
  /** Ends the subscription once what was pushed is delivered. */
  complete(): void;
  readonly closed: boolean;
}

/**
 * The source of one subscription. `setup` starts producing and returns its cleanup, which runs when
 * the subscriber leaves (or the stream fails). A subscriber that falls `maxQueue` values behind is
 * not buffered without end: it gets a RATE_LIMITED error and the stream ends; it resumes with `after`.
 * Errors travel as values, so that the field resolver throws them and the subscriber receives a
 * well-formed GraphQL error rather than a closed socket.
 */
let open = 0;
/** Subscriptions being served by this process (for /metrics). */
export const openStreams = () => open;

export function liveStream<T>(maxQueue: number, setup: (emit: Emitter<T>) => (() => void) | Promise<() => void>): AsyncIterable<T | Error> {
  return new Repeater<T | Error>(async (push, stop) => {
    let pending = 0;
    let closed = false;
    const end = (err?: Error) => {
      if (closed) return;
      closed = true;
      if (err) void push(err).catch(() => undefined);
      stop();
    };
    const emit: Emitter<T> = {
      push(value) {
        if (closed) return Promise.resolve();
        if (pending >= maxQueue) {
          end(new AppError('RATE_LIMITED', `This subscriber fell ${maxQueue} events behind and was cut off: subscribe again with \`after\` set to the last cursor it received`, { reason: 'SUBSCRIBER_TOO_SLOW' }));
          return Promise.resolve();
        }
        pending++;
        return push(value).finally(() => pending--);
      },
      fail: (err) => end(err),
      complete: () => end(),
      get closed() {
        return closed;
      },
    };
    let cleanup: (() => void) | undefined;
    open++;
    try {
      try {
        cleanup = await setup(emit);
      } catch (err) {
        end(err as Error);
      }
      await stop;
      closed = true;
      cleanup?.();
    } finally {
      open--;
    }
  });
}

/**
 * graphql-ws builds one context per subscription and executes every event with it: each event gets a
 * fresh transaction and fresh loaders here, so nothing is served from an earlier event's cache.
 * (ws.ts commits that transaction once the event's result is out.)
 */
export function perEvent<T>(ctx: RequestContext, source: AsyncIterable<T>): AsyncIterableIterator<T> {
  const it = source[Symbol.asyncIterator]();
  return {
    async next() {
      const r = await it.next();
      if (!r.done) await ctx.beginEvent();
      return r;
    },
    return: (value?: unknown) => it.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
    throw: (err?: unknown) => it.throw?.(err) ?? Promise.reject(err),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
