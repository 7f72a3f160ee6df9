import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ConsumerRunner, ConsumerRunnerFactory, ConsumerState } from '../kafka/consumer-runner';
import { HealthComponent, HealthRegistry } from '../observability/health-registry';
import { Metrics } from '../observability/metrics';
import { FeedbackRecordProcessor } from './feedback-record.processor';

/** Where the consumer is in its life; shown in /actuator/health. */
export type FeedbackConsumerState = 'DISABLED' | ConsumerState;

/**
 * Consumes the feedback topic in the group `FEEDBACK_CONSUMER_GROUP` (the seed's listener with
 * enable-auto-commit false and auto-offset-reset earliest) through a ConsumerRunner, which commits each
 * record only after FeedbackRecordProcessor finished with it, handled or dead-lettered, so a bad record
 * never holds the partition. This class decides what a record means and how the consumer shows in health;
 * the Kafka mechanics (group, commits, rebuilds) are the runner's.
 */
@Injectable()
export class FeedbackConsumer implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private runner?: ConsumerRunner;

  constructor(
    private readonly runners: ConsumerRunnerFactory,
    private readonly processor: FeedbackRecordProcessor,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    // Not a readiness component: the HTTP front door serves while the feedback consumer reconnects.
    this.health.register('feedbackConsumer', () => this.healthComponent());
  }

  /** Never awaited by start-up: the service starts (and serves HTTP) with Kafka down. */
  onApplicationBootstrap(): void {
    const { enabled, groupId, topic } = this.config.feedback;
    if (!enabled) {
      return;
    }
    this.runner = this.runners.create({
      name: FeedbackConsumer.name,
      groupId,
      topic,
      handle: async (record, heartbeat) => {
        await this.processor.process(record, heartbeat);
      },
      membershipChanged: (inGroup) => this.metrics.consumerConnected.set({ group: groupId }, inGroup ? 1 : 0),
    });
    this.runner.start();
  }

  get currentState(): FeedbackConsumerState {
    return this.config.feedback.enabled ? (this.runner?.state ?? 'STARTING') : 'DISABLED';
  }

  healthComponent(): HealthComponent {
    const { groupId, topic, deadLetterTopic } = this.config.feedback;
    const state = this.currentState;
    const details: Record<string, unknown> = {
      state,
      group: groupId,
      topic,
      deadLetterTopic: deadLetterTopic.name,
      assignedPartitions: this.runner?.assignedPartitions ?? [],
    };
    const lastError = this.runner?.lastError;
    if (lastError) {
      details.lastError = lastError;
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

  /**
   * Before the producers close (step 4 in src/lifecycle.ts): the record in hand, whose dead-letter write may
   * need them, is finished and committed, then the consumer leaves its group.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }
}
