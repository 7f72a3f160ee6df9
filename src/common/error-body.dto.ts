import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ErrorBody, reasonPhrase, statusOf } from './error-response';
import { ErrorCode, FieldError } from './errors';

/**
 * The error shape (ErrorBody in error-response.ts) as OpenAPI sees it, and a decorator that documents a
 * route's error responses with one example per code. Documentation only: the filter and middleware that
 * write errors use ErrorBody.
 */
export class FieldErrorDto implements FieldError {
  @ApiProperty({ example: 'content', description: 'The offending field (dotted for nested ones)' })
  field!: string;

  @ApiProperty({ example: 'content is required' })
  reason!: string;
}

export class ErrorBodyDto implements ErrorBody {
  @ApiProperty({ enum: ['error'], example: 'error' })
  status!: 'error';

  @ApiProperty({ example: 400, description: 'The HTTP status, repeated in the body' })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request', description: 'The status reason phrase' })
  error!: string;

  @ApiProperty({
    example: ErrorCode.InvalidInput,
    description: `Stable machine-readable code: ${Object.values(ErrorCode).join(', ')} (and INTERNAL_ERROR for bugs)`,
  })
  code!: string;

  @ApiProperty({ example: 'Validation failed: content: content is required' })
  message!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'One entry per invalid field (INVALID_INPUT)' })
  details?: FieldErrorDto[];

  @ApiProperty({
    example: '4f7c2b0e-8a51-4c57-9d1e-2f3a9b6c0d11',
    description: 'The X-Request-Id of the request (echoed, or generated); also on every log line about it',
  })
  requestId!: string;

  @ApiProperty({ example: '/api/messages' })
  path!: string;

  @ApiProperty({ example: '2025-01-01T12:00:00.000Z', format: 'date-time' })
  timestamp!: string;
}

