import { createClient, type Client, type ExecutionResult, NetworkError } from 'graphql-sse';
import { condition, resultWaiters } from './condition';

/** The SSE endpoint of a server (http base URL). */
export const sseUrl = (baseUrl: string) => `${baseUrl}/graphql/stream`;

/** An HTTP refusal as the client saw it: its status and JSON body. */
export interface Refusal {
  status: number;
  body: { errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[] } | null;
}

/** A graphql-sse subscription under test: what it received, and ways to wait for more. */
export interface SseSubscriber {
  results: ExecutionResult<any>[];
  /** The data of the results that carried data, in order. */
  readonly data: any[];
  /** The codes of every error received in results, in order. */
  readonly codes: string[];
  /** Set when the request was refused with an HTTP error (or the connection failed otherwise). */
  failure?: { refusal?: Refusal; error?: string };
  completed: boolean;
  waitFor(count: number, ms?: number): Promise<void>;
  ended(ms?: number): Promise<void>;
  /** Stops the subscription (the client disconnects). */
  close(): void;
}

/** A client with these credentials; no retries (a test wants the first answer). */
export function sseClient(baseUrl: string, authorization: string | null, options: { singleConnection?: boolean } = {}): Client {
  return createClient({
    url: sseUrl(baseUrl),
    headers: authorization ? { authorization } : {},
    retryAttempts: 0,
    singleConnection: options.singleConnection ?? false,
  });
}

/** Subscribes over `client` (or a distinct-mode client of its own made with `authorization`). */
export function sseSubscribe(
  baseUrl: string,
  authorization: string | null,
  query: string,
  variables?: Record<string, unknown>,
  client?: Client,
): SseSubscriber {
  const own = client ? null : sseClient(baseUrl, authorization);
  const c = client ?? own!;
  const { notify, until } = condition();
  const s: SseSubscriber = {
    results: [],
    get data() {
      return s.results.filter((r) => r.data).map((r) => r.data);
    },
    get codes() {
      return s.results.flatMap((r) => (r.errors ?? []).map((e) => String((e as { extensions?: { code?: string } }).extensions?.code)));
    },
    completed: false,
    waitFor: (count, ms) => resultWaiters(s, until).waitFor(count, ms),
    ended: (ms) => resultWaiters(s, until).ended(ms),
    close() {
      stop();
      own?.dispose();
    },
  };
  const stop = c.subscribe(
    { query, variables },
    {
      next: (r) => {
        s.results.push(r as ExecutionResult<any>);
        notify();
      },
      error: (err: unknown) => {
        void (async () => {
          if (err instanceof NetworkError && err.response) {
            const response = err.response as unknown as Response;
            s.failure = { refusal: { status: response.status, body: (await response.json().catch(() => null)) as Refusal['body'] } };
          } else s.failure = { error: err instanceof Error ? err.message : String(err) };
          notify();
        })();
      },
      complete: () => {
        s.completed = true;
        notify();
      },
    },
  );
  return s;
}
