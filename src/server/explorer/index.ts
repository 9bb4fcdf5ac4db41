import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Router, type Request, type Response } from 'express';
import ipaddr from 'ipaddr.js';
import { BOOTSTRAP_JS, EXPLORER_CSS } from './bootstrap';
import { CONTENT_SECURITY_POLICY, renderPage } from './page';

export interface ExplorerOptions {
  /**
   * The Authorization header the headers editor starts with (the demo API key in embedded demo
   * mode), for clients on this machine only (see fromThisMachine); others start with `Bearer `.
   */
  defaultAuthorization?: string;
}

const ENDPOINT = '/graphql';
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
const versionOf = (name: string): string => (JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;

/** The only files served from node_modules: the browser builds GraphiQL needs, nothing else. */
const VENDOR_FILES: Record<string, string> = {
  'react.production.min.js': join(packageDir('react'), 'umd', 'react.production.min.js'),
  'react-dom.production.min.js': join(packageDir('react-dom'), 'umd', 'react-dom.production.min.js'),
  'graphql-ws.min.js': join(packageDir('graphql-ws'), 'umd', 'graphql-ws.min.js'),
  'graphiql.min.js': join(packageDir('graphiql'), 'graphiql.min.js'),
  'graphiql.min.css': join(packageDir('graphiql'), 'graphiql.min.css'),
};
const OWN_FILES: Record<string, { type: string; body: string }> = {
  'explorer.js': { type: 'text/javascript', body: BOOTSTRAP_JS },
  'explorer.css': { type: 'text/css', body: EXPLORER_CSS },
};

/**
 * Asset URLs carry a build id (the packages' versions and our own files), so they can be cached
 * for a year: an upgrade changes the URLs rather than relying on revalidation.
 */
const BUILD = createHash('sha256')
  .update(['react', 'react-dom', 'graphql-ws', 'graphiql'].map((p) => `${p}@${versionOf(p)}`).join(' '))
  .update(BOOTSTRAP_JS)
  .update(EXPLORER_CSS)
  .digest('hex')
  .slice(0, 12);
const EXPLORER_ASSETS = `/explorer/assets/${BUILD}`;
const YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * GraphiQL for browsers at GET /graphql, served from this server only (works offline). Everything
 * else at /graphql (POST, GET asking for JSON) goes on to Apollo unchanged.
 */
export function explorerRouter(options: ExplorerOptions = {}): Router {
  const pageWith = (authorization: string) =>
    renderPage({ assets: EXPLORER_ASSETS, endpoint: ENDPOINT, headers: JSON.stringify({ Authorization: authorization }, null, 2) });
  const anyone = pageWith('Bearer ');
  const local = options.defaultAuthorization ? pageWith(options.defaultAuthorization) : anyone;
  const router = Router();

  router.get(ENDPOINT, (req, res, next) => {
    // The same choice Apollo makes for its landing page: HTML only when preferred over every JSON type.
    const preferred = req.accepts(['application/json', 'application/graphql-response+json', 'multipart/mixed', 'text/html']);
    if (preferred !== 'text/html') return next();
    secure(res)
      .set({ 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' })
      .type('html')
      .send(fromThisMachine(req) ? local : anyone);
  });

  router.get(`${EXPLORER_ASSETS}/:file`, (req, res, next) => {
    const file = req.params.file;
    const own = Object.hasOwn(OWN_FILES, file) ? OWN_FILES[file] : undefined;
    if (own)
      return void secure(res)
        .set('Cache-Control', `public, max-age=${YEAR_MS / 1000}, immutable`)
        .type(own.type)
        .send(own.body);
    if (!Object.hasOwn(VENDOR_FILES, file)) return next();
    secure(res).sendFile(VENDOR_FILES[file], { maxAge: YEAR_MS, immutable: true }, (err) => err && !res.headersSent && next(err));
  });
  return router;
}

const isLoopback = (address: string | undefined) => !!address && ipaddr.isValid(address) && ipaddr.process(address).range() === 'loopback';

/**
 * A client on this machine: it connected over loopback and no proxy forwarded its request. A proxy on
 * this host makes every client look local, so any forwarding header (which a client may also send
 * itself: then it only loses the key) means another client, whatever TRUST_PROXY resolved it to.
 */
function fromThisMachine(req: Request): boolean {
  if (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined) return false;
  return isLoopback(req.socket.remoteAddress);
}

const secure = (res: Response) => res.set('X-Content-Type-Options', 'nosniff');
