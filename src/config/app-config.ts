import { readFileSync } from 'node:fs';
import { connectionCap } from './open-file-limit';
import { availableParallelism, hostname } from 'node:os';
import { CompressionCodecName, Environment, HealthShowDetails, SaslMechanismName } from './environment';

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/**
 * The logical name of the feedback topic: the pattern of its `@EventPattern` handler, which
 * AppConfig.consumers resolves to KAFKA_FEEDBACK_TOPIC and FEEDBACK_CONSUMER_GROUP.
 */
export const FEEDBACK = 'feedback';

/** The service's configuration as typed groups, built once from the validated environment. */
export class AppConfig {
  readonly app: { name: string; env: Environment['NODE_ENV']; version: string; buildCommit?: string };
  readonly http: {
    port: number;
    bodyLimitBytes: number;
    maxInFlightSends: number;
    sendTimeoutMs: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxRequestsPerSocket: number;
    maxConnections: number;
    maxHeaderBytes: number;
    maxQueryParameters: number;
    workers: number;
  };
  readonly log: {
    level: Environment['LOG_LEVEL'];
    format: 'json' | 'pretty';
    access: boolean;
    slowRequestMs: number;
  };
  readonly kafka: {
    brokers: string[];
    clientId: string;
    connectionTimeoutMs: number;
    requestTimeoutMs: number;
    ssl?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
    sasl?: { mechanism: SaslMechanismName; username: string; password: string };
  };
  readonly topics: { messages: TopicSpec; feedback: TopicSpec };
  /**
   * Every topic the service creates at start-up if missing (TopicProvisioner), derived here and only here:
   * the message topic, the feedback topic, and the feedback dead-letter topic when the consumer is enabled.
   */
  readonly provisionedTopics: readonly TopicSpec[];
  readonly producer: {
    compression: CompressionCodecName;
    batchSizeBytes: number;
    lingerMs: number;
    /** Idempotent producers, each with one request in flight per partition; a key always uses the same. */
    inFlightPerPartition: number;
    retry: { attempts: number; initialBackoffMs: number; multiplier: number };
    transactionalId: string;
    transactionPoolSize: number;
    maxRecordBytes: number;
  };
  readonly message: {
    types: string[];
    maxContentLength: number;
    maxMetadataEntries: number;
    maxMetadataValueLength: number;
    maxBatchMessages: number;
  };
  readonly health: { cacheMs: number; timeoutMs: number; showDetails: HealthShowDetails };
  readonly feedback: {
    enabled: boolean;
    topic: string;
    groupId: string;
    deadLetterTopic: TopicSpec;
    maxAttempts: number;
    retryBackoffMs: number;
  };
  /**
   * What the Kafka transport consumes, by logical name (the patterns of `@EventPattern` handlers): a topic
   * and a group, or null when that consumer is switched off.
   */
  readonly consumers: Record<string, { topic: string; groupId: string } | null>;
  readonly idempotency: {
    enabled: boolean;
    ttlMs: number;
    /** Bounds of the in-memory store (the default one). */
    maxKeys: number;
    maxBytes: number;
    /** The shared store, when IDEMPOTENCY_STORE_URL is set; keys stay in memory otherwise. */
    store?: {
      url: string;
      /** The CA certificate(s) to verify a rediss:// store with, when not the system's. */
      ca?: string;
      prefix: string;
      timeoutMs: number;
      leaseMs: number;
      inReadiness: boolean;
    };
  };
  readonly security: { apiKeys: string[]; actuatorRequiresApiKey: boolean };
  /** POST /api/events: on or off, the default topic, and the topic of each routed event type. */
  readonly cloudEvents: { enabled: boolean; topic: TopicSpec; typeTopics: Map<string, TopicSpec> };
  readonly shutdown: { timeoutMs: number };

