import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig, FEEDBACK } from '../config/app-config';
import { ConsumerState } from '../kafka/consumer-runner';
import { KafkaTransport } from '../kafka/kafka-transport';
import { HealthComponent, HealthRegistry } from '../observability/health-registry';

/** Where the feedback consumer is in its life; shown in /actuator/health. */
export type FeedbackConsumerState = 'DISABLED' | ConsumerState;

/**
 * The `feedbackConsumer` health component: the state of the KafkaTransport's consumer of FEEDBACK, its
 * group, topics and partitions. Not a readiness component: the HTTP front door serves while the feedback
 * consumer reconnects.
 */
@Injectable()
export class FeedbackConsumerHealth implements OnModuleInit {
  constructor(
    private readonly transport: KafkaTransport,
    private readonly config: AppConfig,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    this.health.register('feedbackConsumer', () => this.component());
  }

  get currentState(): FeedbackConsumerState {
    if (!this.config.feedback.enabled) {
      return 'DISABLED';
    }
    return this.transport.consumerOf(FEEDBACK)?.state ?? 'STARTING';
  }

  component(): HealthComponent {
    const { groupId, topic, deadLetterTopic } = this.config.feedback;
    const runner = this.transport.consumerOf(FEEDBACK);
    const state = this.currentState;
    const details: Record<string, unknown> = {
      state,
      group: groupId,
      topic,
      deadLetterTopic: deadLetterTopic.name,
      assignedPartitions: runner?.assignedPartitions ?? [],
    };
    if (runner?.lastError) {
      details.lastError = runner.lastError;
    }
    switch (state) {
      case 'DISABLED':
      case 'RUNNING':
      case 'REBALANCING':
        return { status: 'UP', details };
      case 'STARTING':
        return { status: 'UNKNOWN', details };
      case 'RECONNECTING':
        return { status: 'DOWN', details };
      case 'STOPPED':
        return { status: 'OUT_OF_SERVICE', details };
    }
  }
}
