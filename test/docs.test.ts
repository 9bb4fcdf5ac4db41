import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getOperationAST, parse } from 'graphql';
import { createClient } from 'graphql-ws';
import ts from 'typescript';
import WebSocket from 'ws';
import { apiKey, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';
import { docBlocks, resolveRefs, type DocBlock } from './helpers/doc-blocks';
import { runProgram } from './helpers/programs';

// Every example in docs/ runs here, so none goes stale. Blocks marked `graphql example` run against a
// real server (in page order, one workspace per page, signed in as its ADMIN); `ts example` blocks
// are type-checked with the examples' compiler settings, compiled, and run as programs. Other blocks
// are commands (`sh`, whose npm scripts and CLI commands must exist) or illustrations (`json`, `text`).
//
// Info-string options: `auth=none|key` (GraphQL: no credentials, or the page's API key instead of
// the ADMIN's token), `expect-error=CODE`, `idle` (a subscription that need not deliver anything),
// `until="text"` (a long-running program passes once it prints that), `fixture=webhook` (the
// program gets PORT and TRELLIS_WEBHOOK_SECRET of an endpoint that posts to it).

const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, 'dist', 'docs-examples');
const PAGES = ['frontend.md', 'integrations.md', 'realtime.md', 'analytics.md', 'automation.md', 'operations.md'];
const pages = PAGES.map((name) => ({ name, blocks: docBlocks(readFileSync(join(ROOT, 'docs', name), 'utf8')) }));
const isExample = (b: DocBlock) => b.meta.example === true;
const label = (b: DocBlock) => `${b.lang} example at line ${b.line}`;
const tsFile = (page: string, b: DocBlock) => join(OUT, `${page.replace('.md', '')}-${b.line}.ts`);

/** Type-checks and compiles every TypeScript example at once; the diagnostics of each file. */
function compileExamples(): Map<string, string[]> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const files = pages.flatMap((p) =>
    p.blocks.filter((b) => b.lang === 'ts' && isExample(b)).map((b) => (writeFileSync(tsFile(p.name, b), b.code + '\n'), tsFile(p.name, b))),
  );
  // The settings of examples/tsconfig.json: a client project's, not the server's.
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    outDir: OUT,
    rootDir: OUT,
  });
  const found = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    const key = d.file?.fileName ?? files[0];
    found.get(key)?.push(`${where ? `line ${where.line + 1}: ` : ''}${text}`);
  }
  program.emit();
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

