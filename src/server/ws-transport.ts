import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { nextMessageHead, withNextPayload, withSerializedPayload } from './graphql-ws-internals';

interface WsExtra {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
}

/** graphql-ws' server options (its hooks among them) for connections whose `extra` holds E besides the socket and request. */
export type WsServerOptions<E> = ServerOptions<Record<string, unknown> | undefined, WsExtra & Partial<E>>;

/** A socket's unsent bytes past which a subscription waits for the client before its next message. */
const HIGH_WATER_BYTES = 1 << 20;

/**
 * graphql-ws on a `ws` server: graphql-ws's own `useServer` (its docs invite copying it), with one
 * change for fan-out. `useServer` waits for each message to reach the kernel before the subscription
 * may send its next one, and every message is a system call of its own: with an event going to a
 * thousand subscribers, the writes were a third of the server's time. Here a message is queued at
 * once, and the messages of one turn of the event loop leave a socket in one write (the socket is
 * corked until the turn ends); a subscription waits only when its client has fallen a megabyte
 * behind, so that a slow reader still holds its stream back (and is cut off by liveStream's queue
 * limit) instead of filling memory.
 */
export function serveGraphqlWs<E extends Record<PropertyKey, unknown>>(
  options: WsServerOptions<E>,
  wss: WebSocketServer,
  keepAliveMs: number,
  onError: (err: unknown) => void,
  maxMessageBytes = Infinity,
) {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;
  wss.on('connection', (socket, request) => {
    const net = request.socket as Socket;
    socket.once('error', (err) => {
      onError(err);
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    // Keep-alive: a client that does not answer a ping within the interval is gone.
    let pongWait: NodeJS.Timeout | null = null;
    const pinger =
      keepAliveMs > 0
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
            socket.once('pong', () => {
              if (pongWait) clearTimeout(pongWait);
              pongWait = null;
            });
            socket.ping();
          }, keepAliveMs)
        : null;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (message) => {
          const complete = withSerializedPayload(message);
          if (socket.readyState !== socket.OPEN) return;
          const data = capped(complete, maxMessageBytes);
          corkForThisTurn(net);
          if (socket.bufferedAmount < HIGH_WATER_BYTES) return void socket.send(data);
          return new Promise<void>((resolve) => socket.send(data, () => resolve()));
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on('message', async (data) => {
            try {
              await cb(String(data));
            } catch (err) {
              onError(err);
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      { socket, request } as WsExtra & Partial<E>,
    );
    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      if (pinger) clearInterval(pinger);
      void closed(code, String(reason));
    });
  });
  return {
    async dispose() {
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
    },
  };
}

const corked = new Set<Socket>();

/** Holds the socket's writes until the current turn of the event loop ends, then sends them in one. */
function corkForThisTurn(net: Socket): void {
  if (corked.has(net)) return;
  net.cork();
  corked.add(net);
  if (corked.size === 1) setImmediate(uncorkAll);
}

function uncorkAll(): void {
  for (const net of corked) net.uncork();
  corked.clear();
}

/**
 * Writes `next` messages of subscription `id` straight to its socket, past graphql-ws (see
 * shared-execution.ts): the message graphql-ws would send, corked for the turn like graphql-ws' own.
 */
export function nextMessageWriter(extra: WsExtra, id: string, maxMessageBytes = Infinity) {
  const net = extra.request.socket as Socket;
  const head = nextMessageHead(id);
  return {
    /** The client has a megabyte unread: what follows goes through graphql-ws, which waits for it. */
    congested: () => extra.socket.bufferedAmount >= HIGH_WATER_BYTES,
    write(payloadJson: string): void {
      if (extra.socket.readyState !== extra.socket.OPEN) return;
      corkForThisTurn(net);
      extra.socket.send(capped(head + payloadJson + '}', maxMessageBytes));
    },
  };
}

/**
 * A message past the response byte cap is not sent: a `next` becomes a result with only a
 * QUERY_TOO_COMPLEX error (the subscription goes on); anything else larger (graphql-ws' own messages
 * never are) is sent as it is.
 */
function capped(message: string, maxBytes: number): string {
  if (message.length * 3 <= maxBytes || Buffer.byteLength(message) <= maxBytes) return message;
  const error = {
    message: `The result is larger than ${maxBytes} bytes (MAX_RESPONSE_BYTES); select fewer fields or ask for smaller pages`,
    extensions: { code: 'QUERY_TOO_COMPLEX' },
  };
  return withNextPayload(message, JSON.stringify({ errors: [error] })) ?? message;
}
