import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult, GraphQLError, print } from 'graphql';
import type { DirectSink } from '../modules/realtime/live-stream';
import type { DirectOutput, RequestContext } from './context';

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
    pending.promise = result.then(
      (value) => (pending.value = value),
      (err: unknown) => (pending.value = { errors: [err instanceof GraphQLError ? err : new GraphQLError((err as Error)?.message ?? String(err), { originalError: err as Error })] }),
    );
    void pending.promise.then(done);
    shared = pending;
  } else {
    shared = { value: result };
    done();
  }
  byShape.set(shape, shared);
  return shared;
}

/**
 * Writes a subscription's shared results to its socket in the order of its values. A result not yet
 * ready waits in `waiting`, and so does every value after it (the stream holds back the values this
 * does not take meanwhile).
 */
class DirectDelivery implements DirectSink<unknown> {
  onIdle: (() => void) | null = null;
  private waiting: Shared[] = [];
  private cancelled = false;

  constructor(
    private readonly resultOf: (payload: object) => Shared,
    private readonly output: DirectOutput,
  ) {}

  get pending(): number {
    return this.waiting.length;
  }

  offer(value: unknown): boolean {
    if (this.cancelled || !isShared(value) || this.output.congested()) return false;
    const shared = this.resultOf(value);
    if (shared.value && !this.waiting.length) {
      this.output.send(shared.value);
      return true;
    }
    // Behind a result not ready yet: written when that one is.
    this.waiting.push(shared);
    if (!shared.value) void shared.promise!.then(this.flush);
    return true;
  }

  cancel(): void {
    this.cancelled = true;
    this.waiting = [];
  }

  private readonly flush = () => {
    if (this.cancelled || !this.waiting.length) return;
    while (this.waiting.length && this.waiting[0].value) this.output.send(this.waiting.shift()!.value!);
    if (!this.waiting.length) this.onIdle?.();
  };
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
      return it.next().then((r): Promise<IteratorResult<T>> | IteratorResult<T> =>
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
