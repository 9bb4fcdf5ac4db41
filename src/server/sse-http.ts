import type { Response, Request } from 'express';
import type { GraphQLFormattedError } from 'graphql';
import type { ResponseInit as SseResponseInit } from 'graphql-sse';

// The HTTP side of the Server-Sent Events transport (sse.ts): headers read, refusals and graphql-sse's
// own answers given a code, and messages past the response size limit replaced.

export function headerOf(req: Request, key: string): string | null {
  const value = req.headers[key];
  return (Array.isArray(value) ? value.join(', ') : value) ?? null;
}

/** A refusal: HTTP status, and a GraphQL-shaped body whose error has a code. */
export function refuse(res: Response, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res
    .status(status)
    .set(headers)
    .json({ errors: [{ message, extensions: { code } }] });
}

/** The codes of graphql-sse's own refusals (which have none), by status. */
const CODE_OF_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'BAD_REQUEST',
  406: 'BAD_REQUEST',
  409: 'CONFLICT',
  415: 'BAD_REQUEST',
};
const MESSAGE_OF_STATUS: Record<number, string> = { 415: 'Send the operation as a JSON body (Content-Type: application/json)' };

/** A plain answer of graphql-sse's handler; a refusal gets a code on each error (ours have theirs already). */
export function answer(res: Response, init: SseResponseInit, body: string | null): void {
  if (init.status < 400) {
    res.writeHead(init.status, init.headers);
    res.end(body ?? undefined);
    return;
  }
  let errors: GraphQLFormattedError[] | null = null;
  try {
    const parsed = body ? JSON.parse(body) : null;
    if (Array.isArray(parsed?.errors)) errors = parsed.errors;
  } catch {
    // Not JSON: answered with a message of our own below.
  }
  const code = CODE_OF_STATUS[init.status] ?? 'BAD_REQUEST';
  const fallback = MESSAGE_OF_STATUS[init.status] ?? init.statusText;
  const coded = (errors ?? [{ message: fallback }]).map((e) => ({ ...e, message: e.message || fallback, extensions: { code, ...e.extensions } }));
  const { 'content-type': _type, ...headers } = init.headers ?? {};
  res.status(init.status).set(headers).json({ errors: coded });
}

/** A `next` message's head in either mode: distinct (the result itself) or single (`{"id":…,"payload":…}`). */
const NEXT_HEAD = /^event: next\ndata: (\{"id":("(?:[^"\\]|\\.)*"),"payload":)?/;

/**
 * A message past MAX_RESPONSE_BYTES is not sent: its result becomes one with only a
 * QUERY_TOO_COMPLEX error (the subscription goes on), as over WebSocket (ws-transport.ts).
 */
export function capped(message: string, maxBytes: number): string {
  if (message.length * 3 <= maxBytes || Buffer.byteLength(message) <= maxBytes) return message;
  const head = NEXT_HEAD.exec(message);
  if (!head) return message;
  const error = { message: `The result is larger than ${maxBytes} bytes (MAX_RESPONSE_BYTES); select fewer fields`, extensions: { code: 'QUERY_TOO_COMPLEX' } };
  const result = JSON.stringify({ errors: [error] });
  return `event: next\ndata: ${head[2] ? `{"id":${head[2]},"payload":${result}}` : result}\n\n`;
}
