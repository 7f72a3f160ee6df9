import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import {
  ConsumedRecord,
  ConsumerRunner,
  ConsumerRunnerFactory,
  ConsumerRunnerOptions,
  ConsumerState,
} from '../kafka/consumer-runner';
import { HealthRegistry } from '../observability/health-registry';
import { Metrics } from '../observability/metrics';
import { FeedbackRecordProcessor } from './feedback-record.processor';
import { FeedbackConsumer } from './feedback.consumer';

const feedback = {
  enabled: true,
  topic: 'feedback-topic',
  groupId: 'kafka-producer-service-consumer-group',
  deadLetterTopic: { name: 'feedback-topic.DLT', partitions: 3, replicationFactor: 1, configs: {} },
  maxAttempts: 3,
  retryBackoffMs: 200,
};

/** The Kafka boundary: a runner whose state the test sets, built by a factory that keeps its options. */
class FakeRunner {
  state: ConsumerState = 'STARTING';
  assignedPartitions: number[] = [];
  lastError?: { message: string; at: string };
  start = jest.fn();
  stop = jest.fn(() => {
    this.state = 'STOPPED';
    return Promise.resolve();
  });
}

describe(FeedbackConsumer.name, () => {
  let runner: FakeRunner;
  let options: ConsumerRunnerOptions | undefined;
  let processRecord: jest.Mock;
  let metrics: Metrics;

  async function create(enabled = true): Promise<FeedbackConsumer> {
    const moduleRef = await Test.createTestingModule({
      providers: [
        FeedbackConsumer,
        Metrics,
        HealthRegistry,
        {
          provide: ConsumerRunnerFactory,
          useValue: {
            create: (given: ConsumerRunnerOptions) => {
              options = given;
              return runner as unknown as ConsumerRunner;
            },
          },
        },
        { provide: AppConfig, useValue: { feedback: { ...feedback, enabled } } },
        { provide: FeedbackRecordProcessor, useValue: { process: processRecord } },
      ],
    }).compile();
    metrics = moduleRef.get(Metrics);
    const sut = moduleRef.get(FeedbackConsumer);
    sut.onModuleInit();
    return sut;
  }

  beforeEach(() => {
    runner = new FakeRunner();
    options = undefined;
    processRecord = jest.fn().mockResolvedValue({ outcome: 'handled', attempts: 1 });
  });

  it('starts one consumer on the configured topic and group, without waiting for it', async () => {
    const sut = await create();

    sut.onApplicationBootstrap();

    expect(options).toMatchObject({ groupId: feedback.groupId, topic: 'feedback-topic' });
    expect(runner.start).toHaveBeenCalledTimes(1);
    expect(sut.healthComponent()).toMatchObject({ status: 'UNKNOWN', details: { state: 'STARTING' } });
  });

  it('hands every record, with its heartbeat, to the processor', async () => {
    const sut = await create();
    sut.onApplicationBootstrap();
    const record: ConsumedRecord = {
      topic: 'feedback-topic',
      partition: 1,
      offset: '9',
      key: null,
      value: Buffer.from('{"content":"thanks"}'),
      headers: {},
      timestamp: '0',
    };
    const heartbeat = (): Promise<void> => Promise.resolve();

    await options!.handle(record, heartbeat);

    expect(processRecord).toHaveBeenCalledWith(record, heartbeat);
  });

  it('lets a processor failure through, so the record is not committed', async () => {
    const sut = await create();
    sut.onApplicationBootstrap();
    processRecord.mockRejectedValue(new Error('the dead letter could not be written'));

    await expect(options!.handle({} as ConsumedRecord, () => Promise.resolve())).rejects.toThrow(
      'the dead letter could not be written',
    );
  });

  it('shows UP with its partitions while in the group, and DOWN with the last error while reconnecting', async () => {
    const sut = await create();
    sut.onApplicationBootstrap();

    Object.assign(runner, { state: 'RUNNING', assignedPartitions: [0, 2] });
    expect(sut.healthComponent()).toEqual({
      status: 'UP',
      details: {
        state: 'RUNNING',
        group: feedback.groupId,
        topic: 'feedback-topic',
        deadLetterTopic: 'feedback-topic.DLT',
        assignedPartitions: [0, 2],
      },
    });
    const lastError = { message: 'consumer crashed: coordinator gone', at: '2026-01-01T00:00:00.000Z' };
    Object.assign(runner, { state: 'RECONNECTING', assignedPartitions: [], lastError });
    expect(sut.healthComponent()).toMatchObject({
      status: 'DOWN',
      details: { state: 'RECONNECTING', lastError },
    });
  });

  it('counts group membership in kafka_consumer_connected', async () => {
    const sut = await create();
    sut.onApplicationBootstrap();

    options!.membershipChanged!(true);
    const joined = (await metrics.consumerConnected.get()).values;
    options!.membershipChanged!(false);
    const left = (await metrics.consumerConnected.get()).values;

    expect(joined).toEqual([{ value: 1, labels: { group: feedback.groupId } }]);
    expect(left).toEqual([{ value: 0, labels: { group: feedback.groupId } }]);
  });

  it('leaves the group at shutdown and then shows OUT_OF_SERVICE', async () => {
    const sut = await create();
    sut.onApplicationBootstrap();

    await sut.beforeApplicationShutdown();

    expect(runner.stop).toHaveBeenCalledTimes(1);
    expect(sut.healthComponent()).toMatchObject({ status: 'OUT_OF_SERVICE', details: { state: 'STOPPED' } });
  });

  it('reports UP with state DISABLED and starts no consumer when FEEDBACK_CONSUMER_ENABLED=false', async () => {
    const sut = await create(false);

    sut.onApplicationBootstrap();
    await sut.beforeApplicationShutdown();

    expect(options).toBeUndefined();
    expect(sut.healthComponent()).toMatchObject({ status: 'UP', details: { state: 'DISABLED' } });
  });
});
