import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildSchema, parse, validate } from 'graphql';
import request from 'supertest';
import { createApp, type AppOptions } from '../src/server/app';
import { loadConfig } from '../src/kernel/config';
import { connect } from '../src/db/data-source';
import { createLogger } from '../src/kernel/logger';
import { createServices } from '../src/server/services';
import { SAMPLE_QUERY } from '../src/server/explorer/page';
import { apiKey, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';
import { ENTITIES } from '../src/modules/registry';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
if (!CHROMIUM) {
  console.warn(
    'explorer.test: no Chromium found (CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser): the browser tests are SKIPPED. Install it with `apt-get install chromium`.',
  );
}
const inBrowser = CHROMIUM ? it : it.skip;

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'; // what a browser sends
const ME = '{ me { kind workspace { name } } }';
const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const HEADERS_EDITOR = 'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror';
const RESPONSE = '.graphiql-response .CodeMirror';

/** Another Trellis on the test database, with the options main.ts would pass (demo key) or other settings. */
async function startInstance(t: TestApp, env: Record<string, string>, options: AppOptions = {}) {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: t.db.appUrl,
    JWT_SECRET: t.config.jwtSecret,
    LOG_LEVEL: 'silent',
    WEBHOOK_WORKERS: 'false',
    AUTOMATION_WORKERS: 'false',
    ...env,
  });
  const log = createLogger(config.logLevel);
  const ds = await connect({ entities: ENTITIES, url: t.db.appUrl, poolSize: 2 });
  const app = await createApp(ds, config, log, createServices(ds, config, log, t.workerDs), options);
  const port = await app.listen(0, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}`, close: async () => (await app.close(), await ds.destroy()) };
}

describe('the explorer (GraphiQL at GET /graphql)', () => {
  let t: TestApp;
  let admin: SignedUp;
  let demo: Awaited<ReturnType<typeof startInstance>>;
  let off: Awaited<ReturnType<typeof startInstance>>;
  let demoKey: string;
  let browser: Browser | undefined;
  // Screenshots go to a temporary folder, removed afterwards; EXPLORER_SCREENSHOTS=<dir> keeps them there.
  const keep = process.env.EXPLORER_SCREENSHOTS;
  const shots = keep ? (mkdirSync(keep, { recursive: true }), keep) : mkdtempSync(join(tmpdir(), 'trellis-explorer-'));

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Explorer Test Company');
    demoKey = (await apiKey(t, admin, ['READ'])).secret;
    demo = await startInstance(t, {}, { explorer: { defaultAuthorization: `Bearer ${demoKey}` } });
    off = await startInstance(t, { EXPLORER: 'false' });
    // No sandbox: CI runs as root, where Chromium refuses to start with one; the page is our own.
    if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    await off?.close();
    await t?.close();
    if (!keep) rmSync(shots, { recursive: true, force: true });
  });

  describe('over HTTP', () => {
    it('serves the page to a browser, with a CSP that allows only this server, and no inline script', async () => {
      const res = await request(t.url).get('/graphql').set('accept', HTML);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-store');
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      expect(csp).toContain("connect-src 'self' ws: wss:");
      // Every script is a file of ours; the one without src is a JSON block the browser does not run.
      const scripts = [...res.text.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
      expect(scripts.filter((a) => !/ src="\/explorer\/assets\//.test(a))).toEqual([' type="application/json" id="trellis-explorer-config"']);
      expect(res.text).toContain('"Authorization\\": \\"Bearer \\"');
    });

    it('serves the allow-listed assets only, cached for a year', async () => {
      const page = (await request(t.url).get('/graphql').set('accept', HTML)).text;
      const assets = [...page.matchAll(/(?:src|href)="(\/explorer\/assets\/[^"]+)"/g)].map((m) => m[1]);
      expect(assets).toHaveLength(7);
      for (const path of assets) {
        const res = await request(t.url).get(path);
        expect(res.status).toBe(200);
        expect(res.headers['cache-control']).toMatch(/max-age=31536000.*immutable/);
        expect(res.headers['content-type']).toMatch(path.endsWith('.css') ? /^text\/css/ : /^(text|application)\/javascript/);
        expect(res.headers['x-content-type-options']).toBe('nosniff');
      }
      const dir = assets[0].slice(0, assets[0].lastIndexOf('/'));
      for (const path of [
        `${dir}/package.json`,
        `${dir}/graphiql.min.js.map`,
        `${dir}/..%2f..%2fpackage.json`,
        `${dir}/%2e%2e/react.production.min.js`,
        '/explorer/assets/0000/graphiql.min.js',
      ]) {
        expect((await request(t.url).get(path)).status).toBe(404);
      }
    });

    it('leaves POST and every GET not asking for HTML to Apollo: the same answers as with the explorer off', async () => {
      const post = await t.gql(ME, undefined, admin.accessToken);
      expect(post.data.me.workspace.name).toBe('Explorer Test Company');
      const get = (url: string, accept: string | undefined, preflight: boolean) => {
        let req = request(url).get('/graphql').query({ query: '{ __typename }' });
        if (accept) req = req.set('accept', accept);
        if (preflight) req = req.set('apollo-require-preflight', 'true');
        return req;
      };
      for (const accept of [undefined, 'application/json', 'application/graphql-response+json', '*/*', 'application/json, text/html']) {
        for (const preflight of [true, false]) {
          const [on, before] = await Promise.all([get(t.url, accept, preflight), get(off.url, accept, preflight)]);
          expect({ status: on.status, type: on.headers['content-type'], body: on.text }).toEqual({
            status: before.status,
            type: before.headers['content-type'],
            body: before.text,
          });
          if (preflight) expect(on.body.data).toEqual({ __typename: 'Query' });
        }
      }
    });

    it('is off with EXPLORER=false: a browser gets Apollo, whose landing page stays disabled', async () => {
      const res = await request(off.url).get('/graphql').set('accept', HTML);
      expect(res.headers['content-type']).not.toMatch(/html/);
      expect(res.text).not.toMatch(/graphiql|<html/i);
      expect((await request(off.url).get('/explorer/assets/x/graphiql.min.js')).status).toBe(404);
    });

    it('GET / sends a browser to the explorer; a program, there or at any unknown path, gets JSON naming /graphql', async () => {
      const browserRoot = await request(t.url).get('/').set('accept', HTML);
      expect([browserRoot.status, browserRoot.headers.location]).toEqual([302, '/graphql']);
      for (const [path, accept] of [
        ['/', 'application/json'],
        ['/', '*/*'],
        ['/nowhere', HTML],
        ['/api/v1', 'application/json'],
      ]) {
        const res = await request(t.url).get(path).set('accept', accept);
        expect([res.status, res.headers['content-type']]).toEqual([404, expect.stringMatching(/^application\/json/)]);
        expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: `nothing at GET ${path}: GraphQL is served at /graphql` } });
      }
      // With the explorer off, a browser at the root is told the same as a program.
      const off = await startInstance(t, { EXPLORER: 'false' });
      try {
        const res = await request(off.url).get('/').set('accept', HTML);
        expect([res.status, res.body.error?.code]).toEqual([404, 'NOT_FOUND']);
      } finally {
        await off.close();
      }
    });

    it('starts the query editor on the sample query (a valid document for this schema)', async () => {
      const res = await request(t.url).get('/graphql').set('accept', HTML);
      const config = JSON.parse(/<script type="application\/json" id="trellis-explorer-config">([^<]*)<\/script>/.exec(res.text)![1]);
      expect(config.defaultQuery).toBe(SAMPLE_QUERY);
      // Against the committed schema (which schema.test.ts keeps equal to the code's).
      const schema = buildSchema(readFileSync(join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8'));
      expect(validate(schema, parse(SAMPLE_QUERY))).toEqual([]);
    });

    it('starts the headers editor with the demo API key when main.ts passes it', async () => {
      const res = await request(demo.url).get('/graphql').set('accept', HTML);
      expect(res.text).toContain(`"Authorization\\": \\"Bearer ${demoKey}\\"`);
    });
  });

  describe('in headless Chromium', () => {
    /** Opens the explorer, recording every request, the frames sent over WebSockets, and every console or script error. */
    async function open(url: string) {
      const page = await browser!.newPage();
      const requests: string[] = [];
      const problems: string[] = [];
      const wsSent: string[] = [];
      page.on('request', (r) => void requests.push(r.url()));
      page.on('websocket', (ws) => {
        requests.push(ws.url());
        ws.on('framesent', (f) => void wsSent.push(String(f.payload)));
      });
      // Console errors include CSP violations and failed loads (a favicon 404 too: the page declares none).
      page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
      page.on('pageerror', (e) => void problems.push(String(e)));
      await page.goto(url);
      await page.waitForSelector(QUERY_EDITOR);
      await page.waitForSelector(HEADERS_EDITOR);
      return { page, requests, problems, wsSent };
    }

    // The editors are CodeMirror 5 instances; its element carries the instance as `.CodeMirror`.
    const getEditor = (page: Page, selector: string) =>
      page.evaluate((s) => (globalThis as any).document.querySelector(s).CodeMirror.getValue() as string, selector);
    const setEditor = (page: Page, selector: string, value: string) =>
      page.evaluate(([s, v]) => void (globalThis as any).document.querySelector(s).CodeMirror.setValue(v), [selector, value] as const);
    /** Sets the query, then waits for GraphiQL to parse it (100 ms after a change): a run takes the parsed document to choose HTTP or WebSocket. */
    const setQuery = async (page: Page, query: string) => {
      await setEditor(page, QUERY_EDITOR, query);
      await page.waitForFunction(([s, q]) => (globalThis as any).document.querySelector(s).CodeMirror.documentAST?.loc?.source.body === q, [
        QUERY_EDITOR,
        query,
      ] as const);
    };
    const run = (page: Page) => page.click('.graphiql-execute-button');
    /** Waits for the response pane to contain `text`; false when it does not within `ms`. */
    const responseShows = (page: Page, text: string, ms = 10_000) =>
      page
        .waitForFunction(([s, x]) => !!(globalThis as any).document.querySelector(s)?.CodeMirror.getValue().includes(x), [RESPONSE, text] as const, {
          timeout: ms,
        })
        .then(
          () => true,
          () => false,
        );
    const localOnly = (urls: string[]) => urls.filter((u) => !/^(data|blob):/.test(u) && !['127.0.0.1', 'localhost'].includes(new URL(u).hostname));

    inBrowser(
      'runs a query typed in GraphiQL with an access token, and nothing is fetched from elsewhere',
      async () => {
        const { page, requests, problems } = await open(`${t.url}/graphql?query=${encodeURIComponent(ME)}`);
        expect(JSON.parse(await getEditor(page, HEADERS_EDITOR))).toEqual({ Authorization: 'Bearer ' });
        expect(await getEditor(page, QUERY_EDITOR)).toBe(ME);
        await setEditor(page, HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${admin.accessToken}` }));
        await run(page);
        expect(await responseShows(page, 'Explorer Test Company')).toBe(true);
        expect(JSON.parse(await getEditor(page, RESPONSE)).data).toEqual({ me: { kind: 'USER', workspace: { name: 'Explorer Test Company' } } });

        const png = join(shots, 'explorer-query.png');
        await page.screenshot({ path: png, fullPage: true });
        expect(statSync(png).size).toBeGreaterThan(1000);
        expect(readFileSync(png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

        expect(requests.length).toBeGreaterThan(5);
        expect(localOnly(requests)).toEqual([]);
        expect(problems).toEqual([]);
        await page.close();
      },
      60_000,
    );

    inBrowser(
      "runs a subscription over graphql-ws, authenticated on connect with the headers editor's Authorization",
      async () => {
        const { page, requests, problems, wsSent } = await open(`${t.url}/graphql`);
        await setQuery(page, 'subscription { recordChanged(types: [ACCOUNT]) { type entityType } }');

        // With the header left at "Bearer " the socket is refused (4403), at once: no retry loop.
        await run(page);
        expect(await responseShows(page, '4403')).toBe(true);

        // A token in the headers editor: the next run connects anew, with it.
        await setEditor(page, HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${admin.accessToken}` }));
        await run(page);
        // Subscribing takes a moment after the click: create accounts until one's event arrives.
        let seen = false;
        for (let i = 0; i < 10 && !seen; i++) {
          const r = await t.gql('mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }', { i: { name: `Live ${i}` } }, admin.accessToken);
          expect(r.errors).toBeUndefined();
          seen = await responseShows(page, 'account.created', 1500);
        }
        expect(seen).toBe(true);
        expect(JSON.parse(await getEditor(page, RESPONSE)).data).toEqual({ recordChanged: { type: 'account.created', entityType: 'account' } });

        const inits = wsSent.map((f) => JSON.parse(f)).filter((m) => m.type === 'connection_init');
        expect(inits.map((m) => m.payload)).toEqual([{ authorization: 'Bearer ' }, { authorization: `Bearer ${admin.accessToken}` }]);
        expect(requests.some((u) => u.startsWith(`ws://127.0.0.1:${t.port}/graphql`))).toBe(true);
        expect(localOnly(requests)).toEqual([]);
        // GraphiQL logs the refused socket of the first run; nothing else may appear.
        expect(problems.filter((p) => !/4403 Forbidden/.test(p))).toEqual([]);
        await page.screenshot({ path: join(shots, 'explorer-subscription.png') });
        await page.close();
      },
      60_000,
    );

    inBrowser(
      'opened at the root, shows the sample query, which runs with the demo key',
      async () => {
        const made = await t.gql(
          'mutation { createOpportunity(input: { name: "Explorer deal", amount: { amount: "5000", currency: "EUR" } }) { id } }',
          {},
          admin.accessToken,
        );
        expect(made.errors).toBeUndefined();
        const { page, problems } = await open(`${demo.url}/`);
        expect(new URL(page.url()).pathname).toBe('/graphql');
        expect(await getEditor(page, QUERY_EDITOR)).toBe(SAMPLE_QUERY);
        await run(page);
        expect(await responseShows(page, 'Explorer deal')).toBe(true);
        const data = JSON.parse(await getEditor(page, RESPONSE)).data;
        expect(data.opportunities.nodes[0]).toMatchObject({ name: 'Explorer deal', amount: { amount: '5000.00', currency: 'EUR' } });
        expect(problems).toEqual([]);
        await page.close();
      },
      60_000,
    );

    inBrowser(
      'starts with the demo API key: the first query just works',
      async () => {
        const { page, problems } = await open(`${demo.url}/graphql?query=${encodeURIComponent(ME)}`);
        expect(JSON.parse(await getEditor(page, HEADERS_EDITOR))).toEqual({ Authorization: `Bearer ${demoKey}` });
        await run(page);
        expect(await responseShows(page, 'API_KEY')).toBe(true);
        expect(JSON.parse(await getEditor(page, RESPONSE)).data.me).toEqual({ kind: 'API_KEY', workspace: { name: 'Explorer Test Company' } });
        expect(problems).toEqual([]);
        await page.close();
      },
      60_000,
    );
  });
});
