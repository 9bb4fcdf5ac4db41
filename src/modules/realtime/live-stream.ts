import { AppError } from '../../graphql/errors';
import type { RequestContext } from '../../graphql/context';

export interface Emitter<T> {
  /** Queues a value for the subscriber. */
  push(value: T): void;
  /** Queues a value; resolves once the subscriber has taken it (a replay paces itself by this). */
  pushAndWait(value: T): Promise<void>;
  /** Ends the subscription with an error the subscriber sees. */
  fail(err: Error): void;
  /** Ends the subscription once what was pushed is delivered. */
  complete(): void;
  readonly closed: boolean;
}

/**
 * A way to deliver a subscription's values without the iterator (graphql-ws' loop, the result
 * mapping, a promise per value): shared-execution.ts writes a value's shared result straight to the
 * subscriber's socket. It is offered a value only when that keeps the order; the stream holds back
 * what it does not take until what it took is written, and counts what it holds against maxQueue.
 */
export interface DirectSink<T> {
  /** Takes `value` for delivery (true), or leaves it to the iterator (false). Called only when the iterator has delivered everything before it. */
  offer(value: T | Error): boolean;
  /** Values taken and not yet written. */
  readonly pending: number;
  /** Called by the sink when `pending` drops to 0. */
  onIdle: (() => void) | null;
  /** Called by the sink when a value it took cannot be delivered: the stream ends with that error. */
  onFail: ((err: Error) => void) | null;
  /** The stream ended: nothing more is written. */
  cancel(): void;
}

const DIRECT = Symbol('direct sink');

/** Lets `sink` take `stream`'s values (when `stream` is a liveStream; other sources are left as they are). */
export function attachDirectSink<T>(stream: AsyncIterable<T | Error>, sink: DirectSink<T> | undefined): void {
  const attach = (stream as { [DIRECT]?: (sink: DirectSink<T>) => void })[DIRECT];
  if (sink && attach) attach(sink);
}

/**
 * The source of one subscription. `setup` starts producing (when the subscriber first asks for a
 * value) and returns its cleanup, which runs when the subscriber leaves or the stream ends. A
 * subscriber that falls `maxQueue` values behind is not buffered without end: it gets a RATE_LIMITED
 * error and the stream ends; it resumes with `after`. Errors travel as values, so that the field
 * resolver throws them and the subscriber receives a well-formed GraphQL error rather than a closed socket.
 *
 * A plain queue rather than a general push-iterator library: with one event going to a thousand
 * subscribers, each push is on the hot path, and a push here is an array append (a value handed
 * straight to a waiting subscriber when there is one), not a promise per value.
 */
let open = 0;
/** Subscriptions being served by this process (for /metrics). */
export const openStreams = () => open;

type Item<T> = { value: T | Error; taken?: () => void };
const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined }) as IteratorResult<never>;

