import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig, FEEDBACK } from '../config/app-config';
import { ConsumerRunner, ConsumerState } from '../kafka/consumer-runner';
import { KafkaTransport } from '../kafka/kafka-transport';
import { SPRING_STATUS } from '../observability/health-indicator';
import { FeedbackConsumerHealth } from './feedback-consumer.health';

const feedback = {
  enabled: true,
  topic: 'feedback-topic',
  groupId: 'kafka-producer-service-consumer-group',
  deadLetterTopic: { name: 'feedback-topic.DLT', partitions: 3, replicationFactor: 1, configs: {} },
};

describe(FeedbackConsumerHealth.name, () => {
  let runner: {
    state: ConsumerState;
    assignedPartitions: number[];
    lastError?: { message: string; at: string };
  };
  let consumerOf: jest.Mock;

  function create(enabled = true): FeedbackConsumerHealth {
    consumerOf = jest.fn((pattern: string) =>
      pattern === FEEDBACK ? (runner as unknown as ConsumerRunner) : undefined,
    );
    return new FeedbackConsumerHealth(
      { consumerOf } as unknown as KafkaTransport,
      { feedback: { ...feedback, enabled } } as unknown as AppConfig,
      new HealthIndicatorService(),
    );
  }

  beforeEach(() => {
    runner = { state: 'STARTING', assignedPartitions: [] };
  });

  /** The indicator's result for Terminus, with the Spring status it carries as `spring`. */
  function seen(sut: FeedbackConsumerHealth): Record<string, unknown> {
    const { feedbackConsumer } = sut.isHealthy('feedbackConsumer');
    const data = feedbackConsumer as unknown as Record<string | symbol, unknown>;
    const plain = Object.fromEntries(Object.entries(data));
    return { ...plain, spring: data[SPRING_STATUS] };
  }

  it('is UNKNOWN (up, for Terminus) while the consumer starts', () => {
    expect(seen(create())).toMatchObject({ status: 'up', spring: 'UNKNOWN', state: 'STARTING' });
    consumerOf.mockReturnValue(undefined);
    expect(create().currentState).toBe('STARTING');
  });

  it('shows UP with its group, topics and partitions while in the group', () => {
    Object.assign(runner, { state: 'RUNNING', assignedPartitions: [0, 2] });

    expect(seen(create())).toEqual({
      status: 'up',
      spring: 'UP',
      state: 'RUNNING',
      group: feedback.groupId,
      topic: 'feedback-topic',
      deadLetterTopic: 'feedback-topic.DLT',
      assignedPartitions: [0, 2],
    });
  });

  it('shows DOWN with the last error while reconnecting', () => {
    const lastError = { message: 'consumer crashed: coordinator gone', at: '2026-01-01T00:00:00.000Z' };
    Object.assign(runner, { state: 'RECONNECTING', lastError });

    expect(seen(create())).toMatchObject({
      status: 'down',
      spring: 'DOWN',
      state: 'RECONNECTING',
      lastError,
    });
  });

  it('is OUT_OF_SERVICE (down) once the consumer stopped at shutdown', () => {
    runner.state = 'STOPPED';

    expect(seen(create())).toMatchObject({ status: 'down', spring: 'OUT_OF_SERVICE', state: 'STOPPED' });
  });

  it('is UP with state DISABLED when FEEDBACK_CONSUMER_ENABLED=false', () => {
    expect(seen(create(false))).toMatchObject({ status: 'up', spring: 'UP', state: 'DISABLED' });
  });
});
