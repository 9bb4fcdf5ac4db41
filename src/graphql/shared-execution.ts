import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult, print } from 'graphql';
import type { RequestContext } from './context';

/**
 * Subscriptions, executed once per event for all the subscribers that would get the same answer.
 *
 * graphql-js executes the selection for every subscriber of every event; with a thousand subscribers
 * of a workspace that is a thousand identical executions per event. Sources hand the same payload
 * object to every subscriber of an event (the event bus shares its ChangeEvents), so the result is
 * memoised per payload and per "shape": the document, its variables, the workspace and the viewer's
 * permission class (kind, role, scopes). That key is complete because no field reachable from a
 * subscription payload depends on who the viewer is beyond those: every role reads every record of
 * its workspace. A payload made for one subscriber (an error, a notification) is simply not shared.
 */
export function subscribeShared(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  return (async () => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
    const shape = shapeOf(args);
    return mapResults(source as AsyncIterable<unknown>, (payload) => {
      if (typeof payload !== 'object' || payload === null || payload instanceof Error) return execute({ ...args, rootValue: payload }) as Promise<ExecutionResult>;
      let byShape = results.get(payload);
      if (!byShape) results.set(payload, (byShape = new Map()));
      let result = byShape.get(shape);
      if (!result) {
        result = Promise.resolve(execute({ ...args, rootValue: payload }) as Promise<ExecutionResult> | ExecutionResult);
        byShape.set(shape, result);
      }
      return result;
    });
  })();
}

const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
const printed = new WeakMap<object, string>();

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
