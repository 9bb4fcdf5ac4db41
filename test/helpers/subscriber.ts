import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { condition, resultWaiters } from './condition';

/** A graphql-ws subscription under test: what it received, and ways to wait for more. */
export interface Subscriber {
  results: FormattedExecutionResult[];
  /** The payloads of the `next` messages that carried data, in order. */
  readonly data: any[];
  /** Set when the operation ended with an `error` message or the socket closed. */
  failure?: { errors?: any[]; close?: { code: number; reason: string } };
  completed: boolean;
  /** Resolves once `count` results have arrived (rejects after `ms`). */
  waitFor(count: number, ms?: number): Promise<void>;
  /** Resolves once the subscription has ended (completed or failed). */
  ended(ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens a connection to `url` (http(s) base) with `authorization` and subscribes with `query`. */
export async function subscribe(baseUrl: string, authorization: string, query: string, variables?: Record<string, unknown>): Promise<Subscriber> {
  const client: Client = createClient({
    url: baseUrl.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    retryAttempts: 0,
    lazy: true,
  });
  const { notify, until } = condition();
  let acked!: () => void;
  const connected = new Promise<void>((r) => (acked = r));
  client.on('connected', () => acked());
  client.on('closed', () => acked());
  const s: Subscriber = {
    results: [],
    get data() {
      return s.results.filter((r) => r.data).map((r) => r.data);
    },
    completed: false,
    waitFor: (count, ms) => resultWaiters(s, until).waitFor(count, ms),
    ended: (ms) => resultWaiters(s, until).ended(ms),
    async close() {
      await client.dispose();
    },
  };
  client.subscribe(
    { query, variables },
    {
      next: (r) => {
        s.results.push(r as FormattedExecutionResult);
        notify();
      },
      error: (err: any) => {
        s.failure = Array.isArray(err)
          ? { errors: err }
          : err && typeof err.code === 'number'
            ? { close: { code: err.code, reason: err.reason } }
            : { errors: [String(err)] };
        notify();
      },
      complete: () => {
        s.completed = true;
        notify();
      },
    },
  );
  await connected;
  return s;
}

/** Polls `done` until it holds (e.g. until a server's event bus has its subscribers registered). */
export async function waitUntil(done: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
