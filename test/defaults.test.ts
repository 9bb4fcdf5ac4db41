import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../src/server/app';
import { loadConfig } from '../src/kernel/config';
import { connect } from '../src/db/data-source';
import { createLogger } from '../src/kernel/logger';
import { createServices } from '../src/server/services';
import { createTestDatabase, ownerQuery, type TestDatabase } from './helpers/db';
import { startServerProcess, type ServerProcess } from './helpers/server-process';
import { ENTITIES } from '../src/modules/registry';

// Finding 12 of issue 17: the defaults exposed the demo key to anyone reaching the port, listened on
// every interface in embedded mode, and showed raw SQL errors and stack traces unless NODE_ENV was set.

const A_SECRET = 'a-secret-that-is-long-enough-0123456789';
const DB = 'postgres://trellis@127.0.0.1:5432/trellis';

// loadConfig writes a generated JWT secret into the data folder: a scratch one, removed after.
const DATA_DIR = mkdtempSync(join(tmpdir(), 'trellis-defaults-'));
afterAll(() => rmSync(DATA_DIR, { recursive: true, force: true }));

describe('default settings', () => {
  it.each([
    ['embedded, HOST unset: loopback only', {}, '127.0.0.1'],
    ['DATABASE_URL, HOST unset: every interface (a server deployment)', { DATABASE_URL: DB, WORKER_DATABASE_URL: DB, JWT_SECRET: A_SECRET }, '0.0.0.0'],
    ['embedded, HOST set', { HOST: '0.0.0.0' }, '0.0.0.0'],
    ['DATABASE_URL, HOST set', { DATABASE_URL: DB, WORKER_DATABASE_URL: DB, JWT_SECRET: A_SECRET, HOST: '127.0.0.1' }, '127.0.0.1'],
  ])('%s', (_what, env, host) => {
    expect(loadConfig({ TRELLIS_DATA_DIR: DATA_DIR, ...env }).host).toBe(host);
  });

  it.each([
    ['NODE_ENV unset', {}, false],
    ['NODE_ENV=development', { NODE_ENV: 'development' }, true],
    ['NODE_ENV=test', { NODE_ENV: 'test' }, false],
    ['NODE_ENV=production', { NODE_ENV: 'production', JWT_SECRET: A_SECRET }, false],
  ])('error details in answers: %s', (_what, env, expose) => {
    const config = loadConfig({ TRELLIS_DATA_DIR: DATA_DIR, ...env });
    expect(config.exposeErrorDetails).toBe(expose);
  });

  it('NODE_ENV unset keeps what a laptop needs: the explorer, introspection, a generated JWT secret', () => {
    const config = loadConfig({ TRELLIS_DATA_DIR: DATA_DIR });
    expect([config.env, config.explorer, config.jwtSecret.length >= 32]).toEqual(['development', true, true]);
  });

  it('the Dockerfile and docker-compose.yml set HOST themselves', () => {
    expect(readFileSync(`${__dirname}/../../Dockerfile`, 'utf8')).toMatch(/^ENV .*\bHOST=0\.0\.0\.0\b/m);
    expect(readFileSync(`${__dirname}/../../docker-compose.yml`, 'utf8')).toMatch(/^\s+HOST: 0\.0\.0\.0$/m);
  });
});

describe('an internal error as a client sees it, by NODE_ENV (a real server process)', () => {
  let db: TestDatabase;
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    // A statement the service does not foresee failing: a lead without a phone.
    await ownerQuery(db.ownerUrl, 'ALTER TABLE lead ALTER COLUMN phone SET NOT NULL');
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await db?.drop();
  });

  const failingRequest = async (env: Record<string, string>) => {
    const server = await startServerProcess(db, { LOG_LEVEL: 'silent', WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false', ...env });
    servers.push(server);
    const post = async (query: string, token?: string) =>
      (
        await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query }),
        })
      ).json() as Promise<any>;
    const email = `admin-${servers.length}@defaults.test`;
    const signed = await post(
      `mutation { signUp(input: { workspaceName: "Defaults", name: "Admin", email: "${email}", password: "correct horse battery" }) { accessToken } }`,
    );
    const failed = await post('mutation { createLead(input: { lastName: "Private Person" }) { id } }', signed.data.signUp.accessToken);
    return failed.errors[0];
  };

  it('NODE_ENV unset: masked, no stack trace, no SQL', async () => {
    const error = await failingRequest({});
    expect(error).toEqual({
      message: 'Internal server error',
      locations: expect.anything(),
      path: ['createLead'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(JSON.stringify(error)).not.toMatch(/phone|violates|stacktrace|Private Person/);
  });

  it('NODE_ENV=development, set explicitly: the message and the stack, for a developer', async () => {
    const error = await failingRequest({ NODE_ENV: 'development' });
    expect(error.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.message).toMatch(/null value in column "phone"/);
    expect(error.extensions.stacktrace.length).toBeGreaterThan(0);
  });
});

describe('the explorer shows the demo key to loopback clients only', () => {
  let db: TestDatabase;
  const DEMO = 'Bearer trl_demo_key_for_the_test';
  const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
  const apps: { url: string; close(): Promise<void> }[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await db?.drop();
  });

  const start = async (env: Record<string, string>) => {
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.appUrl,
      JWT_SECRET: A_SECRET,
      LOG_LEVEL: 'silent',
      WEBHOOK_WORKERS: 'false',
      AUTOMATION_WORKERS: 'false',
      EXPLORER: 'true',
      ...env,
    });
    const log = createLogger(config.logLevel);
    const ds = await connect({ entities: ENTITIES, url: db.appUrl, poolSize: 2 });
    const workerDs = await connect({ entities: ENTITIES, url: db.workerUrl, poolSize: 2 });
    const app = await createApp(ds, config, log, createServices(ds, config, log, workerDs), { explorer: { defaultAuthorization: DEMO } });
    const port = await app.listen(0, '127.0.0.1');
    const a = { url: `http://127.0.0.1:${port}`, close: async () => (await app.close(), await ds.destroy(), await workerDs.destroy()) };
    apps.push(a);
    return a;
  };
  const page = async (url: string, headers: Record<string, string> = {}) => {
    let req = request(url).get('/graphql').set('accept', HTML);
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    const res = await req;
    expect(res.status).toBe(200);
    return res.text;
  };

  it('a client on this machine gets the page with the demo key', async () => {
    const a = await start({});
    expect(await page(a.url)).toContain(DEMO);
  });

  it.each([
    ['X-Forwarded-For (a proxy on this host, TRUST_PROXY unset)', {}, { 'x-forwarded-for': '203.0.113.7' }],
    ['Forwarded (a proxy on this host, TRUST_PROXY unset)', {}, { forwarded: 'for=203.0.113.7' }],
    ['X-Forwarded-For naming loopback, TRUST_PROXY unset (it could be anyone)', {}, { 'x-forwarded-for': '127.0.0.1' }],
    ['a remote client through a trusted proxy', { TRUST_PROXY: 'loopback' }, { 'x-forwarded-for': '203.0.113.7' }],
    ['a remote client through two trusted proxies', { TRUST_PROXY: 'loopback' }, { 'x-forwarded-for': '203.0.113.7, 127.0.0.1' }],
  ])('a request forwarded for another client gets the page without it: %s', async (_what, env, headers) => {
    const a = await start(env);
    const text = await page(a.url, headers);
    expect(text).not.toContain('trl_demo_key');
    expect(text).toContain('trellis-explorer-config');
  });
});
