import { signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';
import { documentOf, rootFields, variablesOf } from './hardening/support/schema-walk';

// Issue 18, point 4: a subscription sent over HTTP POST was an INTERNAL_SERVER_ERROR with a stack
// trace. Every subscription of the schema, sent over HTTP, is a clear client error instead, which
// names the two ways subscriptions are served: the WebSocket, and Server-Sent Events (sse.ts).

describe('a subscription over HTTP POST', () => {
  let t: TestApp;
  let admin: SignedUp;

  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'development' });
    admin = await signUp(t, 'Subscriber over HTTP');
  });
  afterAll(() => t?.close());

  it('is refused (HTTP 400, BAD_REQUEST) with a message naming the WebSocket and the SSE endpoint, for every subscription field', async () => {
    const fields = rootFields(t.app.schema, 'Subscription');
    expect(fields.length).toBeGreaterThan(3);
    for (const field of fields) {
      const op = { root: 'Subscription' as const, field };
      const r = await t.gql(
        documentOf(op),
        variablesOf(op, () => undefined),
        admin.accessToken,
      );
      expect({ field: field.name, status: r.status, codes: r.errors?.map((e) => e.extensions.code) }).toEqual({
        field: field.name,
        status: 400,
        codes: ['BAD_REQUEST'],
      });
      expect(r.errors![0].message).toMatch(/WebSocket/);
      expect(r.errors![0].message).toMatch(/Server-Sent Events at \/graphql\/stream/);
      // Even where details are shown (NODE_ENV=development), a client error carries no stack trace.
      expect(JSON.stringify(r.body)).not.toMatch(/stacktrace|\bat .*\.js:\d+/);
    }
  });
});
