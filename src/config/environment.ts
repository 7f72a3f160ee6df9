import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';

export const HEALTH_SHOW_DETAILS = ['when-authorized', 'always', 'never'] as const;
export type HealthShowDetails = (typeof HEALTH_SHOW_DETAILS)[number];

/** Splits "a, b ,c" into ['a','b','c'], dropping empty items. */
const csv = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0)
    : value;

const bool = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') {
    return value;
  }
  const normalized = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(normalized)) {
    return true;
  }
  if (['false', '0', 'no', 'off', ''].includes(normalized)) {
    return false;
  }
  return value;
};

export const COMPRESSION_CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionCodecName = (typeof COMPRESSION_CODECS)[number];

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanismName = (typeof SASL_MECHANISMS)[number];

/**
 * Every environment variable the service reads, with its default. Validated once at start-up; the README
 * and .env.example list the same names. The seed's application.yml key is named where there is one.
 */
export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  /** spring.application.name */
  @IsString()
  @Matches(/^[A-Za-z0-9._-]+$/, { message: 'APP_NAME may only contain letters, digits, ".", "_" and "-"' })
  APP_NAME = 'kafka-producer-service';

  /** server.port */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' = 'info';

  /** json in production, pretty otherwise, unless set. */
  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: 'json' | 'pretty';

  /** One info line per HTTP request (off by default, like Spring Boot's access log). */
  @Transform(bool)
  @IsBoolean()
  LOG_ACCESS = false;

  /** Requests slower than this are logged (warn) with their request id even without LOG_ACCESS; 0 turns it off. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  LOG_SLOW_REQUEST_MS = 1000;

  /** spring.kafka.bootstrap-servers */
  @Transform(csv)
  @IsString({ each: true })
  @Matches(/^[^\s:,]+:\d{1,5}$/, { each: true, message: 'KAFKA_BROKERS must be host:port[,host:port…]' })
  @IsNotEmpty()
  KAFKA_BROKERS: string[] = ['localhost:29092'];

  /** spring.kafka.client-id (defaults to APP_NAME) */
  @IsOptional()
  @IsString()
  KAFKA_CLIENT_ID?: string;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  KAFKA_CONNECTION_TIMEOUT_MS = 3000;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  KAFKA_REQUEST_TIMEOUT_MS = 30000;

  /** KafkaProducerConfig.TOPIC_NAME */
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,249}$/, { message: 'KAFKA_TOPIC is not a valid Kafka topic name' })
  KAFKA_TOPIC = 'demo-topic';

  /** KafkaProducerConfig.FEEDBACK_TOPIC_NAME */
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,249}$/, { message: 'KAFKA_FEEDBACK_TOPIC is not a valid Kafka topic name' })
  KAFKA_FEEDBACK_TOPIC = 'feedback-topic';

  /** spring.kafka.topic.demo-topic.partitions */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  KAFKA_TOPIC_PARTITIONS = 3;

  /** spring.kafka.topic.demo-topic.replication-factor */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  KAFKA_TOPIC_REPLICATION_FACTOR = 1;

  /** spring.kafka.topic.demo-topic.configs.retention.ms */
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  KAFKA_TOPIC_RETENTION_MS = 604800000;

  /** spring.kafka.topic.demo-topic.configs.min.insync.replicas */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  KAFKA_TOPIC_MIN_INSYNC_REPLICAS = 1;

  /** spring.kafka.producer.compression-type */
  @IsIn(COMPRESSION_CODECS)
  KAFKA_PRODUCER_COMPRESSION: CompressionCodecName = 'snappy';

  /** spring.kafka.producer.batch-size */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  KAFKA_PRODUCER_BATCH_SIZE = 16384;

  /**
   * spring.kafka.producer.properties.linger.ms: 0 as in the Java client Spring Boot 3.5 uses. Records that
   * arrive while a produce request is in flight wait for it anyway, so batches grow with load without it.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1000)
  KAFKA_PRODUCER_LINGER_MS = 0;

  /**
   * Produce requests in flight per partition (the Java client's max.in.flight.requests.per.connection, 5):
   * each on its own idempotent producer (kafkajs sends one request per broker at a time per producer). A
   * batch takes a free one, so a record does not wait for the request ahead of it; a record whose key has
   * one in flight waits for it, so records with the same key keep their order. 1: one request per
   * partition at a time, the partition's order kept whatever the keys.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5)
  KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION = 5;

  /** @Retryable maxAttempts (spring.kafka.producer.retries counts retries after the first) */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  KAFKA_PRODUCER_RETRY_ATTEMPTS = 3;

  /** @Backoff(delay) */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  KAFKA_PRODUCER_RETRY_BACKOFF_MS = 1000;

  /** @Backoff(multiplier) */
  @Type(() => Number)
  @Min(1)
  KAFKA_PRODUCER_RETRY_MULTIPLIER = 2;

  /** spring.kafka.producer.transaction-id-prefix (the host name is appended) */
  @IsOptional()
  @IsString()
  KAFKA_TRANSACTIONAL_ID_PREFIX?: string;

  /**
   * Transactional producers (each with its own transactional id, `<prefix>…-<n>`) that run batch
   * transactions side by side; one transaction per producer at a time.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  KAFKA_TRANSACTION_POOL_SIZE = 8;

  /** Largest serialized record (key + value + headers) the service will send; the broker's default is 1 MiB. */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  KAFKA_MAX_RECORD_BYTES = 1048576;

  @Transform(csv)
  @IsString({ each: true })
  @Matches(/^[A-Z][A-Z0-9_]*$/, { each: true, message: 'MESSAGE_TYPES must be upper-case names' })
  @IsNotEmpty()
  MESSAGE_TYPES: string[] = ['INFO', 'WARNING', 'ERROR', 'DEBUG'];

  @Type(() => Number)
  @IsInt()
  @Min(1)
  MESSAGE_MAX_CONTENT_LENGTH = 262144;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  MESSAGE_MAX_METADATA_ENTRIES = 32;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  MESSAGE_MAX_METADATA_VALUE_LENGTH = 1024;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  BATCH_MAX_MESSAGES = 500;

  /** Largest HTTP request body, in bytes. */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  HTTP_BODY_LIMIT_BYTES = 1048576;

  /**
   * Processes serving HTTP (Node's cluster module, one producer and one feedback consumer each): 1 runs a
   * single process; 0 runs one per CPU the process may use.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(64)
  WORKERS = 1;

  /** Idempotency-Key on the produce endpoints (IETF draft-ietf-httpapi-idempotency-key-header). */
  @Transform(bool)
  @IsBoolean()
  IDEMPOTENCY_ENABLED = true;

  /** How long an answered Idempotency-Key is remembered (and replayed). */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  IDEMPOTENCY_KEY_TTL_MS = 86400000;

  /** Most keys remembered at once; the least recently used answered ones go first. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  IDEMPOTENCY_MAX_KEYS = 100000;

  /** Most bytes of stored answers at once; the least recently used go first. */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  IDEMPOTENCY_MAX_BYTES = 67108864;

  /**
   * Where Idempotency-Keys live: unset keeps them in this process's memory; `redis://[user:password@]host:port[/db]`
   * (or `rediss://` for TLS) shares them through Redis or Valkey (7.0 or later) across instances and workers.
   */
  @IsOptional()
  @Matches(/^rediss?:\/\/[^\s]+$/, {
    message: 'IDEMPOTENCY_STORE_URL must be redis://[user:password@]host[:port][/db] or rediss://…',
  })
  IDEMPOTENCY_STORE_URL?: string;

  /** A PEM file of the CA that signed the store's certificate (rediss:// with a private CA); else the system's CAs. */
  @IsOptional()
  @IsString()
  IDEMPOTENCY_STORE_CA_FILE?: string;

  /** Prefix of every key the service writes to the shared store (default: `<APP_NAME>:idempotency:`). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  IDEMPOTENCY_STORE_PREFIX?: string;

  /**
   * Longest one round trip to the shared store may take (connect included). A keyed request makes two: the
   * claim (past the bound: 503 IDEMPOTENCY_STORE_UNAVAILABLE, nothing published) and storing the answer
   * after Kafka acknowledged (past the bound: the 200 is sent anyway, the failure logged and counted).
   */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(10000)
  IDEMPOTENCY_STORE_TIMEOUT_MS = 500;

  /**
   * How long an in-flight claim outlives an instance that died holding it (default: SEND_TIMEOUT_MS + 5 s).
   * A live owner renews its claim every third of this while its send is in flight.
   */
  @Type(() => Number)
  @IsOptional()
  @IsInt()
  @Min(1000)
  IDEMPOTENCY_LEASE_MS?: number;

  /** Whether /actuator/health/readiness includes the shared store (it is always in /actuator/health). */
  @Transform(bool)
  @IsBoolean()
  IDEMPOTENCY_STORE_IN_READINESS = false;

  /** Longest a send waits for the broker's acknowledgement, retries included; then 503 (KAFKA_UNAVAILABLE or KAFKA_OUTCOME_UNKNOWN). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  SEND_TIMEOUT_MS = 10000;

  /** A client must send all request headers within this time (slowloris guard); else 408 and the connection closes. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  HTTP_HEADERS_TIMEOUT_MS = 10000;

  /** A client must send the whole request (headers and body) within this time; else 408. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  HTTP_REQUEST_TIMEOUT_MS = 30000;

  /**
   * An idle kept-alive connection is closed after this time. Fastify's own default: above the idle timeouts
   * of common load balancers (an AWS ALB's 60 s) and clients' connection pools, so the client closes first.
   * With Node's 5 s, a client reusing a connection just as the server closed it got ECONNRESET.
   */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 72000;

  /** Requests served on one connection before it is closed (0: no limit). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  HTTP_MAX_REQUESTS_PER_SOCKET = 0;

  /**
   * Open connections at once (bounded at start-up by the open-file soft limit less 256); more are answered
   * 503 with Retry-After and closed.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  HTTP_MAX_CONNECTIONS = 8192;

  /** Largest request line plus headers, in bytes; more gets 431. */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(1048576)
  HTTP_MAX_HEADER_BYTES = 16384;

  /** Most query parameters one request may carry; more gets 400. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  HTTP_MAX_QUERY_PARAMETERS = 32;

  /** Sends waiting for Kafka at once; more get 503 with Retry-After. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAX_IN_FLIGHT_SENDS = 10000;

  /** management.endpoint.health: how long a Kafka check result is reused. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  HEALTH_CACHE_MS = 1000;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  HEALTH_TIMEOUT_MS = 2000;

  /**
   * management.endpoint.health.show-details: who sees the components' details (cluster id, topics, group,
   * Kafka's error text). when-authorized: requests with a valid API key (nobody when API_KEYS is unset).
   */
  @IsIn(HEALTH_SHOW_DETAILS)
  HEALTH_SHOW_DETAILS: HealthShowDetails = 'when-authorized';

  @IsOptional()
  @IsString()
  BUILD_COMMIT?: string;

  @Transform(bool)
  @IsBoolean()
  FEEDBACK_CONSUMER_ENABLED = true;

  /** spring.kafka.consumer.group-id (default: <APP_NAME>-consumer-group, exactly) */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  FEEDBACK_CONSUMER_GROUP?: string;

  /** Dead-letter topic for feedback records that cannot be handled (default: <KAFKA_FEEDBACK_TOPIC>.DLT). */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,249}$/, { message: 'FEEDBACK_DLT_TOPIC is not a valid Kafka topic name' })
  FEEDBACK_DLT_TOPIC?: string;

  /** Attempts to handle one feedback record before it goes to the dead-letter topic. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  FEEDBACK_MAX_ATTEMPTS = 3;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  FEEDBACK_RETRY_BACKOFF_MS = 200;

  /** spring.kafka.ssl.*: TLS to the brokers. */
  @Transform(bool)
  @IsBoolean()
  KAFKA_SSL_ENABLED = false;

  /** PEM CA bundle that signs the brokers' certificates (default: the system's CAs). */
  @IsOptional()
  @IsString()
  KAFKA_SSL_CA_FILE?: string;

  /** PEM client certificate and key, for mutual TLS. */
  @IsOptional()
  @IsString()
  KAFKA_SSL_CERT_FILE?: string;

  @IsOptional()
  @IsString()
  KAFKA_SSL_KEY_FILE?: string;

  /** Verify the brokers' certificates and host names (leave on outside of experiments). */
  @Transform(bool)
  @IsBoolean()
  KAFKA_SSL_REJECT_UNAUTHORIZED = true;

  /** spring.kafka.properties.sasl.mechanism */
  @IsOptional()
  @IsIn(SASL_MECHANISMS)
  KAFKA_SASL_MECHANISM?: SaslMechanismName;

  @IsOptional()
  @IsString()
  KAFKA_SASL_USERNAME?: string;

  @IsOptional()
  @IsString()
  KAFKA_SASL_PASSWORD?: string;

  /** A file holding the SASL password (a mounted secret); wins over KAFKA_SASL_PASSWORD. */
  @IsOptional()
  @IsString()
  KAFKA_SASL_PASSWORD_FILE?: string;

  /** Comma-separated API keys; when set, every /api/** call needs one (Bearer or X-API-Key). */
  @Transform(csv)
  @IsOptional()
  @IsString({ each: true })
  API_KEYS?: string[];

  /** A file with one API key per line (a mounted secret); added to API_KEYS. */
  @IsOptional()
  @IsString()
  API_KEYS_FILE?: string;

  /** Whether /actuator/** (except health) needs an API key too when API keys are set. */
  @Transform(bool)
  @IsBoolean()
  ACTUATOR_REQUIRE_API_KEY = false;

  /** POST /api/events (CloudEvents in, Kafka records out); off answers 404 as for any unknown route. */
  @Transform(bool)
  @IsBoolean()
  CLOUDEVENTS_ENABLED = true;

  /** Topic of CloudEvents whose type has no entry in CLOUDEVENTS_TYPE_TOPICS (default: KAFKA_TOPIC). */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,249}$/, { message: 'CLOUDEVENTS_TOPIC is not a valid Kafka topic name' })
  CLOUDEVENTS_TOPIC?: string;

  /** Routing by event type: `type=topic,type2=topic2` (the type is matched exactly; topics are provisioned). */
  @Transform(csv)
  @IsOptional()
  @IsString({ each: true })
  @Matches(/^.+=[A-Za-z0-9._-]{1,249}$/, {
    each: true,
    message: 'CLOUDEVENTS_TYPE_TOPICS must be type=topic[,type=topic…] with valid Kafka topic names',
  })
  CLOUDEVENTS_TYPE_TOPICS?: string[];

  /** Longest graceful shutdown: in-flight sends finish and flush within it, then the process exits. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS = 15000;
}

/** Validates raw environment variables; throws one error naming every bad variable and why. */
export function validateEnvironment(raw: Record<string, string | undefined>): Environment {
  const defined = Object.fromEntries(
    Object.entries(raw).filter(([key, value]) => value !== undefined && key in new Environment()),
  );
  const env = plainToInstance(Environment, defined, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.map(
      (error) =>
        `${error.property}=${JSON.stringify(raw[error.property])}: ${Object.values(error.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return env;
}
