// `bench:isolation`'s attacker, A, on a thread of its own. A real attacker is another machine: run on
// the bystander's event loop, A's client work (serialising a 300 KB filter bomb, parsing 1000-row
// pages) delayed the bystander's own timing callbacks and was counted as the server's slowness.
// Started by isolation.ts with { url, headers, attacks }; runs until told 'stop', then posts
// { codes, trace }.
import { parentPort, workerData } from 'node:worker_threads';
import { type Outcome, request } from './isolation-client';
import type { Server } from './servers';
import { sleep } from './stats';

export interface AttackerResult {
  /** The codes A got, counted per attack. */
  codes: Record<string, number>;
  /** Each of A's requests (BENCH_ISO_TRACE): `what@sent+ms:code`, sent in epoch ms. */
  trace: string[];
}

/** A's worst within the limits, until `stopped()`; the codes A got, counted. */
async function attack(a: Pick<Server, 'url' | 'headers'>, attacks: string[], stopped: () => boolean): Promise<AttackerResult> {
  const codes: Record<string, number> = {};
  const trace: string[] = [];
  const count = (what: string, r: Outcome) => (codes[`${what}:${r.code}`] = (codes[`${what}:${r.code}`] ?? 0) + 1);
  const slowFilter = { or: Array.from({ length: 99 }, (_, i) => ({ name: { contains: `no such name ${i}` } })) };
  const bomb = { or: Array.from({ length: 20_000 }, () => ({ owner: {} })) };
  const loop =
    (what: string, body: () => unknown, pauseMs = 0) =>
    async () => {
      if (!attacks.includes(what.split(' ')[0])) return;
      while (!stopped()) {
        const sent = Date.now();
        const r = await request(a, body());
        count(what, r);
        if (process.env.BENCH_ISO_TRACE) trace.push(`${what}@${sent}+${Math.round(r.ms)}:${r.code}`);
        if (pauseMs) await sleep(pauseMs);
      }
    };
  let batch = 0;
  await Promise.all([
    loop('slow filter', () => ({ query: 'query($f: AccountFilter) { accounts(filter: $f) { totalCount } }', variables: { f: slowFilter } }))(),
    loop('slow filter', () => ({ query: 'query($f: AccountFilter) { accounts(filter: $f) { totalCount } }', variables: { f: slowFilter } }))(),
    loop('slow filter', () => ({ query: 'query($f: AccountFilter) { accounts(filter: $f) { totalCount } }', variables: { f: slowFilter } }))(),
    loop('page at the cap', () => ({
      query: '{ accounts(first: 1000, filter: { name: { startsWith: "Bulk 1" } }) { nodes { id name domain industry website phone createdAt } } }',
    }))(),
    loop('bomb filter', () => ({ query: 'query($f: AccountFilter) { accounts(filter: $f) { totalCount } }', variables: { f: bomb } }), 100)(),
    loop(
      'import',
      () => {
        const csv = ['ext,name', ...Array.from({ length: 2000 }, (_, i) => `imp-${batch}-${i},Imported ${batch} ${i}`)].join('\n');
        batch++;
        return {
          query: 'mutation($i: StartImportInput!) { startImport(input: $i) { id } }',
          variables: { i: { entityType: 'ACCOUNT', csv, mapping: { ext: 'externalId', name: 'name' } } },
        };
      },
      2000,
    )(),
  ]);
  return { codes, trace };
}

if (parentPort) {
  const port = parentPort;
  const { server, attacks } = workerData as { server: Pick<Server, 'url' | 'headers'>; attacks: string[] };
  let stopped = false;
  port.once('message', () => (stopped = true));
  void attack(server, attacks, () => stopped).then((result) => port.postMessage(result));
}
