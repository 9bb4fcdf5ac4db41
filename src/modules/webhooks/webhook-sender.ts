import { Agent, request } from 'undici';
import { blockedLiteral, guardedLookup } from './ssrf-guard';

export interface SendResult {
  /** The HTTP status, or null when there was no answer. */
  statusCode: number | null;
  /** The first 1 KB of the answer's body. */
  body: string | null;
  /** Why there was no answer (timeout, refused address, connection error). */
  error: string | null;
  durationMs: number;
  /** What a Retry-After header asked for, in milliseconds. */
  retryAfterMs: number | null;
}

const BODY_KEPT = 1024;

/**
 * POSTs webhooks: a keep-alive connection pool per origin; a 10 s limit for the whole attempt;
 * redirects are answers, never followed; the address is checked when the connection is made.
 */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(private readonly opts: { allowPrivateNetworks: boolean; timeoutMs: number }) {
    this.agent = new Agent({
      connect: { lookup: guardedLookup(opts.allowPrivateNetworks), timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 30_000,
      connections: 32,
    });
  }

  async send(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    const done = (r: Omit<SendResult, 'durationMs'>): SendResult => ({ ...r, durationMs: Math.round(performance.now() - started) });
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return done({ statusCode: null, body: null, error: 'invalid URL', retryAfterMs: null });
    }
    const literal = blockedLiteral(target, this.opts.allowPrivateNetworks);
    if (literal)
      return done({
        statusCode: null,
        body: null,
        error: `${literal} is a private or reserved address; webhooks go to public addresses only`,
        retryAfterMs: null,
      });
    try {
      const res = await request(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Trellis-Webhooks/1', ...headers },
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      const kept = await readSome(res.body);
      return done({ statusCode: res.statusCode, body: kept, error: null, retryAfterMs: retryAfter(res.headers['retry-after']) });
    } catch (err) {
      return done({ statusCode: null, body: null, error: describe(err), retryAfterMs: null });
    }
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}

/** Reads at most 1 KB of a body; a longer one is cut off (and its connection dropped). */
async function readSome(stream: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= BODY_KEPT) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, BODY_KEPT).toString('utf8');
}

function retryAfter(value: string | string[] | undefined): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

function describe(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (
    e.name === 'TimeoutError' ||
    e.name === 'AbortError' ||
    e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e.code === 'UND_ERR_BODY_TIMEOUT' ||
    e.code === 'UND_ERR_CONNECT_TIMEOUT'
  )
    return 'timed out';
  const code = e.code ?? e.cause?.code;
  if (code === 'EBLOCKED') return e.message ?? e.cause?.message ?? 'blocked address';
  return [code, e.message].filter(Boolean).join(': ').slice(0, 500) || 'request failed';
}
