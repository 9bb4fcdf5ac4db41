import 'reflect-metadata';
import cluster from 'node:cluster';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createApp, type App } from './server/app';
import { ConfigError, loadConfig, type Config } from './kernel/config';
import { connect, runMigrations } from './db/data-source';
import { claimDataDir, DataDirInUse } from './db/data-dir-lock';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded';
import { createLogger, type Logger } from './kernel/logger';
import { createServices, type Services } from './server/services';
import { clusterMetrics, forkWorkers, setupFromPrimary, type Workers } from './server/cluster';
import { isStopping, markStopping } from './kernel/lifecycle';
import { createDemoWorkspace, readDemoCredentials, type DemoCredentials } from './modules/workspaces/demo';
import { ENTITIES } from './modules/registry';

/**
 * The composition root: config -> database -> migrations -> schema -> HTTP + WebSocket server.
 * With WEB_CONCURRENCY > 1 this process (the primary) stops after the migrations and the demo data
 * and forks the workers that serve (src/ops/cluster.ts); each worker runs this from the connection on.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`trellis: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let embedded: EmbeddedDatabase | undefined;
  let embeddedStarting: Promise<EmbeddedDatabase> | undefined;
  let releaseDataDir: (() => void) | undefined;
  let ds: DataSource | undefined;
  let workerDs: DataSource | undefined;
  let app: App | undefined;
  let services: Services | undefined;
  let workers: Workers | undefined;
  let stopping: Promise<void> | undefined;
  const primary = cluster.isPrimary && config.webConcurrency > 1;

  let exitCode = 0;
  const shutdown = (reason: string, code = 0) => {
    exitCode = Math.max(exitCode, code);
    markStopping();
    stopping ??= (async () => {
      log.info({ reason }, 'shutting down');
      const force = setTimeout(() => process.exit(exitCode || 1), 60_000);
      force.unref();
      await workers?.stop().catch((err) => log.error({ err }, 'workers stop failed'));
      await app?.close().catch((err) => log.error({ err }, 'server close failed'));
      await services?.imports.stop().catch((err) => log.error({ err }, 'import runner stop failed'));
      await ds?.destroy().catch((err) => log.error({ err }, 'database close failed'));
      await workerDs?.destroy().catch((err) => log.error({ err }, 'database close failed'));
      // A start still in progress (initdb, say) is waited for, then stopped: nothing is left behind.
      const pg = embedded ?? (await embeddedStarting?.catch(() => undefined));
      await pg?.stop().catch((err) => log.error({ err }, 'embedded postgres stop failed'));
      releaseDataDir?.();
      log.info('stopped');
      process.exit(exitCode);
    })();
    return stopping;
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  // A worker whose primary is gone (killed outright) has no one to restart or stop it: it stops.
  if (cluster.isWorker) process.on('disconnect', () => void shutdown('primary exited'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });

  try {
    let ownerUrl: string | undefined;
    let appUrl: string;
    let workerUrl: string;
    if (cluster.isWorker) {
      ({ appUrl, workerUrl } = await setupFromPrimary());
    } else if (config.embedded) {
      try {
        releaseDataDir = claimDataDir(config.dataDir);
      } catch (err) {
        if (!(err instanceof DataDirInUse)) throw err;
        // One line, and nothing touched: the running server keeps its database.
        process.stderr.write(`trellis: ${err.message}\n`);
        process.exit(1);
      }
      log.info({ dataDir: config.dataDir }, 'starting embedded PostgreSQL');
      embeddedStarting = startEmbeddedPostgres({
        dataDir: config.dataDir,
        database: 'trellis',
        ownSession: true,
        onLog: (line) => log.debug({ postgres: line }),
        onUnexpectedExit: (how) => {
          // Ctrl-C in a terminal signals PostgreSQL too (one process group): that exit is expected.
          if (isStopping()) return;
          log.fatal({ dataDir: config.dataDir, how }, `the embedded PostgreSQL stopped on its own (${how}): Trellis stops too; start it again to restart both`);
          void shutdown('embedded PostgreSQL stopped', 1);
        },
      });
      embedded = await embeddedStarting;
      if (stopping) return;
      ownerUrl = embedded.ownerUrl;
      appUrl = embedded.appUrl;
      workerUrl = embedded.workerUrl;
    } else {
      ownerUrl = config.migrationDatabaseUrl!;
      appUrl = config.databaseUrl!;
      workerUrl = config.workerDatabaseUrl!;
    }
    if (config.runMigrations && ownerUrl) {
      const applied = await runMigrations(ownerUrl);
      if (applied.length) log.info({ applied }, 'migrations applied');
    }
    // While stopping, connections closing is expected (Ctrl-C in a terminal signals PostgreSQL too): not a warning.
    const onPoolError = (err: Error) => (isStopping() ? log.debug : log.warn).call(log, { error: err.message }, 'idle database connection lost');
    ds = await connect({
      entities: ENTITIES,
      url: appUrl,
      poolSize: config.dbPoolSize,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      statementTimeoutMs: config.tenancy.statementTimeoutMs,
      parallelWorkersPerQuery: config.tenancy.parallelWorkersPerQuery,
      onPoolError,
    });
    // The workers' own pool (see BACKGROUND_ROLE): background work and the password check, never a request.
    workerDs = await connect({
      entities: ENTITIES,
      url: workerUrl,
      poolSize: config.dbPoolSize,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      applicationName: 'trellis-workers',
      statementTimeoutMs: config.tenancy.workerStatementTimeoutMs,
      parallelWorkersPerQuery: config.tenancy.parallelWorkersPerQuery,
      onPoolError,
    });
    if (!cluster.isWorker) await checkRoles(ds, workerDs, config, log);
    services = createServices(ds, config, log, workerDs);

    let demo: DemoCredentials | null = null;
    if (config.embedded) {
      demo = readDemoCredentials(config.dataDir);
      if (!demo && ownerUrl && config.demoSeed && (await isEmpty(ownerUrl))) {
        log.info('loading the demo workspace (Maven CRM sample)');
        demo = await createDemoWorkspace(ds, services, config.dataDir);
      }
    }

    if (primary) {
      // The primary serves nothing itself: its connections are the workers' to use.
      await ds.destroy();
      await workerDs.destroy();
      ds = undefined;
      workerDs = undefined;
      services = undefined;
      workers = forkWorkers(config.webConcurrency, { appUrl, workerUrl }, log);
      printWelcome(await workers.listening, demo, config.explorer, config.webConcurrency);
      return;
    }

    // The explorer's headers editor starts with the demo key, so the first query just works.
    const metrics = cluster.isWorker ? clusterMetrics(services.metrics.registry) : undefined;
    app = await createApp(ds, config, log, services, { explorer: { defaultAuthorization: demo ? `Bearer ${demo.apiKey}` : undefined }, metrics });
    const port = await app.listen(config.port, config.host);
    await services.imports.resumeUnfinished();
    if (!cluster.isWorker) printWelcome(port, demo, config.explorer, 1);
  } catch (err) {
    log.fatal({ err }, 'start failed');
    await shutdown('start failed', 1);
  }
}

/**
 * Both pools must run under row-level security (no superuser, no BYPASSRLS), and only the workers'
 * may call the functions that read across workspaces: a request role that can is one injection away
 * from every tenant's data.
 */
