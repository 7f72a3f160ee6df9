import { KafkaFailureKind, KafkaSendError } from '../common/errors';

const AUTHORIZATION = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
]);
/** INVALID_RECORD is not among them: the broker's validation refused the record (a refusal for good, 502). */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
const UNKNOWN_TOPIC = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'INVALID_TOPIC_EXCEPTION']);
/** Answers after which a kafkajs idempotent producer's sequence numbers or epoch no longer match the broker's. */
const PRODUCER_STATE = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'INVALID_TXN_STATE',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/** Connection attempts that failed: no request went out on them. */
const NOT_CONNECTED =
  /connect (ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT)|getaddrinfo|Connection timeout/;

/**
 * A produce answer without an offset for a partition that was sent: its records were not taken, and no
 * caller may be told they were (retried as any failure before a request).
 */
export function missingAck(topic: string, partition: number): KafkaSendError {
  return new KafkaSendError(
    KafkaFailureKind.Retriable,
    `the broker acknowledged no offset for ${topic}-${partition}`,
    'MissingAck',
  );
}

/**
 * The broker refused the producer's sequence number or epoch: the batch was not appended, and this
 * producer id is out of step with the broker for good (kafkajs cannot bump its epoch; a new producer can).
 */
export function rejectsProducerState(failure: KafkaSendError): boolean {
  return PRODUCER_STATE.has(failure.errorClass);
}

interface KafkaJsLikeError {
  name?: string;
  type?: string;
  message?: string;
  retriable?: boolean;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown[];
}

/** Every error in a kafkajs error's chain (cause, originalError, aggregated errors), outermost first. */
function chain(error: unknown): KafkaJsLikeError[] {
  const seen: KafkaJsLikeError[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.length < 20) {
    const next = queue.shift();
    if (!next || typeof next !== 'object' || seen.includes(next)) {
      continue;
    }
    const err = next as KafkaJsLikeError;
    seen.push(err);
    queue.push(err.cause, err.originalError, ...(Array.isArray(err.errors) ? err.errors : []));
  }
  return seen;
}

/**
 * Turns whatever kafkajs threw into a KafkaSendError with a kind the service can act on. Authorization,
 * size and unknown-topic failures are final even when kafkajs wrapped them in a "retries exceeded" error.
 */
export function classifyKafkaError(error: unknown): KafkaSendError {
  if (error instanceof KafkaSendError) {
    return error;
  }
  const errors = chain(error);
  const types = errors.map((e) => e.type).filter((t): t is string => typeof t === 'string');
  const names = errors.map((e) => e.name).filter((n): n is string => typeof n === 'string');
  const innermost = errors[errors.length - 1];
  const detail = innermost?.message ?? String(error);
  const errorClass = types[types.length - 1] ?? names[names.length - 1] ?? 'Error';

  if (types.includes('SASL_AUTHENTICATION_FAILED') || names.includes('KafkaJSSASLAuthenticationError')) {
    return new KafkaSendError(
      KafkaFailureKind.AuthenticationFailed,
      detail,
      'SASL_AUTHENTICATION_FAILED',
      error,
    );
  }
  if (types.some((t) => AUTHORIZATION.has(t))) {
    return new KafkaSendError(KafkaFailureKind.NotAuthorized, detail, errorClass, error);
  }
  if (types.some((t) => TOO_LARGE.has(t))) {
    return new KafkaSendError(KafkaFailureKind.RecordTooLarge, detail, errorClass, error);
  }
  if (types.some((t) => UNKNOWN_TOPIC.has(t)) || names.includes('KafkaJSTopicMetadataNotLoaded')) {
    return new KafkaSendError(KafkaFailureKind.UnknownTopic, detail, errorClass, error);
  }
  const outer = errors[0];
  // kafkajs marks protocol errors it will not retry with retriable=false; connection trouble, timeouts and
  // exhausted retries are worth another attempt after a backoff.
  const final =
    outer?.name === 'KafkaJSNonRetriableError' && innermost?.retriable === false && types.length > 0;
  const kind = final ? KafkaFailureKind.Fatal : KafkaFailureKind.Retriable;
  return new KafkaSendError(
    kind,
    detail,
    errorClass,
    error,
    final || types.some((t) => PRODUCER_STATE.has(t)),
    // Refused: the broker answered with an error code, or no connection could be opened to send on.
    types.length > 0 || errors.some((e) => NOT_CONNECTED.test(e.message ?? '')),
  );
}
