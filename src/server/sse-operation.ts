import type { Response } from 'express';
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import type { RequestContext } from '../data/context';
import type { Viewer } from '../kernel/viewer';

// One subscription operation of the Server-Sent Events transport (sse.ts): the stream it runs on,
// and the wrapper that gives graphql-sse its results with flow control and the credential's end.

/** One event stream: a distinct connection's (one operation), or a reservation's (single connection mode, many). */
export interface Stream {
  readonly viewer: Viewer;
  readonly credential: string;
  /** The reservation token (single connection mode); null for a distinct connection. */
  readonly token: string | null;
  /** The response the events go to: a distinct connection's own; a reservation's once its stream connects. */
  res: Response | null;
  /** graphql-sse's event stream written to `res` (its end ends the response). */
  events: AsyncGenerator<string, void, undefined> | null;
  readonly operations: Set<Guard>;
  /** Operation requests being prepared (single connection mode): they count against the limit too. */
  starting: number;
  /** Set once the credential has ended: the last result each operation gets. */
  ended: GraphQLFormattedError | null;
  closed: boolean;
  /** Stops watching the credential, the keep-alive and the reservation's deadline. */
  stop: () => void;
  readonly openedAt: number;
}

/** A running operation, as its stream sees it. */
interface Guard {
  /** Ends the operation with `error` as its last result (its credential ended). */
  end(error: GraphQLFormattedError): void;
  /** Resolves once the operation has delivered its last result and ended. */
  readonly finished: Promise<void>;
}

/** A response's unsent bytes past which its subscriptions wait for the client (as a WebSocket's, ws-transport.ts). */
const HIGH_WATER_BYTES = 1 << 20;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

/**
 * An operation's results as graphql-sse pulls them: not while its response has a megabyte unsent
 * (the subscription's queue fills meanwhile, and past SUBSCRIPTION_MAX_QUEUE it ends with
 * RATE_LIMITED); and ended, with `error` as its last result, when its stream's credential ends.
 */
export function guarded(source: AsyncIterable<ExecutionResult>, stream: Stream, context: RequestContext): AsyncGenerator<ExecutionResult> {
  const it = source[Symbol.asyncIterator]();
  let state: 'running' | 'ending' | 'done' = 'running';
  let last: GraphQLFormattedError | null = null;
  let wake: (() => void) | null = null;
  /** Resolves (null) when the operation is ended from outside while it waits. */
  const interrupted = () => new Promise<null>((resolve) => (wake = () => resolve(null)));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    stream.operations.delete(guard);
    wake?.();
    await it.return?.().catch(() => undefined);
    await context.tx?.rollback().catch(() => undefined);
  };
  let markFinished!: () => void;
  const guard: Guard = {
    end(error) {
      if (state !== 'running') return;
      state = 'ending';
      last = error;
      wake?.();
    },
    finished: new Promise<void>((resolve) => (markFinished = resolve)),
  };
  stream.operations.add(guard);
  if (stream.ended) guard.end(stream.ended);
  const finish = async () => {
    state = 'done';
    await stop();
    markFinished();
    return DONE;
  };
  const gen: AsyncGenerator<ExecutionResult> = {
    async next() {
      if (state === 'running') {
        const res = stream.res;
        if (res && res.writableLength >= HIGH_WATER_BYTES && !res.destroyed) await Promise.race([drainedOrClosed(res), interrupted()]);
        if (state === 'running') {
          const r = await Promise.race([it.next(), interrupted()]);
          // A result that came as the operation was being ended is still delivered; the error follows.
          if (r && !r.done) return r;
          if (r?.done) return finish();
        }
      }
      if (state === 'ending') {
        state = 'done';
        await stop();
        return { done: false, value: { errors: [last] } as unknown as ExecutionResult };
      }
      return finish();
    },
    return: () => finish(),
    async throw(err) {
      await finish();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return gen;
    },
    [Symbol.asyncDispose]: async () => {
      await finish();
    },
  };
  return gen;
}

/** Resolves once `res` has drained its buffer, or closed. */
function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
