import { Test } from '@nestjs/testing';
import { EachMessagePayload } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { KAFKA_CLIENT } from '../kafka/kafka.constants';
import { HealthRegistry } from '../observability/health-registry';
import { Metrics } from '../observability/metrics';
import { FeedbackRecordProcessor } from './feedback-record.processor';
import { FeedbackConsumer } from './feedback.consumer';

/** Just enough of a kafkajs Consumer: records calls and lets a test fire instrumentation events. */
function fakeConsumer() {
  const listeners = new Map<string, (event: { payload: unknown }) => void>();
  return {
    events: { GROUP_JOIN: 'join', REBALANCING: 'rebalancing', CRASH: 'crash', DISCONNECT: 'disconnect' },
    on: jest.fn((name: string, listener: (event: { payload: unknown }) => void) =>
      listeners.set(name, listener),
    ),
    emit: (name: string, payload: unknown) => listeners.get(name)?.({ payload }),
    connect: jest.fn().mockResolvedValue(undefined),
    subscribe: jest.fn().mockResolvedValue(undefined),
    run: jest.fn().mockResolvedValue(undefined),
    commitOffsets: jest.fn().mockResolvedValue(undefined),
    disconnect: jest.fn().mockResolvedValue(undefined),
  };
}

const feedback = {
  enabled: true,
  topic: 'feedback-topic',
  groupId: 'kafka-producer-service-consumer-group',
  deadLetterTopic: { name: 'feedback-topic.DLT', partitions: 3, replicationFactor: 1, configs: {} },
  maxAttempts: 3,
  retryBackoffMs: 200,
};

