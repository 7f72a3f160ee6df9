import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import { ErrorCode, FieldError } from './errors';

/** The one JSON shape of every error the service returns. */
export interface ErrorBody {
  status: 'error';
  statusCode: number;
  error: string;
  code: string;
  message: string;
  details?: FieldError[];
  requestId: string;
  path: string;
  timestamp: string;
}

/** Fixed here rather than taken from node:http, whose phrases change between Node versions (413). */
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** The HTTP status of each domain error code, in one place (exhaustive: a new code must be given one). */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.InvalidInput:
    case ErrorCode.MalformedRequest:
    case ErrorCode.SerializationFailed:
      return 400;
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.KafkaNotAuthorized:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.NotAcceptable:
      return 406;
    case ErrorCode.RequestTimeout:
      return 408;
    case ErrorCode.IdempotencyKeyInUse:
      return 409;
    case ErrorCode.IdempotencyKeyMismatch:
      return 422;
    case ErrorCode.PayloadTooLarge:
    case ErrorCode.RecordTooLarge:
      return 413;
    case ErrorCode.UnsupportedMediaType:
      return 415;
    case ErrorCode.HeadersTooLarge:
      return 431;
    case ErrorCode.NotImplemented:
      return 501;
    case ErrorCode.KafkaRejected:
      return 502;
    case ErrorCode.Overloaded:
    case ErrorCode.KafkaUnavailable:
    case ErrorCode.KafkaOutcomeUnknown:
    case ErrorCode.KafkaAuthenticationFailed:
    case ErrorCode.TopicNotFound:
    case ErrorCode.ShuttingDown:
      return 503;
  }
}

export type ErrorFields = Omit<ErrorBody, 'status' | 'statusCode' | 'error' | 'timestamp'>;

export function errorBody(statusCode: number, fields: ErrorFields): ErrorBody {
  return {
    status: 'error',
    statusCode,
    error: reasonPhrase(statusCode),
    code: fields.code,
    message: fields.message,
    ...(fields.details ? { details: fields.details } : {}),
    requestId: fields.requestId,
    path: fields.path,
    timestamp: new Date().toISOString(),
  };
}

/** Writes an error response through Fastify (the exception filter is the only caller). */
export function sendError(
  reply: FastifyReply,
  statusCode: number,
  fields: ErrorFields,
  headers: Record<string, string> = {},
): void {
  void reply.status(statusCode).headers(headers).send(errorBody(statusCode, fields));
}

/**
 * Answers on a raw socket, for errors Node's HTTP parser raises before there is a request object (bad
 * framing, oversized headers, timeouts), then closes the connection: the rest of its bytes cannot be trusted.
 */
export function writeSocketError(
  socket: Socket,
  code: ErrorCode,
  statusCode: number,
  message: string,
  /** The answer to a HEAD request carries the headers only. */
  head = false,
): void {
  const body = JSON.stringify(errorBody(statusCode, { code, message, requestId: randomUUID(), path: '' }));
  socket.end(
    `HTTP/1.1 ${statusCode} ${reasonPhrase(statusCode)}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      (head ? '' : body),
  );
}