  constructor(env: Environment, version = '0.0.0') {
    this.app = { name: env.APP_NAME, env: env.NODE_ENV, version, buildCommit: env.BUILD_COMMIT };
    this.http = {
      port: env.PORT,
      bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
      maxInFlightSends: env.MAX_IN_FLIGHT_SENDS,
      sendTimeoutMs: env.SEND_TIMEOUT_MS,
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxRequestsPerSocket: env.HTTP_MAX_REQUESTS_PER_SOCKET,
      maxConnections: connectionCap(env.HTTP_MAX_CONNECTIONS),
      maxHeaderBytes: env.HTTP_MAX_HEADER_BYTES,
      maxQueryParameters: env.HTTP_MAX_QUERY_PARAMETERS,
      workers: env.WORKERS === 0 ? availableParallelism() : env.WORKERS,
    };
    this.log = {
      level: env.LOG_LEVEL,
      format: env.LOG_FORMAT ?? (env.NODE_ENV === 'production' ? 'json' : 'pretty'),
      access: env.LOG_ACCESS,
      slowRequestMs: env.LOG_SLOW_REQUEST_MS,
    };
    this.kafka = {
      brokers: env.KAFKA_BROKERS,
      clientId: env.KAFKA_CLIENT_ID ?? env.APP_NAME,
      connectionTimeoutMs: env.KAFKA_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: env.KAFKA_REQUEST_TIMEOUT_MS,
      ssl: env.KAFKA_SSL_ENABLED
        ? {
            ca: readSecret('KAFKA_SSL_CA_FILE', env.KAFKA_SSL_CA_FILE),
            cert: readSecret('KAFKA_SSL_CERT_FILE', env.KAFKA_SSL_CERT_FILE),
            key: readSecret('KAFKA_SSL_KEY_FILE', env.KAFKA_SSL_KEY_FILE),
            rejectUnauthorized: env.KAFKA_SSL_REJECT_UNAUTHORIZED,
          }
        : undefined,
      sasl: saslOf(env),
    };
    const topic = (name: string): TopicSpec => ({
      name,
      partitions: env.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: env.KAFKA_TOPIC_REPLICATION_FACTOR,
      configs: {
        'retention.ms': String(env.KAFKA_TOPIC_RETENTION_MS),
        'min.insync.replicas': String(env.KAFKA_TOPIC_MIN_INSYNC_REPLICAS),
      },
    });
    this.topics = { messages: topic(env.KAFKA_TOPIC), feedback: topic(env.KAFKA_FEEDBACK_TOPIC) };
    this.producer = {
      compression: env.KAFKA_PRODUCER_COMPRESSION,
      batchSizeBytes: env.KAFKA_PRODUCER_BATCH_SIZE,
      lingerMs: env.KAFKA_PRODUCER_LINGER_MS,
      inFlightPerPartition: env.KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION,
      retry: {
        attempts: env.KAFKA_PRODUCER_RETRY_ATTEMPTS,
        initialBackoffMs: env.KAFKA_PRODUCER_RETRY_BACKOFF_MS,
        multiplier: env.KAFKA_PRODUCER_RETRY_MULTIPLIER,
      },
      // Unique per instance, so two replicas never fence each other's transactions.
      transactionalId: `${env.KAFKA_TRANSACTIONAL_ID_PREFIX ?? `${env.APP_NAME}-tx-`}${hostname()}-${process.pid}`,
      transactionPoolSize: env.KAFKA_TRANSACTION_POOL_SIZE,
      maxRecordBytes: env.KAFKA_MAX_RECORD_BYTES,
    };
    this.message = {
      types: env.MESSAGE_TYPES,
      maxContentLength: env.MESSAGE_MAX_CONTENT_LENGTH,
      maxMetadataEntries: env.MESSAGE_MAX_METADATA_ENTRIES,
      maxMetadataValueLength: env.MESSAGE_MAX_METADATA_VALUE_LENGTH,
      maxBatchMessages: env.BATCH_MAX_MESSAGES,
    };
    this.health = {
      cacheMs: env.HEALTH_CACHE_MS,
      timeoutMs: env.HEALTH_TIMEOUT_MS,
      showDetails: env.HEALTH_SHOW_DETAILS,
    };
    this.feedback = {
      enabled: env.FEEDBACK_CONSUMER_ENABLED,
      topic: env.KAFKA_FEEDBACK_TOPIC,
      groupId: env.FEEDBACK_CONSUMER_GROUP ?? `${env.APP_NAME}-consumer-group`,
      deadLetterTopic: topic(env.FEEDBACK_DLT_TOPIC ?? `${env.KAFKA_FEEDBACK_TOPIC}.DLT`),
      maxAttempts: env.FEEDBACK_MAX_ATTEMPTS,
      retryBackoffMs: env.FEEDBACK_RETRY_BACKOFF_MS,
    };
    this.consumers = {
      [FEEDBACK]: this.feedback.enabled
        ? { topic: this.feedback.topic, groupId: this.feedback.groupId }
        : null,
    };
    const fileKeys = (readSecret('API_KEYS_FILE', env.API_KEYS_FILE) ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('#'));
    this.security = {
      apiKeys: [...(env.API_KEYS ?? []), ...fileKeys],
      actuatorRequiresApiKey: env.ACTUATOR_REQUIRE_API_KEY,
    };
    this.shutdown = { timeoutMs: env.SHUTDOWN_TIMEOUT_MS };
    this.cloudEvents = {
      enabled: env.CLOUDEVENTS_ENABLED,
      topic: topic(env.CLOUDEVENTS_TOPIC ?? env.KAFKA_TOPIC),
      typeTopics: new Map(
        (env.CLOUDEVENTS_TYPE_TOPICS ?? []).map((entry) => {
          // Topic names hold no "=", so the last one separates them from the type.
          const at = entry.lastIndexOf('=');
          return [entry.slice(0, at).trim(), topic(entry.slice(at + 1).trim())];
        }),
      ),
    };
    // Every topic the service writes to, once each (CloudEvents topics only while /api/events is on).
    this.provisionedTopics = [
      ...new Map(
        [
          this.topics.messages,
          this.topics.feedback,
          ...(this.feedback.enabled ? [this.feedback.deadLetterTopic] : []),
          ...(this.cloudEvents.enabled
            ? [this.cloudEvents.topic, ...this.cloudEvents.typeTopics.values()]
            : []),
        ].map((spec) => [spec.name, spec]),
      ).values(),
    ];
    this.idempotency = {
      enabled: env.IDEMPOTENCY_ENABLED,
      ttlMs: env.IDEMPOTENCY_KEY_TTL_MS,
      maxKeys: env.IDEMPOTENCY_MAX_KEYS,
      maxBytes: env.IDEMPOTENCY_MAX_BYTES,
      store: env.IDEMPOTENCY_STORE_URL
        ? {
            url: env.IDEMPOTENCY_STORE_URL,
            ca: readSecret('IDEMPOTENCY_STORE_CA_FILE', env.IDEMPOTENCY_STORE_CA_FILE),
            prefix: env.IDEMPOTENCY_STORE_PREFIX ?? `${env.APP_NAME}:idempotency:`,
            timeoutMs: env.IDEMPOTENCY_STORE_TIMEOUT_MS,
            leaseMs: env.IDEMPOTENCY_LEASE_MS ?? env.SEND_TIMEOUT_MS + 5000,
            inReadiness: env.IDEMPOTENCY_STORE_IN_READINESS,
          }
        : undefined,
    };
  }
}

/** Reads a secret or certificate file named by a variable; a missing file stops start-up with its name. */
function readSecret(variable: string, file: string | undefined): string | undefined {
  if (!file) {
    return undefined;
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `Invalid configuration:\n  ${variable}=${JSON.stringify(file)}: ${(error as Error).message}`,
    );
  }
}

function saslOf(env: Environment): AppConfig['kafka']['sasl'] {
  if (!env.KAFKA_SASL_MECHANISM) {
    return undefined;
  }
  const password =
    readSecret('KAFKA_SASL_PASSWORD_FILE', env.KAFKA_SASL_PASSWORD_FILE)?.trim() ?? env.KAFKA_SASL_PASSWORD;
  if (!env.KAFKA_SASL_USERNAME || !password) {
    throw new Error(
      'Invalid configuration:\n  KAFKA_SASL_MECHANISM is set: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or _FILE) are required',
    );
  }
  return { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME, password };
}
