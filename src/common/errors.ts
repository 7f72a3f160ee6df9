/**
 * The service's domain errors. Code throws these inside; AllExceptionsFilter maps each code to its HTTP
 * status once (an exhaustive switch), and the cause is logged there, never sent to the client.
 */
export enum ErrorCode {
  InvalidInput = 'INVALID_INPUT',
  /** The HTTP request itself could not be parsed (bad framing, conflicting lengths, bad URL). */
  MalformedRequest = 'MALFORMED_REQUEST',
  RequestTimeout = 'REQUEST_TIMEOUT',
  HeadersTooLarge = 'HEADERS_TOO_LARGE',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  /** The Accept header names no type the endpoint produces (the actuator's JSON types). */
  NotAcceptable = 'NOT_ACCEPTABLE',
  Unauthenticated = 'UNAUTHENTICATED',
  NotFound = 'NOT_FOUND',
  /** The route exists, for other methods (the answer's Allow header lists them). */
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  /** An Expect header other than 100-continue (RFC 9110 §10.1.1). */
  ExpectationFailed = 'EXPECTATION_FAILED',
  /** A path segment longer than the router accepts. */
  UriTooLong = 'URI_TOO_LONG',
  /** A request with this Idempotency-Key is still being processed. */
  IdempotencyKeyInUse = 'IDEMPOTENCY_KEY_IN_USE',
  /** This Idempotency-Key was used with a different request. */
  IdempotencyKeyMismatch = 'IDEMPOTENCY_KEY_MISMATCH',
  /** The shared Idempotency-Key store did not answer in time: the keyed request was not processed (nothing sent). */
  IdempotencyStoreUnavailable = 'IDEMPOTENCY_STORE_UNAVAILABLE',
  Overloaded = 'OVERLOADED',
  /** The message was certainly not written: retrying cannot duplicate it. */
  KafkaUnavailable = 'KAFKA_UNAVAILABLE',
  /** The send deadline passed while a produce request was in flight: the record may have been written. */
  KafkaOutcomeUnknown = 'KAFKA_OUTCOME_UNKNOWN',
  KafkaRejected = 'KAFKA_REJECTED',
  RecordTooLarge = 'RECORD_TOO_LARGE',
  KafkaNotAuthorized = 'KAFKA_NOT_AUTHORIZED',
  KafkaAuthenticationFailed = 'KAFKA_AUTHENTICATION_FAILED',
  TopicNotFound = 'TOPIC_NOT_FOUND',
  SerializationFailed = 'SERIALIZATION_FAILED',
  ShuttingDown = 'SHUTTING_DOWN',
  /** The client closed the connection before its request was complete: nobody is left to answer (499). */
  ClientClosedRequest = 'CLIENT_CLOSED_REQUEST',
  /** A request feature the server does not implement (a transfer coding other than chunked). */
  NotImplemented = 'NOT_IMPLEMENTED',
}

export interface FieldError {
  field: string;
  reason: string;
}

export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: {
      details?: FieldError[];
      retryAfterSeconds?: number;
      /** The methods the resource allows (METHOD_NOT_ALLOWED). */
      allow?: readonly string[];
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ServiceError';
  }

  get details(): FieldError[] | undefined {
    return this.options.details;
  }
}

export class InvalidInputError extends ServiceError {
  constructor(details: FieldError[], message = 'Validation failed') {
    super(ErrorCode.InvalidInput, `${message}: ${details.map((d) => `${d.field}: ${d.reason}`).join('; ')}`, {
      details,
    });
  }
}

/** What the Kafka layer says about a failed send, without kafkajs types. */
export enum KafkaFailureKind {
  /** Broker unreachable, timeouts, leader changes: retrying can help. */
  Retriable = 'retriable',
  /** The last connection attempt failed and reconnecting goes on in the background: fail fast, do not retry. */
  Unreachable = 'unreachable',
  RecordTooLarge = 'record-too-large',
  /** The broker refused the service's credentials (SASL): configuration, not the caller, must change. */
  AuthenticationFailed = 'authentication-failed',
  /** The service's principal lacks an ACL (e.g. WRITE on the topic). */
  NotAuthorized = 'not-authorized',
  UnknownTopic = 'unknown-topic',
  /** Anything else the broker refused for good. */
  Fatal = 'fatal',
}

export class KafkaSendError extends Error {
  constructor(
    readonly kind: KafkaFailureKind,
    message: string,
    /** The error class name for metrics labels (low cardinality). */
    readonly errorClass: string,
    cause?: unknown,
    /** The producer's sequence/epoch state may be out of step with the broker: rebuild the producer. */
    readonly resetsProducer = kind === KafkaFailureKind.RecordTooLarge || kind === KafkaFailureKind.Fatal,
    /**
     * The broker answered with an error code (the request was refused, nothing appended). False for
     * timeouts and dropped connections: a request in flight then may or may not have been appended.
     */
    readonly brokerAnswered = kind !== KafkaFailureKind.Retriable,
  ) {
    super(message, { cause });
    this.name = 'KafkaSendError';
  }
}
