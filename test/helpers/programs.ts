import { spawn } from 'node:child_process';

export interface ProgramRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: Record<string, string>;
  /** The working directory (default: this process's). */
  cwd?: string;
  /** A long-running program (a listener, a receiver) passes once its stdout shows this; it is then stopped. */
  until?: string;
  /** Called every `tickMs` while waiting for `until`: whatever makes the program print (a new activity, say). */
  onTick?: () => Promise<unknown>;
  tickMs?: number;
  timeoutMs?: number;
}

/**
 * Runs a compiled example (`node file.js`) as its users would, with only the environment given.
 * Without `until` it must exit by itself; with it, it runs until its output shows that text.
 */
export function runProgram(file: string, o: RunOptions): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: o.cwd, env: { PATH: process.env.PATH ?? '', ...o.env } });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (run: ProgramRun | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(ticker);
      if (child.exitCode === null) child.kill();
      if (run instanceof Error) reject(run);
      else resolve(run);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(`${file} did not ${o.until ? `print "${o.until}"` : 'exit'} within ${o.timeoutMs ?? 20_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`),
        ),
      o.timeoutMs ?? 20_000,
    );
    let ticking = false;
    const ticker = setInterval(() => {
      if (!o.onTick || ticking) return;
      ticking = true;
      o.onTick().finally(() => (ticking = false));
    }, o.tickMs ?? 500);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (o.until && stdout.includes(o.until)) finish({ code: null, stdout, stderr });
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => finish(err));
    child.on('close', (code) => finish({ code, stdout, stderr }));
  });
}
