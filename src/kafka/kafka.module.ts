import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Admin, Kafka, ProducerConfig } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { registerCompressionCodecs } from './compression';
import { CONSUMING_EXPORTS, CONSUMING_PROVIDERS } from './consuming.providers';
import { createKafkaClient } from './kafka-client.factory';
import { KAFKA_HEALTH_INDICATORS } from './kafka-health';
import {
  KAFKA_ADMIN,
  KAFKA_CLIENT,
  KAFKA_PRODUCER,
  KAFKA_PRODUCING_CLIENT,
  KAFKA_TRANSACTIONAL_PRODUCER,
  SEND_ATTEMPT_RETRY,
} from './kafka.constants';
import { PartitionResolver } from './partition-resolver';
import { SendPolicy } from './send-policy';
import { explicitPartitioner } from './partitioner';
import { KafkaPublisher } from './kafka-publisher';
import { SupervisedProducer } from './supervised-producer';
import { TopicProvisioner } from './topic-provisioner';
import { PRODUCER_OBSERVER, ProducerMetricsObserver } from './producer-metrics.observer';

registerCompressionCodecs();

/**
 * A SupervisedProducer: idempotent (acks=all is required by it), one request in flight per broker (kafkajs'
 * requirement for idempotence), short inner retries, records sent to the partition KafkaPublisher picked (Java-compatible).
 */
function supervisedProducer(
  kafka: Kafka,
  config: AppConfig,
  observer: ProducerMetricsObserver,
  name: string,
  extra: Partial<ProducerConfig> = {},
): SupervisedProducer {
  return new SupervisedProducer(
    kafka,
    {
      idempotent: true,
      maxInFlightRequests: 1,
      retry: SEND_ATTEMPT_RETRY,
      createPartitioner: explicitPartitioner,
      ...extra,
    },
    name,
    config.kafka.connectionTimeoutMs * 2,
    observer,
  );
}

/**
 * The client of the producers and of the admin (metadata, the health check, topics): a broker silent for
 * SendPolicy.requestTimeoutMs is given up and dropped (send-policy.ts), so one frozen node holds up neither
 * the sends to other leaders nor the health check. The transaction coordinator's requests wait longer
 * (patches/). Consumers use KAFKA_CLIENT (KAFKA_REQUEST_TIMEOUT_MS).
 */
function producingClient(config: AppConfig): Kafka {
  return createKafkaClient(config, { requestTimeout: new SendPolicy(config).requestTimeoutMs });
}

/**
 * Owns kafkajs: the client, the idempotent and transactional producers, the admin (topic provisioning,
 * metadata) and consumers (ConsumerRunner: handler called, record committed after it returns). The only
 * module that imports kafkajs; the rest of the service talks to KafkaPublisher, TopicProvisioner and
 * ConsumerRunnerFactory.
 */
@Global()
@Module({
  providers: [
    { provide: KAFKA_CLIENT, inject: [AppConfig], useFactory: createKafkaClient },
    { provide: KAFKA_PRODUCING_CLIENT, inject: [AppConfig], useFactory: producingClient },
    {
      provide: KAFKA_ADMIN,
      inject: [KAFKA_PRODUCING_CLIENT],
      useFactory: (kafka: Kafka): Admin => kafka.admin({ retry: SEND_ATTEMPT_RETRY }),
    },
    { provide: PRODUCER_OBSERVER, useClass: ProducerMetricsObserver },
    {
      provide: KAFKA_PRODUCER,
      inject: [KAFKA_PRODUCING_CLIENT, AppConfig, PRODUCER_OBSERVER],
      // One idempotent producer per request in flight per partition (KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION):
      // `idempotent`, `idempotent-1`, … One quick inner retry each (kafkajs requires at least one for
      // idempotence); send-policy.ts decides everything after it.
      useFactory: (
        kafka: Kafka,
        config: AppConfig,
        observer: ProducerMetricsObserver,
      ): SupervisedProducer[] =>
        Array.from({ length: config.producer.inFlightPerPartition }, (_, i) =>
          supervisedProducer(kafka, config, observer, i === 0 ? 'idempotent' : `idempotent-${i}`, {
            retry: { ...SEND_ATTEMPT_RETRY, retries: 1 },
          }),
        ),
    },
    {
      // The pool behind atomic batches: transactional ids <transactionalId>-0 … -<n-1>.
      provide: KAFKA_TRANSACTIONAL_PRODUCER,
      inject: [KAFKA_PRODUCING_CLIENT, AppConfig, PRODUCER_OBSERVER],
      useFactory: (
        kafka: Kafka,
        config: AppConfig,
        observer: ProducerMetricsObserver,
      ): SupervisedProducer[] =>
        Array.from({ length: config.producer.transactionPoolSize }, (_, i) =>
          supervisedProducer(kafka, config, observer, `transactional-${i}`, {
            transactionalId: `${config.producer.transactionalId}-${i}`,
          }),
        ),
    },
    PartitionResolver,
    KafkaPublisher,
    TopicProvisioner,
    ...KAFKA_HEALTH_INDICATORS,
    // Consuming (the KafkaTransport and its runners): see consuming.providers.ts.
    ...CONSUMING_PROVIDERS,
  ],
  exports: [
    KAFKA_CLIENT,
    KAFKA_ADMIN,
    KafkaPublisher,
    TopicProvisioner,
    PartitionResolver,
    ...CONSUMING_EXPORTS,
  ],
})
export class KafkaModule implements OnApplicationShutdown {
  constructor(@Inject(KAFKA_ADMIN) private readonly admin: Admin) {}

  async onApplicationShutdown(): Promise<void> {
    await this.admin.disconnect().catch(() => undefined);
  }
}
