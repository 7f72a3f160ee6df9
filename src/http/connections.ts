import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody, reasonPhrase } from '../common/error-response';
import { ErrorCode } from '../common/errors';
import { Metrics } from '../observability/metrics';

/*
 * Connection-level limits. A connection over HTTP_MAX_CONNECTIONS is answered (503 in the error shape, with
 * Retry-After and Connection: close) instead of being reset, as Node's server.maxConnections does. A
 * connection closed after an answer while the client may still be sending (a refusal before its body was
 * read) is half-closed and drained for a bounded time and number of bytes: closing a socket with unread
 * data makes the kernel send a reset, which can destroy the answer before the client reads it.
 */

/** How long and how much a closing connection is drained before it is destroyed. */
export const DRAIN_MS = 2000;
export const DRAIN_BYTES = 1024 * 1024;

/** Half-closes `socket` (after what was written) and discards what the client still sends, within bounds. */
export function closeAfterDraining(socket: Socket): void {
  if (socket.destroyed) {
    return;
  }
  const stop = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(stop, DRAIN_MS);
  timer.unref();
  let drained = 0;
  // The bytes are dropped, not parsed: a request among them would be processed with no way to answer it.
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_BYTES) {
      stop();
    }
  });
  socket.once('end', stop);
  socket.once('close', () => clearTimeout(timer));
  socket.on('error', () => undefined);
  socket.end();
  socket.resume();
}

type Closing = Socket & { destroySoon?: () => void };

/**
 * Makes Node's own close of `socket` after the current answer (Connection: close) drain instead: Node calls
 * destroySoon() once the answer is written.
 */
export function drainOnClose(socket: Socket): void {
  (socket as Closing).destroySoon = () => closeAfterDraining(socket);
}

/**
 * Caps the open connections at `cap`. Node's connection handling runs only for connections under it; one
 * over it gets the 503 on the raw socket, its bytes are drained, and it is closed.
 */
export function installConnectionCap(server: Server, cap: number, metrics: Metrics): void {
  let open = 0;
  const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    if (open >= cap) {
      metrics.httpClientErrors.inc({ status: '503', code: ErrorCode.Overloaded });
      const body = JSON.stringify(
        errorBody(503, {
          code: ErrorCode.Overloaded,
          message: `Too many open connections (at most ${cap}); retry shortly`,
          requestId: randomUUID(),
          path: '',
        }),
      );
      socket.on('error', () => undefined);
      socket.write(
        `HTTP/1.1 503 ${reasonPhrase(503)}\r\n` +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Retry-After: 1\r\nConnection: close\r\n\r\n' +
          body,
      );
      closeAfterDraining(socket);
      return;
    }
    open += 1;
    socket.once('close', () => {
      open -= 1;
    });
    for (const handler of handlers) {
      handler.call(server, socket);
    }
  });
}
