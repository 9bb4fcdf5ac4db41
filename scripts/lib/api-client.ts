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
  const res = await fetch(c.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: ApiError['errors'] };
  if (body.errors?.length) throw new ApiError(body.errors);
  return body.data as T;
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

/** A one-line progress bar on stderr (stdout may carry the data). */
export function progress(label: string, done: number, total: number | null): void {
  if (!process.stderr.isTTY && done !== total) return;
  const width = 30;
  const frac = total ? Math.min(1, done / total) : 0;
  const bar = total ? '#'.repeat(Math.round(frac * width)).padEnd(width, '.') : '';
  process.stderr.write(`\r${label} [${bar}] ${done}${total ? ` / ${total}` : ''}   ${done === total ? '\n' : ''}`);
}
