import { type ExecutionResult, GraphQLInt, GraphQLObjectType, GraphQLSchema, parse } from 'graphql';
import type { Config } from '../src/kernel/config';
import { RequestContext } from '../src/data/context';
import { subscribeShared } from '../src/server/shared-execution';
import type { Logger } from '../src/kernel/logger';
import { type Emitter, liveStream, perEvent } from '../src/modules/realtime/live-stream';

/**
 * Subscriptions' direct delivery (shared-execution.ts with live-stream.ts), without a database or a
 * socket: a one-field schema whose resolver is synchronous or waits, a liveStream as the source,
 * graphql-ws' loop played by a for-await, and a direct output that records what it is given.
 */
type Payload = { n: number; sync?: boolean; delay?: number; gate?: Promise<void> };

let running = 0;
let mostRunning = 0;

function schemaOver(source: () => AsyncIterable<Payload | Error>): GraphQLSchema {
  const Ev = new GraphQLObjectType({
    name: 'Ev',
    fields: {
      n: {
        type: GraphQLInt,
        resolve: (p: Payload) => {
          if (p.sync) return p.n;
          return (async () => {
            running++;
            mostRunning = Math.max(mostRunning, running);
            try {
              if (p.gate) await p.gate;
              else await new Promise((r) => setTimeout(r, p.delay ?? 0));
              return p.n;
            } finally {
              running--;
            }
          })();
        },
      },
    },
  });
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Q', fields: { x: { type: GraphQLInt } } }),
    subscription: new GraphQLObjectType({
      name: 'S',
      fields: {
        ev: {
          type: Ev,
          subscribe: (_root, _args, ctx: RequestContext) => perEvent(ctx, source()),
          resolve: (p: Payload | Error) => {
            if (p instanceof Error) throw p;
            return p;
          },
        },
      },
    }),
  });
}

type Written = { via: 'direct' | 'iterator'; result: ExecutionResult } | { via: 'complete' };

async function subscription(o: { maxQueue?: number; congested?: () => boolean; failOn?: (r: ExecutionResult) => boolean } = {}) {
  let emitter!: Emitter<Payload>;
  const stream = liveStream<Payload>(o.maxQueue ?? 1000, (emit) => {
    emitter = emit;
    return () => undefined;
  });
  const log: Written[] = [];
  const quiet = { error: () => undefined } as unknown as Logger;
  const ctx = new RequestContext('test', null as never, {} as Config, quiet, null, null, null);
  ctx.directOutput = {
    congested: o.congested ?? (() => false),
    send: (result) => {
      if (o.failOn?.(result)) throw new Error('cannot serialize');
      log.push({ via: 'direct', result });
    },
  };
  const it = (await subscribeShared({
    schema: schemaOver(() => stream),
    document: parse('subscription { ev { n } }'),
    contextValue: ctx,
  })) as AsyncGenerator<ExecutionResult>;
  const loop = (async () => {
    for await (const result of it) {
      await Promise.resolve(); // graphql-ws awaits its onNext and send
      log.push({ via: 'iterator', result });
    }
    log.push({ via: 'complete' });
  })();
  // The stream starts producing on the loop's first next().
  await new Promise((r) => setTimeout(r, 5));
  return { emit: emitter, it, loop, log };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const numberOf = (w: Written) => (w.via === 'complete' ? null : ((w.result.data?.ev as { n: number } | null)?.n ?? null));
const messageOf = (w: Written) => (w.via === 'complete' ? null : (w.result.errors?.[0]?.message ?? null));

describe('subscription results written past the iterator', () => {
  beforeEach(() => {
    running = 0;
    mostRunning = 0;
  });

  it('keeps every subscriber in order, without duplicates or losses, whatever mix of ready and waiting results, errors, replays and congestion', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    let direct = 0;
    let iterated = 0;
    for (let round = 0; round < 150; round++) {
      let congested = false;
      const s = await subscription({ maxQueue: 1 + Math.floor(random() * 30), congested: () => congested });
      const expected: number[] = [];
      for (let i = 0; i < 40 && !s.emit.closed; i++) {
        const k = random();
        if (random() < 0.1) congested = !congested;
        if (k < 0.15) void s.emit.pushAndWait({ n: i, sync: random() < 0.5, delay: Math.floor(random() * 3) });
        else s.emit.push({ n: i, sync: random() < 0.4, delay: Math.floor(random() * 4) });
        if (!s.emit.closed) expected.push(i);
        if (random() < 0.3) await sleep(Math.floor(random() * 3));
      }
      const cutOff = s.emit.closed;
      // The source ends: done, or failed (its error is the last result).
      const failed = random() < 0.3;
      if (failed) s.emit.fail(new Error('source failed'));
      else s.emit.complete();
      await s.loop;
      if (failed && !cutOff) expect(messageOf(s.log.at(-2)!)).toBe('source failed');
      const numbers = s.log.map(numberOf).filter((n): n is number => n !== null);
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      expect(new Set(numbers).size).toBe(numbers.length);
      expect(s.log.findIndex((w) => w.via === 'complete')).toBe(s.log.length - 1);
      // Cut off (RATE_LIMITED) or not, every value accepted before the end is delivered.
      expect(numbers).toEqual(expected);
      if (cutOff) expect(s.log.some((w) => /fell \d+ events behind/.test(messageOf(w) ?? ''))).toBe(true);
      direct += s.log.filter((w) => w.via === 'direct').length;
      iterated += s.log.filter((w) => w.via === 'iterator').length;
    }
    // Both paths were taken, and interleaved.
    expect(direct).toBeGreaterThan(100);
    expect(iterated).toBeGreaterThan(100);
  });

  it('cuts a subscriber off at its queue limit, counting what the direct path holds, and runs its executions one at a time', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await subscription({ maxQueue: 5 });
    for (let i = 0; i <= 200 && !s.emit.closed; i++) s.emit.push({ n: i, gate });
    expect(s.emit.closed).toBe(true);
    expect(running).toBe(1);
    release();
    await s.loop;
    expect(s.log.map(numberOf).filter((n) => n !== null)).toEqual([0, 1, 2, 3, 4]);
    expect(s.log.map(messageOf).filter(Boolean)).toEqual([expect.stringMatching(/fell 5 events behind/)]);
    expect(mostRunning).toBe(1);
  });

  it('ends the stream with an error when a result cannot be written, instead of leaving it waiting', async () => {
    const s = await subscription({ failOn: (r) => (r.data?.ev as { n: number } | undefined)?.n === 2 });
    s.emit.push({ n: 1, sync: true });
    s.emit.push({ n: 2, delay: 1 });
    await sleep(20);
    s.emit.push({ n: 3, sync: true });
    await s.loop;
    expect(s.log.map(numberOf).filter((n) => n !== null)).toEqual([1]);
    expect(s.log.map(messageOf).filter(Boolean)).toEqual(['cannot serialize']);
    expect(s.log.at(-1)).toEqual({ via: 'complete' });
  });
});
