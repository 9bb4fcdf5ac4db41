import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { TestDatabase } from './db';

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'main.js');

export interface ServerProcess {
  proc: ChildProcess;
  /** http://127.0.0.1:<port>, from the welcome line. */
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** The JSON log lines written so far (stdout), parsed. */
  logs(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * `node dist/src/main.js` as an operator runs it, on a test database (DATABASE_URL), with only the
 * environment given (nothing of jest's: no NODE_ENV=test unless `env` sets it). Resolves once it
 * printed its URL.
 */
export function startServerProcess(db: TestDatabase, env: Record<string, string> = {}, timeoutMs = 30_000): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DATABASE_URL: db.appUrl,
      WORKER_DATABASE_URL: db.workerUrl,
      MIGRATION_DATABASE_URL: db.ownerUrl,
      JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
      PORT: '0',
      LOGIN_ATTEMPTS_PER_ADDRESS: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())));
  return new Promise((resolveStart, rejectStart) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      rejectStart(new Error(`${why}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`));
    };
    const timer = setTimeout(() => fail(`no "serving GraphQL" line within ${timeoutMs} ms`), timeoutMs);
    void exited.then(() => fail(`the service exited during start (code ${proc.exitCode})`));
    const onData = () => {
      const m = /Trellis is serving GraphQL at http:\/\/localhost:(\d+)/.exec(out);
      if (!m) return;
      proc.stdout!.off('data', onData);
      clearTimeout(timer);
      const port = Number(m[1]);
      resolveStart({
        proc,
        url: `http://127.0.0.1:${port}`,
        port,
        stdout: () => out,
        stderr: () => err,
        logs: () =>
          out
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        async stop() {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          await exited;
        },
      });
    };
    proc.stdout!.on('data', onData);
  });
}
