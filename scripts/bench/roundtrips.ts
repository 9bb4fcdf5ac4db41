import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that reads what clients send and counts round trips: every
 * simple Query ('Q') and every Sync ('S', the end of an extended-protocol batch) is one wait for the
 * server. It also keeps the statements sent (the text of each Query, and of the prepared statement
 * each Bind runs), to show what a request did. Used only to count, never while measuring speed.
 */
export interface CountingProxy {
  port: number;
  reset(): void;
  take(): { roundTrips: number; statements: string[] };
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

export function startCountingProxy(pgPort: number): Promise<CountingProxy> {
  let roundTrips = 0;
  let statements: string[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = connect(pgPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const prepared = new Map<string, string>();
    let buf: Buffer = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        if (!started) {
          if (buf.length < 8) break;
          const len = buf.readInt32BE(0);
          if (buf.length < len) break;
          const code = buf.readInt32BE(4);
          started = code !== SSL_REQUEST && code !== GSS_REQUEST;
          buf = buf.subarray(len);
          continue;
        }
        if (buf.length < 5) break;
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) break;
        const type = String.fromCharCode(buf[0]);
        const body = buf.subarray(5, 1 + len);
        if (type === 'Q') {
          roundTrips++;
          statements.push(body.toString('utf8', 0, body.length - 1));
        } else if (type === 'S') {
          roundTrips++;
        } else if (type === 'P') {
          const [name, text] = cstrings(body, 2);
          prepared.set(name, text);
        } else if (type === 'B') {
          const [, stmt] = cstrings(body, 2);
          statements.push(prepared.get(stmt) ?? `(prepared ${stmt})`);
        }
        buf = buf.subarray(1 + len);
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });

  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        reset() {
          roundTrips = 0;
          statements = [];
        },
        take: () => ({ roundTrips, statements: [...statements] }),
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

function cstrings(body: Buffer, count: number): string[] {
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const end = body.indexOf(0, at);
    out.push(body.toString('utf8', at, end));
    at = end + 1;
  }
  return out;
}
