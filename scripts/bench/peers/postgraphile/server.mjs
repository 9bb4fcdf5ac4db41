// PostGraphile v5, the peer in Trellis' benchmark: the same database, connected as the application
// role (trellis_app, subject to row-level security), with the workspace of each request set through
// pgSettings (`app.workspace_id`, from the x-workspace-id header), which PostGraphile applies with
// set_config in the request's transaction: the tenancy cost Trellis pays too.
//
// PostGraphile 5 declares Node 22; on Node 20 it needs Promise.withResolvers, without which it
// answers HTTP 200 with errors. The polyfill must run before PostGraphile loads (dynamic imports).
Promise.withResolvers ??= function withResolvers() {
  let resolve, reject;
  const promise = new this((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

const { createServer } = await import('node:http');
const { postgraphile } = await import('postgraphile');
const { PostGraphileAmberPreset } = await import('postgraphile/presets/amber');
const { makePgService } = await import('postgraphile/adaptors/pg');
const { grafserv } = await import('postgraphile/grafserv/node');
const { PostGraphileConnectionFilterPreset } = await import('postgraphile-plugin-connection-filter');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  // By default PostGraphile hides filters and orders on columns that lead no index (and on partial
  // indexes): the bench filters on deleted_at and follows activity_opportunity_idx, a partial index.
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      // bench_peer holds the search function the harness creates (the same SQL as Trellis' search).
      schemas: ['public', 'bench_peer'],
      pgSettings(ctx) {
        const id = ctx.http?.getHeader('x-workspace-id');
        if (typeof id !== 'string' || !UUID.test(id)) throw new Error('x-workspace-id must be a workspace uuid');
        return { 'app.workspace_id': id };
      },
    }),
  ],
  schema: { connectionFilterRelations: true },
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
await pgl.getSchema();
const handler = pgl.createServ(grafserv).createHandler();
const server = createServer((req, res) =>
  handler(req, res, () => {
    res.writeHead(req.url === '/readyz' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url === '/readyz' ? 'ready' : 'not found');
  }),
);
server.listen(Number(process.env.PORT), '127.0.0.1');

const shutdown = () => server.close(() => Promise.resolve(pgl.release()).finally(() => process.exit(0)));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