describe('docs/', () => {
  let t: TestApp;
  let diagnostics: Map<string, string[]>;
  const wsUrl = () => `${t.url.replace('http', 'ws')}/graphql`;

  beforeAll(async () => {
    diagnostics = compileExamples();
    // The webhook example's receiver listens on 127.0.0.1.
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
  }, 120_000);
  afterAll(() => t?.close());

  it.each(PAGES)('%s: every GraphQL and TypeScript block is a run example; other blocks are commands or illustrations', (name) => {
    const blocks = pages.find((p) => p.name === name)!.blocks;
    expect(blocks.filter(isExample).length).toBeGreaterThan(0);
    const stray = blocks.filter((b) => (isExample(b) ? !['graphql', 'ts'].includes(b.lang) : !['sh', 'json', 'text'].includes(b.lang)));
    expect(stray.map((b) => `${b.lang || '(no language)'} block at line ${b.line}`)).toEqual([]);
  });

  it('names only npm scripts and admin CLI commands that exist', () => {
    const scripts = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts);
    const help = execFileSync(process.execPath, [join(ROOT, 'dist', 'scripts', 'trellis.js'), '--help'], { encoding: 'utf8' });
    const commands = [...help.matchAll(/^ {2}([a-z:]+)\b/gm)].map((m) => m[1]);
    const commandBlocks = pages.flatMap((p) => p.blocks.filter((b) => b.lang === 'sh').map((b) => ({ ...b, page: p.name })));
    const unknown: string[] = [];
    for (const b of commandBlocks) {
      for (const m of b.code.matchAll(/npm run ([\w:-]+)(?: -- ([\w:-]+))?/g)) {
        if (!scripts.includes(m[1])) unknown.push(`${b.page}:${b.line}: npm script ${m[1]}`);
        if (m[1] === 'trellis' && m[2] && !commands.includes(m[2])) unknown.push(`${b.page}:${b.line}: trellis command ${m[2]}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('operations.md lists every setting of src/kernel/config.ts, with its default', () => {
    const source = readFileSync(join(ROOT, 'src', 'kernel', 'config.ts'), 'utf8');
    const schema = /const EnvSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source)![1];
    // `int(4000, ...)`, `bool(true)`, `.default('info')`: the default each variable is declared with.
    const defaultOf = (expr: string) =>
      /^int\(([\d_]+),/.exec(expr)?.[1].replace(/_/g, '') ?? /^bool\((true|false)\)/.exec(expr)?.[1] ?? /\.default\('([^']*)'\)/.exec(expr)?.[1] ?? null;
    const declared = new Map([...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]*): (.+)$/gm)].map((m) => [m[1], defaultOf(m[2])]));
    const documented = new Map(
      [...readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]+) \|/gm)].map((m) => [m[1], m[2].trim()]),
    );
    expect([...documented.keys()].sort()).toEqual([...declared.keys()].sort());
    const wrong = [...declared].filter(([name, value]) => value !== null && documented.get(name) !== `\`${value}\``);
    expect(wrong.map(([name, value]) => `${name}: the default is ${value}, the table says ${documented.get(name)}`)).toEqual([]);
  });

  for (const page of pages) {
    describe(page.name, () => {
      let admin: SignedUp;
      let key: string;
      // What the page's examples returned so far: `@path` variables read from it.
      const results: Record<string, unknown> = {};
      // Something for feeds, webhooks and listeners to report: a call logged through the API.
      let calls = 0;
      const logCall = () =>
        t.gql(
          'mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }',
          { i: { type: 'CALL', subject: `Docs test call ${++calls}` } },
          admin.accessToken,
        );

      beforeAll(async () => {
        admin = await signUp(t, `Docs: ${page.name}`);
        key = (await apiKey(t, admin, ['READ', 'WRITE'])).secret;
      });

      const token = (b: DocBlock) => (b.meta.auth === 'none' ? undefined : b.meta.auth === 'key' ? key : admin.accessToken);

      /** Subscribes over graphql-ws; resolves with the first result (or nothing, for an `idle` example). */
      function subscribeOnce(b: DocBlock, variables: Record<string, unknown>): Promise<{ errors?: unknown; data?: unknown }> {
        const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token(b)}` }, retryAttempts: 0 });
        return new Promise((resolve) => {
          let settled = false;
          const timers: NodeJS.Timeout[] = [];
          const done = (r: { errors?: unknown; data?: unknown }) => {
            if (settled) return;
            settled = true;
            timers.forEach(clearInterval);
            stop();
            void client.dispose();
            resolve(r);
          };
          const stop = client.subscribe(
            { query: b.code, variables },
            {
              next: (v) => done(v.errors ? { errors: v.errors } : { data: v.data }),
              error: (err) => done({ errors: err instanceof Error ? err.message : err }),
              complete: () => done({}),
            },
          );
          if (b.meta.idle) timers.push(setTimeout(() => done({}), 1500));
          else
            timers.push(
              setInterval(() => void logCall(), 300),
              setTimeout(() => done({ errors: 'no event within 15 s' }), 15_000),
            );
        });
      }

      for (const b of page.blocks.filter(isExample)) {
        if (b.lang === 'graphql') {
          it(
            label(b),
            async () => {
              const variables = resolveRefs(JSON.parse(b.variables ?? '{}'), results) as Record<string, unknown>;
              const operation = getOperationAST(parse(b.code));
              if (operation?.operation === 'subscription') {
                const r = await subscribeOnce(b, variables);
                expect(r.errors).toBeUndefined();
                return;
              }
              const r = await t.gql(b.code, variables, token(b));
              if (b.meta['expect-error']) {
                expect((r.errors ?? []).map((e) => e.extensions.code)).toContain(b.meta['expect-error']);
              } else {
                expect(r.errors).toBeUndefined();
              }
              Object.assign(results, r.data);
              // The change feed shows only events older than every transaction running on the server,
              // which other test files share: a page read too early has no cursor yet. Later examples
              // use it, so wait until the workspace's events are visible.
              const feed = (r.data as { changes?: { endCursor: string | null } } | undefined)?.changes;
              if (feed && feed.endCursor == null) {
                const deadline = Date.now() + 15_000;
                while (feed.endCursor == null && Date.now() < deadline) {
                  await new Promise((res) => setTimeout(res, 100));
                  feed.endCursor = (await t.gql('{ changes(first: 1000) { endCursor } }', {}, admin.accessToken)).data?.changes?.endCursor ?? null;
                }
              }
            },
            30_000,
          );
        } else {
          it(
            label(b),
            async () => {
              const file = tsFile(page.name, b);
              expect(diagnostics.get(file)).toEqual([]);
              const env: Record<string, string> = { TRELLIS_URL: `${t.url}/graphql`, TRELLIS_WS_URL: wsUrl(), TRELLIS_API_KEY: key };
              let endpointId: string | undefined;
              if (b.meta.fixture === 'webhook') {
                env.PORT = String(await freePort());
                const r = await t.gql(
                  'mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } secret } }',
                  { i: { url: `http://127.0.0.1:${env.PORT}/webhooks`, events: ['activity.created'] } },
                  admin.accessToken,
                );
                expect(r.errors).toBeUndefined();
                endpointId = r.data.createWebhookEndpoint.endpoint.id;
                env.TRELLIS_WEBHOOK_SECRET = r.data.createWebhookEndpoint.secret;
              }
              const until = typeof b.meta.until === 'string' ? b.meta.until : undefined;
              // A fresh working directory, as on a new machine: nothing an earlier run left behind.
              const cwd = mkdtempSync(join(tmpdir(), 'trellis-doc-example-'));
              try {
                const run = await runProgram(file.replace(/\.ts$/, '.js'), { env, cwd, until, onTick: until ? logCall : undefined, timeoutMs: 30_000 });
                if (until) expect(run.stdout).toContain(until);
                else expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
              } finally {
                rmSync(cwd, { recursive: true, force: true });
                if (endpointId) await t.gql('mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }', { id: endpointId }, admin.accessToken);
              }
            },
            45_000,
          );
        }
      }
    });
  }
});
