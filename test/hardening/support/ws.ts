import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

/** What one operation over graphql-ws produced. */
export interface WsOutcome {
  /** `next` payloads (a query or mutation has exactly one). */
  results: FormattedExecutionResult[];
  /** Errors of an `error` message: the operation was refused before execution. */
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  /** Set when the socket closed instead of answering. */
  close?: { code: number; reason: string };
  /** Everything received, as JSON, for checks on what must never appear. */
  raw: string;
}

const isCloseEvent = (v: unknown): v is { code: number; reason: string } => typeof v === 'object' && v !== null && 'code' in v && 'reason' in v;

/** A client that does not retry, so that a refused connection surfaces as its close event. */
export function wsClient(baseUrl: string, connectionParams?: Record<string, unknown>): Client {
  return createClient({ url: baseUrl.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

/** Runs one operation on `c` and collects what came back (a close, an error message, or results until complete). */
export function wsRun(c: Client, query: string, variables?: Record<string, unknown>, ms = 10_000): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const results: FormattedExecutionResult[] = [];
    const timer = setTimeout(() => resolve({ results, close: { code: -1, reason: `no answer within ${ms} ms` }, raw: JSON.stringify({ results }) }), ms);
    c.subscribe(
      { query, variables },
      {
        next: (r) => void results.push(r as FormattedExecutionResult),
        error: (err: unknown) => {
          clearTimeout(timer);
          if (isCloseEvent(err))
            resolve({ results, close: { code: err.code, reason: err.reason }, raw: JSON.stringify({ results, code: err.code, reason: err.reason }) });
          else if (Array.isArray(err)) resolve({ results, errors: err as WsOutcome['errors'], raw: JSON.stringify({ results, errors: err }) });
          else resolve({ results, close: { code: -2, reason: String(err) }, raw: String(err) });
        },
        complete: () => {
          clearTimeout(timer);
          resolve({ results, raw: JSON.stringify({ results }) });
        },
      },
    );
  });
}

/** One operation on a fresh connection sending `authorization`; the connection is disposed afterwards. */
export async function wsOnce(baseUrl: string, authorization: string | undefined, query: string, variables?: Record<string, unknown>): Promise<WsOutcome> {
  const c = wsClient(baseUrl, authorization === undefined ? undefined : { authorization });
  try {
    return await wsRun(c, query, variables);
  } finally {
    await c.dispose();
  }
}

/** The codes of an answer over WS, whether refused (`error` message) or executed (`next`). */
export const wsCodes = (o: WsOutcome): string[] => (o.errors ?? o.results.flatMap((r) => r.errors ?? [])).map((e) => String(e.extensions?.code));