/** What a route can answer with one error code: an example body, as the service would write it. */
const EXAMPLES: Record<ErrorCode, { message: string; details?: FieldError[] }> = {
  [ErrorCode.InvalidInput]: {
    message: 'Validation failed: content: content is required',
    details: [{ field: 'content', reason: 'content is required' }],
  },
  [ErrorCode.MalformedRequest]: {
    message: 'The HTTP request could not be parsed (HPE_UNEXPECTED_CONTENT_LENGTH)',
  },
  [ErrorCode.RequestTimeout]: { message: 'The request was not received within 30000 ms' },
  [ErrorCode.HeadersTooLarge]: { message: 'The request line and headers exceed 16384 bytes' },
  [ErrorCode.SerializationFailed]: { message: 'Failed to serialize message 42' },
  [ErrorCode.Unauthenticated]: {
    message: 'An API key is required (Authorization: Bearer <key> or X-API-Key)',
  },
  [ErrorCode.KafkaNotAuthorized]: { message: 'The service is not authorized to write to demo-topic' },
  [ErrorCode.NotFound]: { message: 'Cannot POST /api/nothing' },
  [ErrorCode.MethodNotAllowed]: { message: 'GET is not allowed on /api/messages (Allow: POST)' },
  [ErrorCode.ExpectationFailed]: { message: 'Expect "200-ok" cannot be met: only 100-continue is supported' },
  [ErrorCode.UriTooLong]: { message: 'A path segment is longer than 200 characters' },
  [ErrorCode.IdempotencyKeyInUse]: {
    message: 'A request with this Idempotency-Key is still being processed; retry after it is answered',
  },
  [ErrorCode.IdempotencyKeyMismatch]: {
    message: 'This Idempotency-Key was already used with a different request',
  },
  [ErrorCode.IdempotencyStoreUnavailable]: {
    message:
      'The Idempotency-Key store is unreachable or did not answer within 500 ms; the message was not sent',
  },
  [ErrorCode.PayloadTooLarge]: { message: 'Request body exceeds 1048576 bytes' },
  [ErrorCode.RecordTooLarge]: { message: 'The broker rejected the record as too large for demo-topic' },
  [ErrorCode.NotAcceptable]: {
    message:
      'Accept must allow application/vnd.spring-boot.actuator.v3+json, application/vnd.spring-boot.actuator.v2+json or application/json (got "text/plain")',
  },
  [ErrorCode.UnsupportedMediaType]: { message: 'Content-Type must be application/json (got "text/plain")' },
  [ErrorCode.KafkaRejected]: { message: 'Kafka rejected the message; it was not sent' },
  [ErrorCode.KafkaUnavailable]: { message: 'Kafka is unavailable; the message was not sent' },
  [ErrorCode.KafkaOutcomeUnknown]: {
    message: 'No acknowledgement from Kafka within 10000 ms; the message may or may not have been written',
  },
  [ErrorCode.KafkaAuthenticationFailed]: {
    message: "Kafka refused the service's credentials (SASL authentication failed); the message was not sent",
  },
  [ErrorCode.TopicNotFound]: { message: 'Topic demo-topic does not exist' },
  [ErrorCode.Overloaded]: { message: 'Too many sends in flight; retry shortly' },
  [ErrorCode.ShuttingDown]: { message: 'The service is shutting down; retry on another instance' },
  [ErrorCode.ClientClosedRequest]: {
    message: 'The client closed the connection before the request was complete',
  },
  [ErrorCode.NotImplemented]: {
    message:
      'Transfer-Encoding "gzip" is not implemented: only chunked (use Content-Encoding to compress a body)',
  },
};

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (field-by-field details) or malformed JSON',
  401: 'API keys are configured and none (or a wrong one) was presented',
  403: "The service's Kafka principal lacks the ACL to write to the topic",
  409: 'A request with the same Idempotency-Key is still in flight (Retry-After: 1)',
  422: 'The Idempotency-Key was already used with a different body or query',
  413: 'The body exceeds HTTP_BODY_LIMIT_BYTES, or the record exceeds KAFKA_MAX_RECORD_BYTES',
  415: 'The body is not application/json, or its charset or Content-Encoding is not supported (Accept-Encoding lists the codings accepted)',
  501: 'A Transfer-Encoding other than chunked',
  502: 'Kafka refused the message for good; it was not sent',
  408: 'The client did not send the whole request within HTTP_REQUEST_TIMEOUT_MS (or its headers within HTTP_HEADERS_TIMEOUT_MS)',
  431: 'The request line and headers exceed HTTP_MAX_HEADER_BYTES',
  503: 'Try again later (Retry-After says when). KAFKA_OUTCOME_UNKNOWN: a produce request carrying the record failed or was still in flight at SEND_TIMEOUT_MS, it may have been written. Every other code: certainly not sent (Kafka unreachable, credentials refused, topic missing, too many sends in flight, the Idempotency-Key store unavailable, or shutting down)',
};

/** Every failure a publish to Kafka can answer with, whatever the endpoint (each adds its own). */
export const PUBLISH_ERRORS: readonly ErrorCode[] = [
  ErrorCode.InvalidInput,
  ErrorCode.Unauthenticated,
  ErrorCode.KafkaNotAuthorized,
  ErrorCode.PayloadTooLarge,
  ErrorCode.RecordTooLarge,
  ErrorCode.UnsupportedMediaType,
  ErrorCode.KafkaRejected,
  ErrorCode.KafkaUnavailable,
  ErrorCode.KafkaAuthenticationFailed,
  ErrorCode.TopicNotFound,
  ErrorCode.Overloaded,
  ErrorCode.KafkaOutcomeUnknown,
  ErrorCode.ShuttingDown,
];

/** Documents the error responses a send route can give, grouped by status, one named example per code. */
export function ApiErrorResponses(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = statusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, statusCodes]) =>
      ApiResponse({
        status,
        type: ErrorBodyDto,
        description: DESCRIPTIONS[status] ?? reasonPhrase(status),
        examples: Object.fromEntries(
          statusCodes.map((code) => [
            code,
            {
              summary: code,
              value: {
                status: 'error',
                statusCode: status,
                error: reasonPhrase(status),
                code,
                ...EXAMPLES[code],
                requestId: '4f7c2b0e-8a51-4c57-9d1e-2f3a9b6c0d11',
                path: '/api/messages',
                timestamp: '2025-01-01T12:00:00.000Z',
              },
            },
          ]),
        ),
      }),
    ),
  );
}
