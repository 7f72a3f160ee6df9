import { Injectable } from '@nestjs/common';
import { Counter, Gauge, register } from 'prom-client';
import { Distribution } from './distribution';
import { registerProcessMetrics } from './process-metrics';

const DEFAULT_GAUGES_NAMED_TOTAL = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function counter<T extends string>(name: string, help: string, labelNames: readonly T[] = []): Counter<T> {
  return (register.getSingleMetric(name) as Counter<T>) ?? new Counter({ name, help, labelNames });
}
/** One Distribution per name for the process, like the registry's metrics (apps started in tests share them). */
const distributions = new Map<string, Distribution>();
function histogram<T extends string>(
  name: string,
  help: string,
  labelNames: readonly T[] = [],
  buckets = LATENCY_BUCKETS,
): Distribution<T> {
  let made = distributions.get(name) as Distribution<T> | undefined;
  if (!made) {
    made = new Distribution({ name, help, labelNames, buckets });
    distributions.set(name, made);
  }
  return made;
}
function gauge<T extends string>(name: string, help: string, labelNames: readonly T[] = []): Gauge<T> {
  return (register.getSingleMetric(name) as Gauge<T>) ?? new Gauge({ name, help, labelNames });
}

/**
 * Every metric the service defines, under the names Micrometer gives the seed's meters in Prometheus
 * (kafka.producer.messages.sent → kafka_producer_messages_sent_total, …); histograms are Micrometer's
 * timers and distribution summaries, with their windowed `_max` gauge. Registered on prom-client's
 * default registry, which /actuator/prometheus exposes. Labels are low-cardinality: topic, type, error
 * class, route template; never ids or keys.
 */
@Injectable()
export class Metrics {
  constructor() {
    // prom-client's default metrics include gauges named *_total (sums of nodejs_active_handles and
    // friends by type), which promtool rejects and Prometheus would treat as counters: drop the sums.
    for (const name of DEFAULT_GAUGES_NAMED_TOTAL) {
      register.removeSingleMetric(name);
    }
    registerProcessMetrics();
    // The metrics live on prom-client's process-wide registry, so an app built after another in the same
    // process (tests do) would inherit its counts: each app starts from zero. A no-op in a service process,
    // which builds one app before counting anything.
    for (const metric of Object.values(this) as unknown[]) {
      if (metric instanceof Counter || metric instanceof Distribution || metric instanceof Gauge) {
        metric.reset();
      }
    }
  }

  readonly messagesSent = counter('kafka_producer_messages_sent_total', 'Messages the broker acknowledged', [
    'topic',
    'type',
  ] as const);
  readonly messagesFailed = counter(
    'kafka_producer_messages_failed_total',
    'Messages that could not be sent',
    ['topic', 'type', 'error'] as const,
  );
  readonly sendTime = histogram(
    'kafka_producer_message_send_time_seconds',
    'Time from accepting a message to the broker acknowledgement, retries included',
    ['topic'] as const,
  );
  readonly messagesReceived = counter(
    'kafka_producer_messages_received_total',
    'Feedback messages received and handled',
    ['topic', 'type'] as const,
  );
  readonly messagesDeadLettered = counter(
    'kafka_producer_messages_dead_lettered_total',
    'Feedback records written to the dead-letter topic',
    ['topic', 'error'] as const,
  );
  readonly apiSend = histogram('api_message_send_seconds', 'Time taken to process message send request');
  readonly apiSendSimple = histogram(
    'api_message_send_simple_seconds',
    'Time taken to process simple message send request',
  );
  readonly apiSendBatch = histogram(
    'api_message_send_batch_seconds',
    'Time taken to process batch send request',
  );
  readonly httpRequests = histogram('http_server_requests_seconds', 'HTTP server requests', [
    'exception',
    'method',
    'error',
    'uri',
    'outcome',
    'status',
  ] as const);
  readonly httpClientErrors = counter(
    'http_server_client_errors_total',
    "Requests refused by Node's HTTP parser before routing (bad framing, oversized headers, timeouts)",
    ['status', 'code'] as const,
  );
  readonly idempotencyRequests = counter(
    'http_idempotency_requests_total',
    'Requests with an Idempotency-Key, by what happened: new (miss), replayed (hit), in_flight (409), mismatch (422)',
    ['outcome'] as const,
  );
  readonly idempotencyKeys = gauge(
    'http_idempotency_keys',
    'Idempotency-Keys remembered (answered or in flight)',
  );
  readonly idempotencyStoreTime = histogram(
    'http_idempotency_store_seconds',
    'Round trips to the shared Idempotency-Key store (IDEMPOTENCY_STORE_URL), by operation and outcome',
    ['operation', 'outcome'] as const,
  );
  readonly idempotencyStoreErrors = counter(
    'http_idempotency_store_errors_total',
    'Shared Idempotency-Key store operations that failed or timed out, by operation and error class',
    ['operation', 'error'] as const,
  );
  readonly sendRetries = counter(
    'kafka_producer_send_retries_total',
    'Send attempts retried after a retriable failure',
    ['topic'] as const,
  );
  readonly recordsPerRequest = histogram(
    'kafka_producer_batch_size_records',
    'Records per produce request (coalesced sends)',
    [] as const,
    [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
  );
  readonly bytesPerRequest = histogram(
    'kafka_producer_batch_size_bytes',
    'Uncompressed record bytes per produce request',
    [] as const,
    [256, 1024, 4096, 16384, 65536, 262144, 1048576],
  );
  readonly inFlightSends = gauge(
    'kafka_producer_in_flight_sends',
    'Sends waiting for a broker acknowledgement',
  );
  readonly kafkaRequests = counter(
    'kafka_producer_requests_total',
    'Requests the producers sent to brokers',
    ['producer', 'api'] as const,
  );
  readonly kafkaRequestDuration = histogram(
    'kafka_producer_request_duration_seconds',
    'Broker round trip of producer requests, from kafkajs request instrumentation',
    ['producer', 'api'] as const,
  );
  readonly kafkaRequestQueue = gauge(
    'kafka_producer_request_queue_size',
    'Requests queued on a broker connection',
    ['producer', 'broker'] as const,
  );
  readonly kafkaRequestTimeouts = counter(
    'kafka_producer_request_timeouts_total',
    'Broker requests that timed out',
    ['producer'] as const,
  );
  readonly producerConnected = gauge(
    'kafka_producer_connected',
    '1 when the producer is connected to the cluster',
    ['producer'] as const,
  );
  readonly producerReplacements = counter(
    'kafka_producer_replacements_total',
    'Producers thrown away and rebuilt after repeated failures',
    ['producer'] as const,
  );
  readonly consumerConnected = gauge(
    'kafka_consumer_connected',
    '1 when the feedback consumer is in its group',
    ['group'] as const,
  );
}
