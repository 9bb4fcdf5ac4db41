import { type ExecutionResult, GraphQLError, GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL, makeServer, type ServerOptions } from 'graphql-ws';
import { nextMessageHead, operationsRunning, serializedOnce, withNextPayload, withSerializedPayload } from '../src/server/graphql-ws-internals';

/**
 * What src/server/graphql-ws-internals.ts relies on of graphql-ws' server beyond its documented
 * hooks, pinned against graphql-ws' own makeServer on a socket played by the test. A graphql-ws
 * upgrade that changes how it writes or sends messages, or when it registers an operation, fails
 * here: read the test's name for what changed, then graphql-ws-internals.ts.
 */
let gate: Promise<void> = Promise.resolve();
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { hello: { type: GraphQLString, resolve: () => 'world' } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      count: {
        type: GraphQLInt,
        args: { to: { type: GraphQLInt } },
        subscribe: async function* (_root, { to }: { to: number }) {
          for (let n = 1; n <= to; n++) {
            await gate;
            yield n;
          }
        },
        resolve: (n: number) => n,
      },
    },
  }),
});

type Options = ServerOptions<Record<string, unknown> | undefined, Record<string, never>>;

/** The connections a test opened, to close after it (graphql-ws keeps a connection's init timer until then). */
const open: ((code?: number, reason?: string) => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((closed) => closed(1000, 'done')));
});

/** One connection to a graphql-ws server with `options`: what it sent, and a way to send it a message. */
async function connect(options: Partial<Options> = {}, send: (message: string) => Promise<void> | void = () => undefined) {
  const server = makeServer({ schema, ...options } as Options);
  const sent: string[] = [];
  let receive!: (data: string) => Promise<void>;
  const closed = server.opened(
    {
      protocol: GRAPHQL_TRANSPORT_WS_PROTOCOL,
      send: (message) => {
        sent.push(message);
        return send(message);
      },
      close: () => undefined,
      onMessage: (cb) => {
        receive = cb;
      },
    },
    {},
  );
  open.push(closed);
  const message = (m: object) => receive(JSON.stringify(m));
  await message({ type: 'connection_init' });
  expect(sent.shift()).toBe('{"type":"connection_ack"}');
  return { sent, message };
}

const subscribe = (id: string, query: string) => ({ id, type: 'subscribe', payload: { query } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('graphql-ws internals that Trellis relies on (graphql-ws-internals.ts)', () => {
  it('a next message is JSON.stringify({ id, type: "next", payload }), keys in that order', async () => {
    const id = 'an "odd" id \\ with escapes';
    const c = await connect();
    await c.message(subscribe(id, '{ hello }'));
    const payload = { data: { hello: 'world' } };
    expect(c.sent[0]).toBe(JSON.stringify({ id, type: 'next', payload }));
    expect(c.sent[0]).toBe(nextMessageHead(id) + JSON.stringify(payload) + '}');
    expect(withNextPayload(c.sent[0], '{"errors":[]}')).toBe(nextMessageHead(id) + '{"errors":[]}}');
    expect(c.sent[1]).toBe(JSON.stringify({ id, type: 'complete' }));
    expect(withNextPayload(c.sent[1], '{}')).toBeNull();
  });

  it("onNext's payload is sent as it is, stringified (its toJSON honoured) and handed to send in the same synchronous step", async () => {
    // Two connections whose events interleave: each message must carry its own payload.
    const spliced: string[][] = [[], []];
    const results = new Map<string, ExecutionResult>();
    const onNext: Options['onNext'] = (_ctx, id, _payload, _args, result) => {
      const shared = { data: { n: (result as ExecutionResult).data?.count, on: id } };
      results.set(`${id}:${shared.data.n}`, shared);
      return serializedOnce(shared) as ExecutionResult;
    };
    const a = await connect({ onNext }, (m) => void spliced[0].push(withSerializedPayload(m)));
    const b = await connect({ onNext }, (m) => void spliced[1].push(withSerializedPayload(m)));
    await Promise.all([a.message(subscribe('a', 'subscription { count(to: 20) }')), b.message(subscribe('b', 'subscription { count(to: 20) }'))]);
    // What graphql-ws handed to send held the mark, not the payload.
    expect(a.sent[0]).not.toContain('"n":1');
    for (const [i, id] of ['a', 'b'].entries()) {
      const expected = Array.from({ length: 20 }, (_, k) => JSON.stringify({ id, type: 'next', payload: results.get(`${id}:${k + 1}`) }));
      expect(spliced[i]).toEqual(['{"type":"connection_ack"}', ...expected, JSON.stringify({ id, type: 'complete' })]);
    }
  });

  it("a promise returned by send holds the subscription's next message until it settles", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let first = true;
    const c = await connect({}, (m) => {
      if (!m.includes('"next"') || !first) return;
      first = false;
      return held;
    });
    const done = c.message(subscribe('s', 'subscription { count(to: 2) }'));
    await sleep(20);
    expect(c.sent).toEqual([nextMessageHead('s') + '{"data":{"count":1}}}']);
    release();
    await done;
    expect(c.sent.slice(1)).toEqual([nextMessageHead('s') + '{"data":{"count":2}}}', '{"id":"s","type":"complete"}']);
  });

  it('an operation is in ctx.subscriptions already when onSubscribe is called for it', async () => {
    const counts: number[] = [];
    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    const c = await connect({ onSubscribe: (ctx) => void counts.push(operationsRunning(ctx)) });
    const first = c.message(subscribe('1', 'subscription { count(to: 1) }'));
    await sleep(10);
    await c.message(subscribe('2', '{ hello }'));
    open();
    await first;
    gate = Promise.resolve();
    expect(counts).toEqual([1, 2]);
  });

  it('the errors onSubscribe returns are sent as their toJSON(), codes included', async () => {
    const c = await connect({ onSubscribe: () => [new GraphQLError('At most 1 operation', { extensions: { code: 'RATE_LIMITED' } })] });
    await c.message(subscribe('e', '{ hello }'));
    expect(c.sent).toEqual([JSON.stringify({ id: 'e', type: 'error', payload: [{ message: 'At most 1 operation', extensions: { code: 'RATE_LIMITED' } }] })]);
  });
});
