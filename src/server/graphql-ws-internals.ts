/**
 * What Trellis relies on of graphql-ws' server beyond its documented hooks: how it serializes and
 * sends messages, and when it registers an operation. This is the only module that relies on it;
 * ws-transport.ts and ws.ts ask the functions below.
 *
 * What is relied on, and pinned by test/graphql-ws-internals.test.ts (against graphql-ws' own
 * makeServer) so that an upgrade that changes it fails there, by name, rather than on the wire:
 * - a `next` message is `JSON.stringify({ id, type: 'next', payload })`, in that order of keys:
 *   messages written past graphql-ws (nextMessageHead) are made the same way, and a too-large one
 *   is recognised by its head (withNextPayload);
 * - the payload onNext returns is sent as it is (any object: its toJSON is honoured), and the
 *   message is stringified and handed to the socket's `send` in the same synchronous step, with
 *   nothing run in between (serializedOnce relies on it);
 * - `send` returning a promise holds the subscription's next message until it settles (a slow
 *   client holds its subscriptions back);
 * - an operation is in `ctx.subscriptions` already when onSubscribe is called for it;
 * - the errors onSubscribe returns are sent as their `toJSON()`, codes included.
 */

/** What a `next` message of operation `id` holds before its payload's JSON (the message is this, that JSON and "}"). */
export function nextMessageHead(id: string): string {
  return nextHeadOf(JSON.stringify(id));
}

const nextHeadOf = (idJson: string) => `{"id":${idJson},"type":"next","payload":`;
const NEXT_HEAD = /^\{"id":("(?:[^"\\]|\\.)*"),"type":"next"/;

/** `message` with `payloadJson` as its payload when it is a `next` message; null for any other message. */
export function withNextPayload(message: string, payloadJson: string): string | null {
  const idJson = NEXT_HEAD.exec(message)?.[1];
  return idJson ? nextHeadOf(idJson) + payloadJson + '}' : null;
}

/** How many operations the connection runs, counting the one onSubscribe is called for. */
export function operationsRunning(ctx: { subscriptions: object }): number {
  return Object.keys(ctx.subscriptions).length;
}

/** A shared result's JSON, made once for all the subscribers it goes to. */
export function resultJson(result: object): string {
  let json = serialized.get(result);
  if (json === undefined) serialized.set(result, (json = JSON.stringify(result)));
  return json;
}

/**
 * A `next` payload serialized once for all the subscribers it goes to: a thousand subscribers of one
 * workspace get the same result object (shared-execution.ts), and graphql-ws serialized it for each.
 * graphql-ws stringifies the message and hands it to `send` at once, synchronously; the payload's
 * toJSON leaves a mark in the message and its JSON here, and `send` puts the JSON in place of the
 * mark (withSerializedPayload).
 */
export function serializedOnce(result: object): object {
  return {
    toJSON: () => {
      pendingPayload = resultJson(result);
      return MARK;
    },
  };
}

/**
 * The message graphql-ws hands to `send`, with the JSON of a serializedOnce payload in place of its
 * mark. Every message graphql-ws sends must pass through this, once, as it is sent.
 */
export function withSerializedPayload(message: string): string {
  const payload = pendingPayload;
  pendingPayload = null;
  return payload === null ? message : spliced(message, payload);
}

const MARK = '\u0000trellis:payload\u0000';
const MARK_JSON = JSON.stringify(MARK);
const serialized = new WeakMap<object, string>();
let pendingPayload: string | null = null;

/** The message with its payload's JSON in place of the mark (the last one: the id before it is the client's). */
function spliced(message: string, payload: string): string {
  const at = message.lastIndexOf(MARK_JSON);
  return at < 0 ? message : message.slice(0, at) + payload + message.slice(at + MARK_JSON.length);
}
