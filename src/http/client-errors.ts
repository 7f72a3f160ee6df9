import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { writeSocketError } from '../common/error-response';
import { ErrorCode } from '../common/errors';
import { Metrics } from '../observability/metrics';
import { closeAfterDraining } from './connections';

/*
 * The answer to bytes Node's HTTP parser refuses (bad framing, conflicting lengths, oversized headers, the
 * header and request deadlines), written on the raw socket in the documented error shape. Node raises the
 * error as soon as it parses the bad bytes, possibly while earlier requests of the same connection are still
 * being handled (pipelining, or garbage sent after a request): their answers come first, in order, and the
 * refusal only after them. A refusal never replaces the answer of a request that may have reached Kafka.
 */

/** What Node's HTTP parser refuses before there is a request, as status and code. */
export function clientErrorOf(code: string | undefined): {
  status: number;
  code: ErrorCode;
  message: string;
} {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: ErrorCode.HeadersTooLarge,
        message: 'The request line and headers are too large',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: ErrorCode.RequestTimeout,
        message: 'The request was not received in time',
      };
    default:
      return {
        status: 400,
        code: ErrorCode.MalformedRequest,
        message: `The HTTP request could not be parsed (${code ?? 'unknown error'})`,
      };
  }
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
}

/** Per connection: its requests not yet answered, and the refusal waiting for them. */
interface ConnectionState {
  open: Set<Exchange>;
  refusal?: () => void;
  /** The connection's bytes were refused once: later parser errors about them are not answered again. */
  refused?: boolean;
}

/**
 * Installs the clientError answer on `server`. A request whose body was fully received may be at Kafka: the
 * refusal waits until every such request of the connection has been answered. A request whose body is still
 * arriving is the one the bad bytes belong to (its handler has not run): it gets no answer of its own.
 */
export function installClientErrorAnswers(server: Server, metrics: Metrics): void {
  const connections = new WeakMap<Socket, ConnectionState>();
  const stateOf = (socket: Socket): ConnectionState => {
    let state = connections.get(socket);
    if (!state) {
      state = { open: new Set() };
      connections.set(socket, state);
    }
    return state;
  };
  const mayBeAtKafka = (state: ConnectionState): boolean =>
    [...state.open].some((exchange) => exchange.req.complete);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const state = stateOf(req.socket);
    const exchange = { req, res };
    state.open.add(exchange);
    // A response's 'close' follows its 'finish' (a tick later), or the end of its connection: once each.
    res.on('close', () => {
      state.open.delete(exchange);
      if (state.refusal && !mayBeAtKafka(state)) {
        const refuse = state.refusal;
        state.refusal = undefined;
        refuse();
      }
    });
  });

  server.removeAllListeners('clientError');
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const state = stateOf(socket);
    if (error.code === 'ECONNRESET' || socket.destroyed || state.refusal || state.refused) {
      return;
    }
    state.refused = true;
    // Bytes after a request that closes the connection (HTTP/1.0, `Connection: close`) are not read
    // (RFC 9112 §9.6): that request's answer is the connection's last.
    if (error.code === 'HPE_CLOSED_CONNECTION' && mayBeAtKafka(state)) {
      socket.pause();
      return;
    }
    const refusal = clientErrorOf(error.code);
    metrics.httpClientErrors.inc({ status: String(refusal.status), code: refusal.code });
    const head = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    const refuse = (): void => {
      // Nothing can be written mid-response, nor after the connection was closed.
      const inResponse = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (!socket.writable || inResponse?.headersSent) {
        socket.destroy();
        return;
      }
      writeSocketError(socket, refusal.code, refusal.status, refusal.message, head);
      // Bounded: a client that never reads its answer, or keeps sending, cannot hold the socket.
      closeAfterDraining(socket);
    };
    if (mayBeAtKafka(state)) {
      // Bytes after the refused ones are not requests: read no more of them.
      socket.pause();
      state.refusal = refuse;
      return;
    }
    refuse();
  });
}
