// Injection tokens for the kafkajs clients and producers built by KafkaModule.

/** The consumers' client: KAFKA_REQUEST_TIMEOUT_MS. */
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
/** The producers' and the admin's client: a node silent for SendPolicy.requestTimeoutMs is given up. */
export const KAFKA_PRODUCING_CLIENT = Symbol('KAFKA_PRODUCING_CLIENT');
export const KAFKA_ADMIN = Symbol('KAFKA_ADMIN');
/** The idempotent producers (SupervisedProducer[], one per request in flight per partition) behind KafkaPublisher.send. */
export const KAFKA_PRODUCER = Symbol('KAFKA_PRODUCER');
/** The pool of transactional producers (SupervisedProducer[]) behind atomic batches. */
export const KAFKA_TRANSACTIONAL_PRODUCER = Symbol('KAFKA_TRANSACTIONAL_PRODUCER');

/**
 * Retry inside kafkajs for one produce attempt: short, because the service's own retry (the seed's
 * @Retryable: 1 s backoff, x2, 3 attempts) wraps every send and decides when to give up with 503.
 */
export const SEND_ATTEMPT_RETRY = {
  retries: 2,
  initialRetryTime: 100,
  maxRetryTime: 1000,
  factor: 0.2,
  multiplier: 2,
};
