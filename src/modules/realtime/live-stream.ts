import { AppError } from '../../kernel/errors';
import type { RequestContext } from '../../data/context';

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
function attachDirectSink<T>(stream: AsyncIterable<T | Error>, sink: DirectSink<T> | undefined): void {
  const attach = (stream as { [DIRECT]?: (sink: DirectSink<T>) => void })[DIRECT];
  if (sink && attach) attach.call(stream, sink);
}

/** Subscriptions being served by this process (for /metrics). */
let open = 0;
export const openStreams = () => open;

type Item<T> = { value: T | Error; taken?: () => void };
const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined }) as IteratorResult<never>;

/**
 * The source of one subscription. `setup` starts producing (when the subscriber first asks for a
 * value) and returns its cleanup, which runs when the subscriber leaves or the stream ends. A
 * subscriber that falls `maxQueue` values behind is not buffered without end: it gets a RATE_LIMITED
 * error and the stream ends; it resumes with `after`. Errors travel as values, so that the field
 * resolver throws them and the subscriber receives a well-formed GraphQL error rather than a closed socket.
 */
export function liveStream<T>(maxQueue: number, setup: (emit: Emitter<T>) => (() => void) | Promise<() => void>): AsyncIterableIterator<T | Error> {
  return new LiveStream(maxQueue, setup);
}

/**
 * liveStream's queue: the producer's side is its Emitter, the subscriber's its iterator.
 *
 * A plain queue rather than a general push-iterator library: with one event going to a thousand
 * subscribers, each push is on the hot path, and a push here is an array append (a value handed
 * straight to a waiting subscriber when there is one), not a promise per value.
 */
class LiveStream<T> implements AsyncIterableIterator<T | Error> {
  private queue: (Item<T> | undefined)[] = [];
  private head = 0;
  private waiter: ((r: IteratorResult<T | Error>) => void) | null = null;
  /** No more values are accepted (those queued are still delivered). */
  private closed = false;
  private started = false;
  private finished = false;
  private cleanup: (() => void) | undefined;
  private sink: DirectSink<T> | null = null;

  constructor(
    private readonly maxQueue: number,
    private readonly setup: (emit: Emitter<T>) => (() => void) | Promise<() => void>,
  ) {}

  // The subscriber's side.

  next(): Promise<IteratorResult<T | Error>> {
    if (!this.started) this.start();
    if (this.head < this.queue.length && !this.sink?.pending) {
      const item = this.take();
      item.taken?.();
      return Promise.resolve({ value: item.value, done: false });
    }
    if ((this.closed || this.finished) && !this.sink?.pending && this.head === this.queue.length) {
      if (this.started) this.finish();
      return Promise.resolve(DONE);
    }
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<T | Error>> {
    this.closed = true;
    if (this.started) this.finish();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(DONE);
    }
    return Promise.resolve(DONE);
  }

  throw(err?: unknown): Promise<IteratorResult<T | Error>> {
    return this.return().then(() => Promise.reject(err));
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** Lets `direct` take values (attachDirectSink). */
  [DIRECT](direct: DirectSink<T>): void {
    this.sink = direct;
    direct.onIdle = () => this.wake();
    direct.onFail = (err) => this.end(err);
  }

  // The producer's side.

  private start(): void {
    this.started = true;
    open++;
    void (async () => {
      try {
        const stop = await this.setup(this.emitter());
        if (this.closed) stop();
        else this.cleanup = stop;
      } catch (err) {
        this.end(err as Error);
      }
    })();
  }

  private emitter(): Emitter<T> {
    const isClosed = () => this.closed;
    return {
      push: (value) => void this.accept({ value }),
      pushAndWait: (value) =>
        new Promise<void>((resolve) => {
          if (!this.accept({ value, taken: resolve })) resolve();
        }),
      fail: (err) => this.end(err),
      complete: () => this.end(),
      get closed() {
        return isClosed();
      },
    };
  }

  private accept(item: Item<T>): boolean {
    if (this.closed) return false;
    if (this.queue.length - this.head + (this.sink?.pending ?? 0) >= this.maxQueue) {
      this.end(
        new AppError(
          'RATE_LIMITED',
          `This subscriber fell ${this.maxQueue} events behind and was cut off: subscribe again with \`after\` set to the last cursor it received`,
          { reason: 'SUBSCRIBER_TOO_SLOW' },
        ),
      );
      return false;
    }
    this.deliver(item);
    return true;
  }

  private deliver(item: Item<T>): void {
    // The sink may take a value when everything before it is delivered or its own: the iterator
    // waits (it took everything before) and nothing is queued here. A replayed value (with `taken`)
    // goes through the iterator, which paces the replay.
    if (this.sink && this.waiter && !item.taken && this.head === this.queue.length && this.sink.offer(item.value)) return;
    this.queue.push(item);
    this.wake();
  }

  /** No more values: the stream ends once what is queued is delivered (`err` last, if given). */
  private end(err?: Error): void {
    if (this.closed) return;
    if (err) this.deliver({ value: err });
    this.closed = true;
    this.stopProducing();
    this.wake();
  }

  // Between the two.

  /** Hands the waiting iterator its next value, or the end; not while the sink has writes to make first. */
  private wake(): void {
    if (!this.waiter || this.sink?.pending) return;
    const w = this.waiter;
    if (this.head < this.queue.length) {
      this.waiter = null;
      const item = this.take();
      item.taken?.();
      w({ value: item.value, done: false });
    } else if (this.closed) {
      this.waiter = null;
      this.finish();
      w(DONE);
    }
  }

  private take(): Item<T> {
    const item = this.queue[this.head]!;
    this.queue[this.head++] = undefined;
    // Drop the taken slots now and then, so that a long-lived queue does not grow.
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Stops the producer (once): at the end of the stream, before what is queued is delivered. */
  private stopProducing(): void {
    const stop = this.cleanup;
    this.cleanup = undefined;
    stop?.();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.closed = true;
    for (let i = this.head; i < this.queue.length; i++) this.queue[i]?.taken?.();
    this.queue = [];
    this.head = 0;
    open--;
    this.sink?.cancel();
    this.stopProducing();
  }
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
