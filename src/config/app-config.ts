import { hostname } from 'node:os';
import { CompressionCodecName, Environment, SaslMechanismName } from './environment';

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/** The service's configuration as typed groups, built once from the validated environment. */
export class AppConfig {
  readonly app: { name: string; env: Environment['NODE_ENV']; version: string; buildCommit?: string };
  readonly http: { port: number; bodyLimitBytes: number; maxInFlightSends: number };
  readonly log: { level: Environment['LOG_LEVEL']; format: 'json' | 'pretty' };
  readonly kafka: {
    brokers: string[];
    clientId: string;
    connectionTimeoutMs: number;
    requestTimeoutMs: number;
    ssl?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
    sasl?: { mechanism: SaslMechanismName; username: string; password: string };
  };
  readonly topics: { messages: TopicSpec; feedback: TopicSpec };
  readonly producer: {
    compression: CompressionCodecName;
    batchSizeBytes: number;
    lingerMs: number;
    retry: { attempts: number; initialBackoffMs: number; multiplier: number };
    transactionalId: string;
    maxRecordBytes: number;
  };
  readonly message: {
    types: string[];
    maxContentLength: number;
    maxMetadataEntries: number;
    maxMetadataValueLength: number;
    maxBatchMessages: number;
  };
  readonly health: { cacheMs: number; timeoutMs: number };
  readonly feedback: { enabled: boolean };

  constructor(env: Environment, version = '0.0.0') {
    this.app = { name: env.APP_NAME, env: env.NODE_ENV, version, buildCommit: env.BUILD_COMMIT };
    this.http = {
      port: env.PORT,
      bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
      maxInFlightSends: env.MAX_IN_FLIGHT_SENDS,
    };
    this.log = {
      level: env.LOG_LEVEL,
      format: env.LOG_FORMAT ?? (env.NODE_ENV === 'production' ? 'json' : 'pretty'),
    };
    this.kafka = {
      brokers: env.KAFKA_BROKERS,
      clientId: env.KAFKA_CLIENT_ID ?? env.APP_NAME,
      connectionTimeoutMs: env.KAFKA_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: env.KAFKA_REQUEST_TIMEOUT_MS,
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
      retry: {
        attempts: env.KAFKA_PRODUCER_RETRY_ATTEMPTS,
        initialBackoffMs: env.KAFKA_PRODUCER_RETRY_BACKOFF_MS,
        multiplier: env.KAFKA_PRODUCER_RETRY_MULTIPLIER,
      },
      // Unique per instance, so two replicas never fence each other's transactions.
      transactionalId: `${env.KAFKA_TRANSACTIONAL_ID_PREFIX ?? `${env.APP_NAME}-tx-`}${hostname()}-${process.pid}`,
      maxRecordBytes: env.KAFKA_MAX_RECORD_BYTES,
    };
    this.message = {
      types: env.MESSAGE_TYPES,
      maxContentLength: env.MESSAGE_MAX_CONTENT_LENGTH,
      maxMetadataEntries: env.MESSAGE_MAX_METADATA_ENTRIES,
      maxMetadataValueLength: env.MESSAGE_MAX_METADATA_VALUE_LENGTH,
      maxBatchMessages: env.BATCH_MAX_MESSAGES,
    };
    this.health = { cacheMs: env.HEALTH_CACHE_MS, timeoutMs: env.HEALTH_TIMEOUT_MS };
    this.feedback = { enabled: env.FEEDBACK_CONSUMER_ENABLED };
  }
}
