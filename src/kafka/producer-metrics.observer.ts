import { Injectable } from '@nestjs/common';
import { Producer } from 'kafkajs';
import { Metrics } from '../observability/metrics';
import { ProducerObserver } from './supervised-producer';

export const PRODUCER_OBSERVER = Symbol('PRODUCER_OBSERVER');

/** Turns kafkajs producer instrumentation events into Prometheus metrics. */
@Injectable()
export class ProducerMetricsObserver implements ProducerObserver {
  constructor(private readonly metrics: Metrics) {}

  attach(producer: Producer, name: string): void {
    producer.on(producer.events.REQUEST, ({ payload }) => {
      this.metrics.kafkaRequests.inc({ producer: name, api: payload.apiName });
      this.metrics.kafkaRequestDuration.observe(
        { producer: name, api: payload.apiName },
        payload.duration / 1000,
      );
    });
    producer.on(producer.events.REQUEST_QUEUE_SIZE, ({ payload }) => {
      this.metrics.kafkaRequestQueue.set({ producer: name, broker: payload.broker }, payload.queueSize);
    });
    producer.on(producer.events.REQUEST_TIMEOUT, () => {
      this.metrics.kafkaRequestTimeouts.inc({ producer: name });
    });
  }

  connectionChanged(name: string, connected: boolean): void {
    this.metrics.producerConnected.set({ producer: name }, connected ? 1 : 0);
  }

  replaced(name: string): void {
    this.metrics.producerReplacements.inc({ producer: name });
  }
}
