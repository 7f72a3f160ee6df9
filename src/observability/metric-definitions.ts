import { Provider } from '@nestjs/common';
import { getToken, makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import { Distribution, getDistributionToken, makeDistributionProviders } from './distribution';
import { PROCESS_METRIC_PROVIDERS } from './process-metrics';

/**
 * The service's metric names, under the names Micrometer gives the seed's meters in Prometheus
 * (kafka.producer.messages.sent → kafka_producer_messages_sent_total, …). Inject one with
 * `@InjectMetric(METRIC.x)` (a Counter or Gauge) or `@InjectDistribution(METRIC.x)` (a histogram with its
 * windowed `_max`).
 */
export const METRIC = {
  messagesSent: 'kafka_producer_messages_sent_total',
  messagesFailed: 'kafka_producer_messages_failed_total',
  sendTime: 'kafka_producer_message_send_time_seconds',
  messagesReceived: 'kafka_producer_messages_received_total',
  messagesDeadLettered: 'kafka_producer_messages_dead_lettered_total',
  apiSend: 'api_message_send_seconds',
  apiSendSimple: 'api_message_send_simple_seconds',
  apiSendBatch: 'api_message_send_batch_seconds',
  httpRequests: 'http_server_requests_seconds',
  httpClientErrors: 'http_server_client_errors_total',
  idempotencyRequests: 'http_idempotency_requests_total',
  idempotencyKeys: 'http_idempotency_keys',
  idempotencyStoreTime: 'http_idempotency_store_seconds',
  idempotencyStoreErrors: 'http_idempotency_store_errors_total',
  sendRetries: 'kafka_producer_send_retries_total',
  recordsPerRequest: 'kafka_producer_batch_size_records',
  bytesPerRequest: 'kafka_producer_batch_size_bytes',
  inFlightSends: 'kafka_producer_in_flight_sends',
  kafkaRequests: 'kafka_producer_requests_total',
  kafkaRequestDuration: 'kafka_producer_request_duration_seconds',
  kafkaRequestQueue: 'kafka_producer_request_queue_size',
  kafkaRequestTimeouts: 'kafka_producer_request_timeouts_total',
  producerConnected: 'kafka_producer_connected',
  producerReplacements: 'kafka_producer_replacements_total',
  consumerConnected: 'kafka_consumer_connected',
} as const;

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A Micrometer timer: histogram in seconds with the latency buckets, and its `_max`. */
const timer = (name: string, help: string, labelNames: readonly string[] = []): Provider[] =>
  makeDistributionProviders({ name, help, labelNames, buckets: LATENCY_BUCKETS });

/**
 * Every metric of the service as nestjs-prometheus providers, on the registry PrometheusModule serves
 * (prom-client's default one), in the order /actuator/prometheus lists them: the service's own, then
 * Micrometer's process and system gauges. Labels are low-cardinality: topic, type, error class, route
 * template; never ids or keys.
 */
export const METRIC_PROVIDERS: Provider[] = [
  makeCounterProvider({
    name: METRIC.messagesSent,
    help: 'Messages the broker acknowledged',
    labelNames: ['topic', 'type'],
  }),
  makeCounterProvider({
    name: METRIC.messagesFailed,
    help: 'Messages that could not be sent',
    labelNames: ['topic', 'type', 'error'],
  }),
  ...timer(METRIC.sendTime, 'Time from accepting a message to the broker acknowledgement, retries included', [
    'topic',
  ]),
  makeCounterProvider({
    name: METRIC.messagesReceived,
    help: 'Feedback messages received and handled',
    labelNames: ['topic', 'type'],
  }),
  makeCounterProvider({
    name: METRIC.messagesDeadLettered,
    help: 'Feedback records written to the dead-letter topic',
    labelNames: ['topic', 'error'],
  }),
  ...timer(METRIC.apiSend, 'Time taken to process message send request'),
  ...timer(METRIC.apiSendSimple, 'Time taken to process simple message send request'),
  ...timer(METRIC.apiSendBatch, 'Time taken to process batch send request'),
  ...timer(METRIC.httpRequests, 'HTTP server requests', [
    'exception',
    'method',
    'error',
    'uri',
    'outcome',
    'status',
  ]),
  makeCounterProvider({
    name: METRIC.httpClientErrors,
    help: "Requests refused by Node's HTTP parser before routing (bad framing, oversized headers, timeouts)",
    labelNames: ['status', 'code'],
  }),
  makeCounterProvider({
    name: METRIC.idempotencyRequests,
    help: 'Requests with an Idempotency-Key, by what happened: new (miss), replayed (hit), in_flight (409), mismatch (422)',
    labelNames: ['outcome'],
  }),
  makeGaugeProvider({
    name: METRIC.idempotencyKeys,
    help: 'Idempotency-Keys remembered (answered or in flight)',
    labelNames: [],
  }),
  ...timer(
    METRIC.idempotencyStoreTime,
    'Round trips to the shared Idempotency-Key store (IDEMPOTENCY_STORE_URL), by operation and outcome',
    ['operation', 'outcome'],
  ),
  makeCounterProvider({
    name: METRIC.idempotencyStoreErrors,
    help: 'Shared Idempotency-Key store operations that failed or timed out, by operation and error class',
    labelNames: ['operation', 'error'],
  }),
  makeCounterProvider({
    name: METRIC.sendRetries,
    help: 'Send attempts retried after a retriable failure',
    labelNames: ['topic'],
  }),
  ...makeDistributionProviders({
    name: METRIC.recordsPerRequest,
    help: 'Records per produce request (coalesced sends)',
    labelNames: [],
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
  }),
  ...makeDistributionProviders({
    name: METRIC.bytesPerRequest,
    help: 'Uncompressed record bytes per produce request',
    labelNames: [],
    buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576],
  }),
  makeGaugeProvider({
    name: METRIC.inFlightSends,
    help: 'Sends waiting for a broker acknowledgement',
    labelNames: [],
  }),
  makeCounterProvider({
    name: METRIC.kafkaRequests,
    help: 'Requests the producers sent to brokers',
    labelNames: ['producer', 'api'],
  }),
  ...timer(
    METRIC.kafkaRequestDuration,
    'Broker round trip of producer requests, from kafkajs request instrumentation',
    ['producer', 'api'],
  ),
  makeGaugeProvider({
    name: METRIC.kafkaRequestQueue,
    help: 'Requests queued on a broker connection',
    labelNames: ['producer', 'broker'],
  }),
  makeCounterProvider({
    name: METRIC.kafkaRequestTimeouts,
    help: 'Broker requests that timed out',
    labelNames: ['producer'],
  }),
  makeGaugeProvider({
    name: METRIC.producerConnected,
    help: '1 when the producer is connected to the cluster',
    labelNames: ['producer'],
  }),
  makeCounterProvider({
    name: METRIC.producerReplacements,
    help: 'Producers thrown away and rebuilt after repeated failures',
    labelNames: ['producer'],
  }),
  makeGaugeProvider({
    name: METRIC.consumerConnected,
    help: '1 when the feedback consumer is in its group',
    labelNames: ['group'],
  }),
  ...PROCESS_METRIC_PROVIDERS,
];

type FactoryProvider = Extract<Provider, { useFactory: unknown }>;

/** A provider of METRIC_PROVIDERS run outside Nest, its dependencies likewise (PROMETHEUS_OPTIONS: none). */
function made(token: unknown): unknown {
  const provider = METRIC_PROVIDERS.find(
    (p): p is FactoryProvider => typeof p === 'object' && 'useFactory' in p && p.provide === token,
  );
  if (!provider) {
    throw new Error(`no metric provider for ${String(token)}`);
  }
  const args = (provider.inject ?? []).map((dependency) =>
    typeof dependency === 'object' && 'optional' in dependency ? undefined : made(dependency),
  );
  return (provider.useFactory as (...args: unknown[]) => unknown)(...args);
}

/**
 * A metric exactly as its provider makes it (the same metric, if the registry has it already), for a
 * Metrics built without the providers: `new Metrics()` or a testing module that provides Metrics alone.
 */
export function standaloneMetric<T>(name: string): T {
  return made(getToken(name)) as T;
}

/** A Distribution exactly as its providers make it, for a Metrics built without them. */
export function standaloneDistribution<T extends string>(name: string): Distribution<T> {
  return made(getDistributionToken(name)) as Distribution<T>;
}
