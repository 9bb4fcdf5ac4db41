// `npm run bench:startup`: what a newcomer waits for, on a fresh clone of this repository.
//
// The clone gets this checkout's installed packages (a symlinked node_modules: installing is the
// network's time, not Trellis') and is compiled as `npm install` does it (the `prepare` script).
// Then, three times each, in the clone:
//   - first start: `npm start` on a fresh data folder (initdb, migrations, the demo data) until the
//     first answer from the server (GET /healthz 200);
//   - second start: `npm start` again on that folder, until the first answer;
//   - CLI overhead: `npx trellis --help` and `npm run trellis -- --help`, start to exit (work: none).
// Each start is stopped as Ctrl-C does it (SIGINT to its process group). Reports the medians and the
// spreads, with the load average at start. Targets (issue 18): first start <= 20 s, second <= 3 s,
// CLI overhead <= 2 s.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeResult } from './config';
import { median, sleep } from './stats';

const ROOT = join(__dirname, '..', '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const round = (ms: number) => Math.round(ms);

/** Runs `npm start` in `dir` on `dataDir`; resolves with the ms to the first answer, then stops it as Ctrl-C does. */
async function timedStart(dir: string, dataDir: string, port: number): Promise<number> {
  const started = Date.now();
  const child = spawn('npm', ['start'], {
    cwd: dir,
    env: { ...process.env, TRELLIS_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stdout!.on('data', (d) => (stderr += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let ms: number;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}) before answering:\n${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      ms = Date.now() - started;
      break;
    }
    if (Date.now() - started > 180_000) throw new Error('no answer within 180 s');
    await sleep(50);
  }
  process.kill(-child.pid!, 'SIGINT');
  // npm itself dies of the SIGINT; the server is done when it has released the data folder.
  await exited;
  for (let i = 0; existsSync(join(dataDir, 'trellis.pid')); i++) {
    if (i > 600) throw new Error(`the server did not stop within 60 s of SIGINT:\n${stderr}`);
    await sleep(100);
  }
  return ms;
}

function timedCommand(dir: string, command: string, args: string[]): number {
  const started = Date.now();
  const r = spawnSync(command, args, { cwd: dir, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status})`);
  return Date.now() - started;
}

const summary = (xs: number[]) => ({ medianMs: round(median(xs)), spreadMs: [round(Math.min(...xs)), round(Math.max(...xs))], runsMs: xs.map(round) });

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const scratch = mkdtempSync(join(tmpdir(), 'trellis-bench-startup-'));
  // As root, PostgreSQL runs as another user, which must pass through to the data folders.
  chmodSync(scratch, 0o711);
  const clone = join(scratch, 'trellis');
  try {
    execFileSync('git', ['clone', '--quiet', ROOT, clone]);
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    const compileStarted = Date.now();
    execFileSync('npm', ['run', 'prepare', '--silent'], { cwd: clone, stdio: 'inherit' });
    const installCompileMs = Date.now() - compileStarted;

    const first: number[] = [];
    const second: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const dataDir = join(scratch, `data-${i}`);
      first.push(await timedStart(clone, dataDir, 4300 + i));
      second.push(await timedStart(clone, dataDir, 4300 + i));
      console.log(`run ${i + 1}: first start ${first[i]} ms, second start ${second[i]} ms`);
    }
    const npx: number[] = [];
    const npmRun: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      npx.push(timedCommand(clone, 'npx', ['--no-install', 'trellis', '--help']));
      npmRun.push(timedCommand(clone, 'npm', ['run', '--silent', 'trellis', '--', '--help']));
    }
    const result = {
      benchmark: 'startup',
      at: new Date().toISOString(),
      machine: { loadAverageAtStart: loadAtStart.map((l) => Math.round(l * 100) / 100) },
      installCompileMs,
      firstStart: summary(first),
      secondStart: summary(second),
      cliOverhead: { npxTrellis: summary(npx), npmRunTrellis: summary(npmRun) },
      targets: { firstStartMs: 20_000, secondStartMs: 3_000, cliOverheadMs: 2_000 },
    };
    const met =
      result.firstStart.medianMs <= 20_000 &&
      result.secondStart.medianMs <= 3_000 &&
      result.cliOverhead.npxTrellis.medianMs <= 2_000 &&
      result.cliOverhead.npmRunTrellis.medianMs <= 2_000;
    console.log(
      `\nstart-up, median of ${RUNS} (spread): first start ${result.firstStart.medianMs} ms (${result.firstStart.spreadMs.join('-')}), second start ${result.secondStart.medianMs} ms (${result.secondStart.spreadMs.join('-')}), ` +
        `npx trellis ${result.cliOverhead.npxTrellis.medianMs} ms (${result.cliOverhead.npxTrellis.spreadMs.join('-')}), npm run trellis ${result.cliOverhead.npmRunTrellis.medianMs} ms (${result.cliOverhead.npmRunTrellis.spreadMs.join('-')}); ` +
        `compile on install ${installCompileMs} ms; targets (20 s, 3 s, 2 s): ${met ? 'met' : 'NOT met'}`,
    );
    const file = writeResult('startup', result);
    console.log(`results written to ${file}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
