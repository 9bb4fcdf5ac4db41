// `npm run bench`: every benchmark, one after the other, each in its own process (so that one's
// servers and memory do not colour the next). BENCH_STEPS picks some: e.g. BENCH_STEPS=realtime,webhooks.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const STEPS = ['startup', 'run', 'sync', 'realtime', 'webhooks', 'automation', 'analytics', 'isolation'];
const chosen = process.env.BENCH_STEPS ? process.env.BENCH_STEPS.split(',').map((s) => s.trim()) : STEPS;
let failed = 0;
for (const step of chosen) {
  if (!STEPS.includes(step)) {
    process.stderr.write(`unknown bench step ${step} (steps: ${STEPS.join(', ')})\n`);
    process.exit(2);
  }
  process.stderr.write(`\n=== bench: ${step} ===\n`);
  const r = spawnSync(process.execPath, ['--enable-source-maps', join(__dirname, `${step}.js`), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
