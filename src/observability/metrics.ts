import { Injectable, Optional } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { Counter, Gauge, register } from 'prom-client';
import { Distribution, InjectDistribution } from './distribution';
import { METRIC, standaloneDistribution, standaloneMetric } from './metric-definitions';

const DEFAULT_GAUGES_NAMED_TOTAL = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * Every metric of the service in one injectable, for code that records several (the produce path, the
 * HTTP layer). The metrics themselves are nestjs-prometheus providers (metric-definitions.ts); a class that
 * needs one or two injects them directly with @InjectMetric / @InjectDistribution instead. Built without
 * the providers (`new Metrics()`, or a testing module providing Metrics alone), it makes each metric as
 * its provider would.
 *
 * Built once per app, it also readies the registry for that app: prom-client's default metrics include
 * gauges named *_total (sums of nodejs_active_handles and friends by type), which promtool rejects and
 * Prometheus would treat as counters, so those sums are dropped; and every metric of the service starts
 * from zero, since the registry is process-wide and an app built after another in the same process (tests
 * do) would inherit its counts (a no-op in a service process, which builds one app before counting).
 */
@Injectable()
export class Metrics {
  constructor(
    @Optional()
    @InjectMetric(METRIC.messagesSent)
    readonly messagesSent: Counter<'topic' | 'type'> = standaloneMetric(METRIC.messagesSent),
    @Optional()
    @InjectMetric(METRIC.messagesFailed)
    readonly messagesFailed: Counter<'topic' | 'type' | 'error'> = standaloneMetric(METRIC.messagesFailed),
    @Optional()
    @InjectDistribution(METRIC.sendTime)
    readonly sendTime: Distribution<'topic'> = standaloneDistribution(METRIC.sendTime),
    @Optional()
    @InjectMetric(METRIC.messagesReceived)
    readonly messagesReceived: Counter<'topic' | 'type'> = standaloneMetric(METRIC.messagesReceived),
    @Optional()
    @InjectMetric(METRIC.messagesDeadLettered)
    readonly messagesDeadLettered: Counter<'topic' | 'error'> = standaloneMetric(METRIC.messagesDeadLettered),
    @Optional()
    @InjectDistribution(METRIC.apiSend)
    readonly apiSend: Distribution<string> = standaloneDistribution(METRIC.apiSend),
    @Optional()
    @InjectDistribution(METRIC.apiSendSimple)
    readonly apiSendSimple: Distribution<string> = standaloneDistribution(METRIC.apiSendSimple),
    @Optional()
    @InjectDistribution(METRIC.apiSendBatch)
    readonly apiSendBatch: Distribution<string> = standaloneDistribution(METRIC.apiSendBatch),
    @Optional()
    @InjectDistribution(METRIC.httpRequests)
    readonly httpRequests: Distribution<
      'exception' | 'method' | 'error' | 'uri' | 'outcome' | 'status'
    > = standaloneDistribution(METRIC.httpRequests),
    @Optional()
    @InjectMetric(METRIC.httpClientErrors)
    readonly httpClientErrors: Counter<'status' | 'code'> = standaloneMetric(METRIC.httpClientErrors),
    @Optional()
    @InjectMetric(METRIC.idempotencyRequests)
    readonly idempotencyRequests: Counter<'outcome'> = standaloneMetric(METRIC.idempotencyRequests),
    @Optional()
    @InjectMetric(METRIC.idempotencyKeys)
    readonly idempotencyKeys: Gauge<string> = standaloneMetric(METRIC.idempotencyKeys),
    @Optional()
    @InjectDistribution(METRIC.idempotencyStoreTime)
    readonly idempotencyStoreTime: Distribution<'operation' | 'outcome'> = standaloneDistribution(
      METRIC.idempotencyStoreTime,
    ),
    @Optional()
    @InjectMetric(METRIC.idempotencyStoreErrors)
    readonly idempotencyStoreErrors: Counter<'operation' | 'error'> = standaloneMetric(
      METRIC.idempotencyStoreErrors,
    ),
    @Optional()
    @InjectMetric(METRIC.sendRetries)
    readonly sendRetries: Counter<'topic'> = standaloneMetric(METRIC.sendRetries),
    @Optional()
    @InjectDistribution(METRIC.recordsPerRequest)
    readonly recordsPerRequest: Distribution<never> = standaloneDistribution(METRIC.recordsPerRequest),
    @Optional()
    @InjectDistribution(METRIC.bytesPerRequest)
    readonly bytesPerRequest: Distribution<never> = standaloneDistribution(METRIC.bytesPerRequest),
    @Optional()
    @InjectMetric(METRIC.inFlightSends)
    readonly inFlightSends: Gauge<string> = standaloneMetric(METRIC.inFlightSends),
    @Optional()
    @InjectMetric(METRIC.kafkaRequests)
    readonly kafkaRequests: Counter<'producer' | 'api'> = standaloneMetric(METRIC.kafkaRequests),
    @Optional()
    @InjectDistribution(METRIC.kafkaRequestDuration)
    readonly kafkaRequestDuration: Distribution<'producer' | 'api'> = standaloneDistribution(
      METRIC.kafkaRequestDuration,
    ),
    @Optional()
    @InjectMetric(METRIC.kafkaRequestQueue)
    readonly kafkaRequestQueue: Gauge<'producer' | 'broker'> = standaloneMetric(METRIC.kafkaRequestQueue),
    @Optional()
    @InjectMetric(METRIC.kafkaRequestTimeouts)
    readonly kafkaRequestTimeouts: Counter<'producer'> = standaloneMetric(METRIC.kafkaRequestTimeouts),
    @Optional()
    @InjectMetric(METRIC.producerConnected)
    readonly producerConnected: Gauge<'producer'> = standaloneMetric(METRIC.producerConnected),
    @Optional()
    @InjectMetric(METRIC.producerReplacements)
    readonly producerReplacements: Counter<'producer'> = standaloneMetric(METRIC.producerReplacements),
    @Optional()
    @InjectMetric(METRIC.consumerConnected)
    readonly consumerConnected: Gauge<'group'> = standaloneMetric(METRIC.consumerConnected),
  ) {
    for (const name of DEFAULT_GAUGES_NAMED_TOTAL) {
      register.removeSingleMetric(name);
    }
    for (const metric of Object.values(this) as unknown[]) {
      if (metric instanceof Counter || metric instanceof Distribution || metric instanceof Gauge) {
        metric.reset();
      }
    }
  }
}
