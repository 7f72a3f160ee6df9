import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
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
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
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
    case ErrorCode.MethodNotAllowed:
      return 405;
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
    case ErrorCode.UriTooLong:
      return 414;
    case ErrorCode.UnsupportedMediaType:
      return 415;
    case ErrorCode.ExpectationFailed:
      return 417;
    case ErrorCode.HeadersTooLarge:
      return 431;
    case ErrorCode.ClientClosedRequest:
      return 499;
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
    case ErrorCode.IdempotencyStoreUnavailable:
      return 503;
  }
}

export type ErrorFields = Omit<ErrorBody, 'status' | 'statusCode' | 'error' | 'timestamp'>;

/** Bounds on what an error body echoes (field names, values, paths): an answer stays a few KB at most. */
const MAX_MESSAGE = 1024;
const MAX_FIELD = 128;
const MAX_REASON = 256;
const MAX_PATH = 512;
const MAX_DETAILS = 50;

/** `text` cut to `max` characters (not between a surrogate pair), marked with … when cut. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) {
    return text;
  }
  const end = /[\ud800-\udbff]/.test(text[max - 2] ?? '') ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}

export function errorBody(statusCode: number, fields: ErrorFields): ErrorBody {
  const details = fields.details?.slice(0, MAX_DETAILS).map((detail) => ({
    field: bounded(detail.field, MAX_FIELD),
    reason: bounded(detail.reason, MAX_REASON),
  }));
  return {
    status: 'error',
    statusCode,
    error: reasonPhrase(statusCode),
    code: fields.code,
    message: bounded(fields.message, MAX_MESSAGE),
    ...(details ? { details } : {}),
    requestId: fields.requestId,
    path: bounded(fields.path, MAX_PATH),
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
 * Answers on Node's response object, for refusals Node makes before Fastify sees the request (an Expect
 * it cannot meet), then closes the connection: the body the client may send next is not read.
 */
export function writeResponseError(
  res: ServerResponse,
  requestId: string,
  path: string,
  fields: { code: ErrorCode; message: string },
): void {
  const statusCode = statusOf(fields.code);
  const body = JSON.stringify(errorBody(statusCode, { ...fields, requestId, path }));
  res.writeHead(statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    connection: 'close',
  });
  res.end(body);
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
