// What both sides of `bench:isolation` send requests with: the bystander on the main thread, the
// attacker on its own thread (isolation-attacker.ts).
import type { Server } from './servers';

export interface Outcome {
  ms: number;
  code: string;
  /** B's request kind (page, filtered, write), for the per-kind figures. */
  kind?: string;
  /** When it was sent, ms after its phase started (BENCH_ISO_TRACE prints the slowest with it). */
  at?: number;
}

/** One GraphQL request that never throws: its time and its first error code ('ok' without one). */
export async function request(server: Pick<Server, 'url' | 'headers'>, body: unknown): Promise<Outcome & { data?: any }> {
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...server.headers }, body: JSON.stringify(body) });
      const json = (await res.json().catch(() => ({}))) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
      return { ms: performance.now() - started, code: json.errors?.[0]?.extensions?.code ?? (res.ok ? 'ok' : `HTTP_${res.status}`), data: json.data };
    } catch (err) {
      // Node's fetch may reuse a keep-alive socket the server closed: once more on a socket error.
      if (attempt === 0) continue;
      return { ms: performance.now() - started, code: `NETWORK_${(err as Error).message}` };
    }
  }
}
