import { Provider } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { getToken } from '@willsoto/nestjs-prometheus';
import { Gauge } from 'prom-client';
import { METRIC } from '../observability/metric-definitions';
import { ConsumerRunnerFactory } from './consumer-runner';
import { KafkaTransport } from './kafka-transport';

/**
 * KafkaModule's consuming side, kept apart from its producers: the ConsumerRunnerFactory and the
 * KafkaTransport, one for the app, which main.ts and the tests connect as the hybrid app's microservice
 * (src/app.setup.ts). Patterns resolve to topics and groups through AppConfig.consumers; group membership
 * shows in kafka_consumer_connected.
 */
export const CONSUMING_PROVIDERS: Provider[] = [
  ConsumerRunnerFactory,
  {
    provide: KafkaTransport,
    inject: [ConsumerRunnerFactory, AppConfig, getToken(METRIC.consumerConnected)],
    useFactory: (
      runners: ConsumerRunnerFactory,
      config: AppConfig,
      connected: Gauge<'group'>,
    ): KafkaTransport =>
      new KafkaTransport(runners, {
        consumers: config.consumers,
        membershipChanged: (group, inGroup) => connected.set({ group }, inGroup ? 1 : 0),
      }),
  },
];

export const CONSUMING_EXPORTS = [ConsumerRunnerFactory, KafkaTransport];
