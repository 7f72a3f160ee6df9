import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig, FEEDBACK } from '../config/app-config';
import { ConsumerState } from '../kafka/consumer-runner';
import { KafkaTransport } from '../kafka/kafka-transport';
import { ComponentHealthIndicator, HealthStatus, report } from '../observability/health-indicator';

/** Where the feedback consumer is in its life; shown in /actuator/health. */
export type FeedbackConsumerState = 'DISABLED' | ConsumerState;

/** Spring's status for each state: starting is UNKNOWN (200), stopped for shutdown OUT_OF_SERVICE (503). */
const STATUS: Record<FeedbackConsumerState, HealthStatus> = {
  DISABLED: 'UP',
  RUNNING: 'UP',
  REBALANCING: 'UP',
  STARTING: 'UNKNOWN',
  RECONNECTING: 'DOWN',
  STOPPED: 'OUT_OF_SERVICE',
};

/**
 * The `feedbackConsumer` health component: the state of the KafkaTransport's consumer of FEEDBACK, its
 * group, topics and partitions, and the last error it met.
 */
@Injectable()
export class FeedbackConsumerHealth implements ComponentHealthIndicator {
  constructor(
    private readonly transport: KafkaTransport,
    private readonly config: AppConfig,
    private readonly indicators: HealthIndicatorService,
  ) {}

  get currentState(): FeedbackConsumerState {
    if (!this.config.feedback.enabled) {
      return 'DISABLED';
    }
    return this.transport.consumerOf(FEEDBACK)?.state ?? 'STARTING';
  }

  isHealthy(key: string): HealthIndicatorResult {
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
    return report(this.indicators.check(key), STATUS[state], details);
  }
}
