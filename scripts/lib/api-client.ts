// A minimal GraphQL client over fetch for the command-line scripts: they use the public API only,
// as any integration would.

export interface ClientOptions {
  url: string;
  token: string;
}

export class ApiError extends Error {
  constructor(readonly errors: { message: string; extensions?: { code?: string } }[]) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  }
}

export function clientFromEnv(args: Record<string, string | boolean>): ClientOptions {
  const url = String(args.url ?? process.env.TRELLIS_URL ?? 'http://localhost:4000/graphql');
  const token = String(args.key ?? process.env.TRELLIS_API_KEY ?? '');
  if (!token) throw new Error('give an API key: --key trl_... or TRELLIS_API_KEY');
  return { url, token };
}

export async function gql<T = any>(c: ClientOptions, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<T> {
  return dataOf<T>(JSON.parse(await gqlText(c, query, variables, headers)));
}

/** A failure to talk to the server at all (not an answer with errors): says where and why. */
export class UnreachableError extends Error {}

/** Socket errors after which a request is sent once more: a keep-alive socket the server closed meanwhile. */
const RETRIED = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/** The network cause under fetch's generic "fetch failed": ECONNREFUSED 127.0.0.1:4000, ENOTFOUND host, ... */
function causeOf(err: unknown): { code?: string; message: string } {
  const cause = (err as { cause?: { code?: string; message?: string; errors?: { message: string }[] } }).cause;
  if (!cause) return { message: err instanceof Error ? err.message : String(err) };
  // A host with several addresses fails with an AggregateError of each attempt.
  const message = cause.message || cause.errors?.map((e) => e.message).join(', ') || String(cause);
  return { code: cause.code, message };
}

/** The response body as sent, for a caller that reads it without parsing all of it (the export). */
export async function gqlText(c: ClientOptions, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<string> {
  const send = () =>
    fetch(c.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
  let res: Response;
  try {
    res = await send().catch((err: unknown) => {
      if (RETRIED.has(causeOf(err).code ?? '')) return send();
      throw err;
    });
  } catch (err) {
    throw new UnreachableError(`cannot reach ${c.url}: ${causeOf(err).message} (is the server running? set TRELLIS_URL or --url)`);
  }
  const text = await res.text();
  // A GraphQL answer is JSON whatever its status; anything else came from something in between (a proxy, another program on the port).
  if (!(res.headers.get('content-type') ?? '').includes('json')) {
    throw new UnreachableError(
      `${c.url} answered HTTP ${res.status} ${res.statusText} with ${res.headers.get('content-type') ?? 'no content type'}, not GraphQL: ${text.slice(0, 200).trim()}`,
    );
  }
  // Errors of a request refused as a whole (400, 503) come as GraphQL errors too; any other JSON does not.
  if (!res.ok && !/^\s*\{\s*"(errors|data)"/.test(text))
    throw new UnreachableError(`${c.url} answered HTTP ${res.status} ${res.statusText}, not GraphQL: ${text.slice(0, 200).trim()}`);
  return text;
}

/** A parsed response's data, or its errors thrown. */
export function dataOf<T>(body: { data?: T; errors?: ApiError['errors'] }): T {
  if (body.errors?.length) throw new ApiError(body.errors);
  return body.data as T;
}

/**
 * The elements of the JSON array whose `[` is at `open` in `text`, each as its own text, and where
 * the array's `]` is. For JSON without whitespace between tokens (JSON.stringify's): an element's
 * text is then exactly JSON.stringify of its parsed value, so NDJSON needs neither step.
 */
export function jsonArrayElements(text: string, open: number): { elements: string[]; close: number } {
  const elements: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // To the closing quote: one not escaped (preceded by an even run of backslashes).
      for (i++; ; i++) {
        i = text.indexOf('"', i);
        if (i < 0) throw new Error('unterminated string in JSON');
        let backslashes = 0;
        while (text.charCodeAt(i - 1 - backslashes) === 92 /* \\ */) backslashes++;
        if (backslashes % 2 === 0) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) depth++;
    else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (depth === 0) {
        if (i > start) elements.push(text.slice(start, i));
        return { elements, close: i };
      }
      depth--;
    } else if (c === 44 /* , */ && depth === 0) {
      elements.push(text.slice(start, i));
      start = i + 1;
    }
  }
  throw new Error('unterminated array in JSON');
}

/** `--name value`, `--flag` and `--name=value` arguments. */
export function parseArgs(argv: string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const [k, v] = a.slice(2).split('=', 2);
    if (v !== undefined) out[k] = v;
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) out[k] = argv[++i];
    else out[k] = true;
  }
  return out;
}