async function checkRoles(ds: DataSource, workerDs: DataSource, config: Config, log: Logger): Promise<void> {
  const problems: string[] = [];
  for (const [pool, setting] of [
    [ds, 'DATABASE_URL'],
    [workerDs, 'WORKER_DATABASE_URL'],
  ] as const) {
    const [r]: { rolsuper: boolean; rolbypassrls: boolean; rolname: string; workers: boolean }[] = await pool.query(
      `SELECT rolname, rolsuper, rolbypassrls, has_function_privilege('worker_events_head()', 'EXECUTE') AS workers FROM pg_roles WHERE rolname = current_user`,
    );
    if (r?.rolsuper || r?.rolbypassrls)
      problems.push(
        `database role ${r.rolname} bypasses row-level security: connect ${setting} as a role granted ${setting === 'DATABASE_URL' ? 'trellis_app' : 'trellis_background'} (see README)`,
      );
    else if (setting === 'DATABASE_URL' && r?.workers)
      problems.push(
        `database role ${r.rolname} (DATABASE_URL) may call the workers' functions: serve requests as a role granted trellis_app only, not trellis_background (see README)`,
      );
    else if (setting === 'WORKER_DATABASE_URL' && !r?.workers)
      problems.push(`database role ${r?.rolname} (WORKER_DATABASE_URL) may not call the workers' functions: grant it trellis_background (see README)`);
  }
  for (const msg of problems) {
    if (config.env === 'production') throw new Error(msg);
    log.warn(msg);
  }
}

/** True when no workspace exists yet (read as the owner, which row-level security does not hide rows from). */
async function isEmpty(ownerUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const r = await client.query('SELECT NOT EXISTS (SELECT 1 FROM workspace) AS empty');
    return r.rows[0].empty as boolean;
  } finally {
    await client.end();
  }
}

function printWelcome(port: number, demo: DemoCredentials | null, explorer: boolean, processes: number): void {
  const url = `http://localhost:${port}/graphql`;
  const lines = [``, `Trellis is serving GraphQL at ${url} (HTTP and WebSocket${processes > 1 ? `, ${processes} worker processes` : ''})`];
  if (explorer) lines.push(`Open ${url} in a browser to explore the API (GraphiQL)${demo ? ', signed in with the demo API key' : ''}`);
  if (demo) {
    lines.push(
      ``,
      `Demo workspace "Demo Company"${demo.summary ? ` (${demo.summary.accounts} accounts, ${demo.summary.opportunities} opportunities, ${demo.summary.activities} activities, ${demo.summary.users} users)` : ''}:`,
      `  sign in   ${demo.email} / ${demo.password}`,
      `  API key   ${demo.apiKey}`,
      ``,
      `Try it:`,
      `  curl -s ${url} -H 'content-type: application/json' \\`,
      `    -H 'authorization: Bearer ${demo.apiKey}' \\`,
      `    -d '{"query":"{ me { kind workspace { name } scopes } }"}'`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}

void main();