describe(FeedbackConsumer.name, () => {
  let consumers: ReturnType<typeof fakeConsumer>[];
  let kafka: { consumer: jest.Mock };
  let processRecord: jest.Mock;

  async function create(enabled = true): Promise<FeedbackConsumer> {
    const moduleRef = await Test.createTestingModule({
      providers: [
        FeedbackConsumer,
        Metrics,
        HealthRegistry,
        { provide: KAFKA_CLIENT, useValue: kafka },
        { provide: AppConfig, useValue: { feedback: { ...feedback, enabled } } },
        { provide: FeedbackRecordProcessor, useValue: { process: processRecord } },
      ],
    }).compile();
    moduleRef.get(FeedbackConsumer).onModuleInit();
    return moduleRef.get(FeedbackConsumer);
  }

  function payload(offset: string): EachMessagePayload {
    return {
      topic: 'feedback-topic',
      partition: 2,
      message: { offset, key: null, value: Buffer.from('{}'), headers: {}, timestamp: '0', attributes: 0 },
      heartbeat: () => Promise.resolve(),
      pause: () => () => undefined,
    };
  }

  beforeEach(() => {
    consumers = [];
    kafka = {
      consumer: jest.fn(() => {
        const consumer = fakeConsumer();
        consumers.push(consumer);
        return consumer;
      }),
    };
    processRecord = jest.fn().mockResolvedValue({ outcome: 'handled', attempts: 1 });
  });
  afterEach(() => jest.useRealTimers());

  it('joins exactly the configured group, from the earliest offset, with auto-commit off', async () => {
    const sut = await create();

    sut.onApplicationBootstrap();
    await new Promise(setImmediate);

    expect(kafka.consumer).toHaveBeenCalledWith(expect.objectContaining({ groupId: feedback.groupId }));
    expect(consumers[0]?.subscribe).toHaveBeenCalledWith({ topics: ['feedback-topic'], fromBeginning: true });
    expect(consumers[0]?.run).toHaveBeenCalledWith(expect.objectContaining({ autoCommit: false }));
  });

  it('does not hold up start-up while Kafka does not answer', async () => {
    kafka.consumer.mockReturnValue({ ...fakeConsumer(), connect: () => new Promise(() => undefined) });
    const sut = await create();

    sut.onApplicationBootstrap();

    expect(sut.healthComponent()).toMatchObject({ status: 'UNKNOWN', details: { state: 'STARTING' } });
  });

  /** A started consumer and the eachMessage handler it gave kafkajs. */
  async function running() {
    const sut = await create();
    sut.onApplicationBootstrap();
    await new Promise(setImmediate);
    const consumer = consumers[0]!;
    const { eachMessage } = consumer.run.mock.calls[0][0] as {
      eachMessage: (p: EachMessagePayload) => Promise<void>;
    };
    return { consumer, eachMessage };
  }

  it('commits the offset after the record (offset + 1), only once the processor finished with it', async () => {
    const { consumer, eachMessage } = await running();
    let finish: () => void = () => undefined;
    processRecord.mockReturnValue(new Promise<void>((resolve) => (finish = resolve)));

    const handling = eachMessage(payload('41'));
    await new Promise(setImmediate);
    expect(consumer.commitOffsets).not.toHaveBeenCalled();
    finish();
    await handling;

    expect(consumer.commitOffsets).toHaveBeenCalledWith([
      { topic: 'feedback-topic', partition: 2, offset: '42' },
    ]);
  });

  it('leaves the record uncommitted when the processor fails (the dead letter could not be written)', async () => {
    const { consumer, eachMessage } = await running();
    processRecord.mockRejectedValue(new Error('the broker is down'));

    await expect(eachMessage(payload('7'))).rejects.toThrow('the broker is down');
    expect(consumer.commitOffsets).not.toHaveBeenCalled();
  });

  it('reports RUNNING with its partitions once in the group, and DOWN with the error after a crash', async () => {
    const sut = await create();
    sut.onApplicationBootstrap();
    await new Promise(setImmediate);
    const consumer = consumers[0]!;

    consumer.emit('join', { memberAssignment: { 'feedback-topic': [2, 0] } });
    expect(sut.healthComponent()).toMatchObject({
      status: 'UP',
      details: { state: 'RUNNING', group: feedback.groupId, assignedPartitions: [0, 2] },
    });
    consumer.emit('crash', { error: new Error('coordinator gone'), restart: true });
    expect(sut.healthComponent()).toMatchObject({
      status: 'DOWN',
      details: { state: 'RECONNECTING', lastError: { message: 'consumer crashed: coordinator gone' } },
    });
  });

  it('builds a new consumer when kafkajs gives up on a crash it will not restart from', async () => {
    jest.useFakeTimers();
    const sut = await create();
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);

    consumers[0]!.emit('crash', { error: new Error('not retriable'), restart: false });
    await jest.advanceTimersByTimeAsync(5000);

    expect(consumers).toHaveLength(2);
    expect(consumers[1]?.run).toHaveBeenCalled();
  });

  it('retries in the background when it cannot connect, and leaves the group at shutdown', async () => {
    jest.useFakeTimers();
    kafka.consumer.mockImplementationOnce(() => {
      const consumer = { ...fakeConsumer(), connect: jest.fn().mockRejectedValue(new Error('ECONNREFUSED')) };
      consumers.push(consumer);
      return consumer;
    });
    const sut = await create();
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(sut.healthComponent().status).toBe('DOWN');

    await jest.advanceTimersByTimeAsync(5000);
    expect(consumers[1]?.run).toHaveBeenCalled();
    await sut.beforeApplicationShutdown();

    expect(consumers[1]?.disconnect).toHaveBeenCalled();
    expect(sut.healthComponent()).toMatchObject({ status: 'OUT_OF_SERVICE', details: { state: 'STOPPED' } });
  });

  it('reports UP with state DISABLED and creates no consumer when FEEDBACK_CONSUMER_ENABLED=false', async () => {
    const sut = await create(false);

    sut.onApplicationBootstrap();

    expect(kafka.consumer).not.toHaveBeenCalled();
    expect(sut.healthComponent()).toMatchObject({ status: 'UP', details: { state: 'DISABLED' } });
  });
});