export function liveStream<T>(maxQueue: number, setup: (emit: Emitter<T>) => (() => void) | Promise<() => void>): AsyncIterableIterator<T | Error> {
  let queue: (Item<T> | undefined)[] = [];
  let head = 0;
  let waiter: ((r: IteratorResult<T | Error>) => void) | null = null;
  /** No more values are accepted (those queued are still delivered). */
  let closed = false;
  let started = false;
  let finished = false;
  let cleanup: (() => void) | undefined;
  let sink: DirectSink<T> | null = null;
  /** Stops the producer (once): at the end of the stream, before what is queued is delivered. */
  const stopProducing = () => {
    const stop = cleanup;
    cleanup = undefined;
    stop?.();
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    closed = true;
    for (let i = head; i < queue.length; i++) queue[i]?.taken?.();
    queue = [];
    head = 0;
    open--;
    sink?.cancel();
    stopProducing();
  };
  /** Hands the waiting iterator its next value, or the end; not while the sink has writes to make first. */
  const wake = () => {
    if (!waiter || sink?.pending) return;
    const w = waiter;
    if (head < queue.length) {
      waiter = null;
      const item = take();
      item.taken?.();
      w({ value: item.value, done: false });
    } else if (closed) {
      waiter = null;
      finish();
      w(DONE);
    }
  };
  const take = (): Item<T> => {
    const item = queue[head]!;
    queue[head++] = undefined;
    // Drop the taken slots now and then, so that a long-lived queue does not grow.
    if (head >= 1024 && head * 2 >= queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return item;
  };
  const deliver = (item: Item<T>) => {
    // The sink may take a value when everything before it is delivered or its own: the iterator
    // waits (it took everything before) and nothing is queued here. A replayed value (with `taken`)
    // goes through the iterator, which paces the replay.
    if (sink && waiter && !item.taken && head === queue.length && sink.offer(item.value)) return;
    queue.push(item);
    wake();
  };
  const end = (err?: Error) => {
    if (closed) return;
    if (err) deliver({ value: err });
    closed = true;
    stopProducing();
    wake();
  };
  const accept = (item: Item<T>): boolean => {
    if (closed) return false;
    if (queue.length - head + (sink?.pending ?? 0) >= maxQueue) {
      end(new AppError('RATE_LIMITED', `This subscriber fell ${maxQueue} events behind and was cut off: subscribe again with \`after\` set to the last cursor it received`, { reason: 'SUBSCRIBER_TOO_SLOW' }));
      return false;
    }
    deliver(item);
    return true;
  };
  const emit: Emitter<T> = {
    push(value) {
      accept({ value });
    },
    pushAndWait(value) {
      return new Promise<void>((resolve) => {
        if (!accept({ value, taken: resolve })) resolve();
      });
    },
    fail: (err) => end(err),
    complete: () => end(),
    get closed() {
      return closed;
    },
  };
  const start = () => {
    started = true;
    open++;
    void (async () => {
      try {
        const stop = await setup(emit);
        if (closed) stop();
        else cleanup = stop;
      } catch (err) {
        end(err as Error);
      }
    })();
  };

  return {
    next(): Promise<IteratorResult<T | Error>> {
      if (!started) start();
      if (head < queue.length && !sink?.pending) {
        const item = take();
        item.taken?.();
        return Promise.resolve({ value: item.value, done: false });
      }
      if ((closed || finished) && !sink?.pending && head === queue.length) {
        if (started) finish();
        return Promise.resolve(DONE);
      }
      return new Promise((resolve) => (waiter = resolve));
    },
    return(): Promise<IteratorResult<T | Error>> {
      closed = true;
      if (started) finish();
      if (waiter) {
        const w = waiter;
        waiter = null;
        w(DONE);
      }
      return Promise.resolve(DONE);
    },
    throw(err?: unknown): Promise<IteratorResult<T | Error>> {
      return this.return!().then(() => Promise.reject(err));
    },
    [Symbol.asyncIterator]() {
      return this;
    },
    [DIRECT](direct: DirectSink<T>) {
      sink = direct;
      direct.onIdle = wake;
      direct.onFail = (err) => end(err);
    },
  } as AsyncIterableIterator<T | Error>;
}

/**
 * graphql-ws builds one context per subscription and executes every event with it: each event gets
 * fresh loaders here, and a fresh transaction unless nothing ran in the last one (RequestContext.beginEvent),
 * so nothing is served from an earlier event's cache. (ws.ts commits a used transaction in onNext.)
 * It also hands the stream the subscription's direct sink (shared-execution.ts), when it has one.
 */
export function perEvent<T>(ctx: RequestContext, source: AsyncIterable<T>): AsyncIterableIterator<T> {
  attachDirectSink(source, ctx.directSink);
  const it = source[Symbol.asyncIterator]();
  return {
    next() {
      return it.next().then((r) => {
        const begun = r.done ? undefined : ctx.beginEvent();
        return begun ? begun.then(() => r) : r;
      });
    },
    return: (value?: unknown) => it.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
    throw: (err?: unknown) => it.throw?.(err) ?? Promise.reject(err),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
