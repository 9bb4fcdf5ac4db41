import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult, print } from 'graphql';
import type { DirectSink } from '../modules/realtime/live-stream';
import type { DirectOutput, RequestContext } from '../data/context';

/**
 * Subscriptions, executed once per event for all the subscribers that would get the same answer,
 * and written to most of them without the iterator.
 *
 * graphql-js executes the selection for every subscriber of every event; with a thousand subscribers
 * of a workspace that is a thousand identical executions per event. Sources hand the same payload
 * object to every subscriber of an event (the event bus shares its ChangeEvents), so the result is
 * memoised per payload and per "shape": the document, its variables, the workspace and the viewer's
 * permission class (kind, role, scopes). That key is complete because no field reachable from a
 * subscription payload depends on who the viewer is beyond those: every role reads every record of
 * its workspace. It is executed in a context of its own (same viewer, own loaders and transaction),
 * so that no subscriber's transaction is shared. A payload made for one subscriber (an error, a
 * notification) is executed for that subscriber alone.
 *
 * Delivering one result to a thousand subscribers through graphql-ws costs a chain of promises per
 * subscriber (the source, the mapping, graphql-ws' loop, its message checks). So the WebSocket layer
 * gives each subscription a direct output, and a DirectDelivery takes the source's values while the
 * iterator is idle: the shared result is written straight to the socket once it is ready, in order.
 * What it does not take (an error, a replayed value, a client that has fallen behind) goes through
 * graphql-ws as before.
 */
export function subscribeShared(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  return (async () => {
    const shape = shapeOf(args);
    const context = args.contextValue as RequestContext;
    // Set before the source is made: perEvent attaches it to the stream.
    if (context.directOutput) context.directSink = new DirectDelivery((payload) => sharedResult(args, shape, payload), context.directOutput);
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
    return mapResults(source as AsyncIterable<unknown>, (payload) => {
      if (!isShared(payload)) return execute({ ...args, rootValue: payload }) as Promise<ExecutionResult>;
      const shared = sharedResult(args, shape, payload);
      return shared.value ?? shared.promise!;
    });
  })();
}

/** A result for all the subscribers of a shape: its value once ready (at once when execution was synchronous). */
interface Shared {
  value?: ExecutionResult;
  promise?: Promise<ExecutionResult>;
  /** Execution itself failed (not a field: those are errors in the value). */
  failed?: Error;
}

const isShared = (payload: unknown): payload is object => typeof payload === 'object' && payload !== null && !(payload instanceof Error);

const results = new WeakMap<object, Map<string, Shared>>();
const printed = new WeakMap<object, string>();

function sharedResult(args: ExecutionArgs, shape: string, payload: object): Shared {
  let byShape = results.get(payload);
  if (!byShape) results.set(payload, (byShape = new Map()));
  let shared = byShape.get(shape);
  if (shared) return shared;
  const context = (args.contextValue as RequestContext).sibling();
  const done = () => {
    const tx = context.tx;
    if (tx && !tx.untouched) tx.commit().catch((err) => context.log.error({ err }, 'subscription event commit failed'));
  };
  const result = execute({ ...args, contextValue: context, rootValue: payload });
  if ('then' in result) {
    const pending: Shared = {};
    pending.promise = result.then((value) => (pending.value = value));
    pending.promise.then(done, (err: unknown) => {
      pending.failed = err instanceof Error ? err : new Error(String(err));
      done();
    });
    shared = pending;
  } else {
    shared = { value: result };
    done();
  }
  byShape.set(shape, shared);
  return shared;
}

/**
 * Writes a subscription's shared results to its socket in the order of its values. It takes values
 * while the socket keeps up; their results are executed one after the other, as the iterator would
 * (the first subscriber to reach a value starts its execution, the others find it running), and
 * what it holds counts against the subscriber's queue limit (liveStream).
 */
class DirectDelivery implements DirectSink<unknown> {
  onIdle: (() => void) | null = null;
  onFail: ((err: Error) => void) | null = null;
  /** Values taken and not yet written, in order; the first one's result may be executing. */
  private taken: object[] = [];
  private cancelled = false;

  constructor(
    private readonly resultOf: (payload: object) => Shared,
    private readonly output: DirectOutput,
  ) {}

  get pending(): number {
    return this.taken.length;
  }

  offer(value: unknown): boolean {
    if (this.cancelled || !isShared(value) || this.output.congested()) return false;
    this.taken.push(value);
    if (this.taken.length === 1) this.drain();
    return true;
  }

  cancel(): void {
    this.cancelled = true;
    this.taken = [];
  }

  /** Writes the taken values whose results are ready, in order; waits for the first one that is not. */
  private readonly drain = () => {
    while (!this.cancelled && this.taken.length) {
      const shared = this.resultOf(this.taken[0]);
      if (shared.failed) return this.fail(shared.failed);
      if (!shared.value) {
        shared.promise!.then(this.drain, this.drain);
        return;
      }
      this.taken.shift();
      try {
        this.output.send(shared.value);
      } catch (err) {
        // A result that does not serialize: the stream ends with the error rather than waiting forever.
        return this.fail(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (!this.cancelled) this.onIdle?.();
  };

  private fail(err: Error): void {
    this.taken = [];
    this.onFail?.(err);
  }
}

function shapeOf(args: ExecutionArgs): string {
  let doc = printed.get(args.document);
  if (doc === undefined) printed.set(args.document, (doc = print(args.document)));
  const v = (args.contextValue as RequestContext).viewer;
  const who = v ? `${v.workspaceId}|${v.kind}|${v.role ?? ''}|${[...v.scopes].sort().join(',')}` : '';
  return `${who}|${args.operationName ?? ''}|${JSON.stringify(args.variableValues ?? {})}|${doc}`;
}

/** `source` with each value mapped by `fn`, keeping `return` so that an unsubscribe ends the source at once. */
function mapResults<T>(source: AsyncIterable<unknown>, fn: (value: unknown) => Promise<T> | T): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const gen: AsyncGenerator<T> = {
    // Not an async function: it runs for every event and subscriber.
    next() {
      return it
        .next()
        .then((r): Promise<IteratorResult<T>> | IteratorResult<T> =>
          r.done ? { done: true, value: undefined } : Promise.resolve(fn(r.value)).then((value) => ({ done: false, value })),
        );
    },
    async return() {
      await it.return?.();
      return { done: true, value: undefined };
    },
    async throw(err) {
      await it.return?.();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return gen;
    },
    [Symbol.asyncDispose]: async () => {
      await it.return?.();
    },
  };
  return gen;
}
