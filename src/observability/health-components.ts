import { FeedbackConsumerHealth } from '../feedback/feedback-consumer.health';
import { IdempotencyStoreHealth } from '../idempotency/idempotency-store.health';
import { KafkaClusterHealth, KafkaProducerHealth } from '../kafka/kafka-health';
import { HealthComponentSpec } from './health-indicator';

/**
 * The components of /actuator/health, in the order it shows them (Spring's HealthContributorRegistry).
 * Adding one: a ComponentHealthIndicator provided by its own module, and one line here.
 */
export const HEALTH_COMPONENTS: readonly HealthComponentSpec[] = [
  // The cluster answers and the producer is connected: whether to send this instance traffic.
  { key: 'kafka', indicator: KafkaClusterHealth, readiness: true },
  { key: 'kafkaProducer', indicator: KafkaProducerHealth, readiness: true },
  // Not readiness: the HTTP front door serves while the feedback consumer reconnects.
  { key: 'feedbackConsumer', indicator: FeedbackConsumerHealth },
  // The shared Idempotency-Key store, when there is one; in readiness only if IDEMPOTENCY_STORE_IN_READINESS.
  {
    key: 'idempotencyStore',
    indicator: IdempotencyStoreHealth,
    present: (config) => config.idempotency.enabled && config.idempotency.store !== undefined,
    readiness: (config) => config.idempotency.store?.inReadiness ?? false,
  },
];
