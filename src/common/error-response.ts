import { Response } from 'express';
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

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** The HTTP status of each domain error code, in one place. */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.InvalidInput:
    case ErrorCode.SerializationFailed:
      return 400;
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.KafkaNotAuthorized:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.PayloadTooLarge:
    case ErrorCode.RecordTooLarge:
      return 413;
    case ErrorCode.UnsupportedMediaType:
      return 415;
    case ErrorCode.KafkaRejected:
      return 502;
    case ErrorCode.Overloaded:
    case ErrorCode.KafkaUnavailable:
    case ErrorCode.KafkaAuthenticationFailed:
    case ErrorCode.TopicNotFound:
    case ErrorCode.ShuttingDown:
      return 503;
  }
}

/** Writes an error response (used by the exception filter and by middleware that answers before Nest). */
export function sendError(
  res: Response,
  statusCode: number,
  body: Omit<ErrorBody, 'status' | 'statusCode' | 'error' | 'timestamp'>,
  retryAfterSeconds?: number,
): void {
  if (retryAfterSeconds !== undefined) {
    res.setHeader('Retry-After', String(retryAfterSeconds));
  }
  const full: ErrorBody = {
    status: 'error',
    statusCode,
    error: reasonPhrase(statusCode),
    code: body.code,
    message: body.message,
    ...(body.details ? { details: body.details } : {}),
    requestId: body.requestId,
    path: body.path,
    timestamp: new Date().toISOString(),
  };
  res.status(statusCode).json(full);
}
