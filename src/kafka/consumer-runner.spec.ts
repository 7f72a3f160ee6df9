import { Logger } from '@nestjs/common';
import { EachMessagePayload, Kafka } from 'kafkajs';
import { ConsumedRecord, ConsumerRunner, ConsumerRunnerOptions, FETCH_MAX_WAIT_MS } from './consumer-runner';

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

const GROUP = 'kafka-producer-service-consumer-group';
const TOPIC = 'feedback-topic';

describe(ConsumerRunner.name, () => {
  let consumers: ReturnType<typeof fakeConsumer>[];
  let kafka: { consumer: jest.Mock };
  let handle: jest.Mock<Promise<void>, [ConsumedRecord, () => Promise<void>]>;
  let membership: boolean[];

  function create(): ConsumerRunner {
    const options: ConsumerRunnerOptions = {
      name: 'test-consumer',
      groupId: GROUP,
      topic: TOPIC,
      handle,
      membershipChanged: (inGroup) => membership.push(inGroup),
    };
    return new ConsumerRunner(kafka as unknown as Kafka, options);
  }

  function payload(offset: string): EachMessagePayload {
    return {
      topic: TOPIC,
      partition: 2,
      message: {
        offset,
        key: Buffer.from([0x00, 0x9f, 0xff]),
        value: Buffer.from('{}'),
        headers: {
          traceparent: Buffer.from('00-abc'),
          binary: Buffer.from([0xc3, 0x28]),
          repeated: [Buffer.from('first'), 'second', Buffer.from([0xfe])],
        },
        timestamp: '1700000000000',
        attributes: 0,
      },
      heartbeat: () => Promise.resolve(),
      pause: () => () => undefined,
    };
  }

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    consumers = [];
    membership = [];
    kafka = {
      consumer: jest.fn(() => {
        const consumer = fakeConsumer();
        consumers.push(consumer);
        return consumer;
      }),
    };
    handle = jest.fn().mockResolvedValue(undefined);
  });
  afterEach(() => jest.useRealTimers());

  it("joins exactly the configured group, from the earliest offset, with auto-commit off and the Java consumer's fetch wait", async () => {
    create().start();
    await new Promise(setImmediate);

    expect(kafka.consumer).toHaveBeenCalledWith(
      expect.objectContaining({ groupId: GROUP, maxWaitTimeInMs: FETCH_MAX_WAIT_MS }),
    );
    expect(consumers[0]?.subscribe).toHaveBeenCalledWith({ topics: [TOPIC], fromBeginning: true });
    expect(consumers[0]?.run).toHaveBeenCalledWith(expect.objectContaining({ autoCommit: false }));
  });

  it('does not hold up its caller while Kafka does not answer', () => {
    kafka.consumer.mockReturnValue({ ...fakeConsumer(), connect: () => new Promise(() => undefined) });
    const sut = create();

    sut.start();

    expect(sut.state).toBe('STARTING');
  });

  /** A started runner and the eachMessage handler it gave kafkajs. */
  async function running() {
    const sut = create();
    sut.start();
    await new Promise(setImmediate);
    const consumer = consumers[0]!;
    const { eachMessage } = consumer.run.mock.calls[0][0] as {
      eachMessage: (p: EachMessagePayload) => Promise<void>;
    };
    return { sut, consumer, eachMessage };
  }

  it('hands the handler the record byte-exact: key and header values as bytes, repeated headers in order', async () => {
    const { eachMessage } = await running();

    await eachMessage(payload('41'));

    expect(handle).toHaveBeenCalledWith(
      {
        topic: TOPIC,
        partition: 2,
        offset: '41',
        key: Buffer.from([0x00, 0x9f, 0xff]),
        value: Buffer.from('{}'),
        headers: {
          traceparent: Buffer.from('00-abc'),
          binary: Buffer.from([0xc3, 0x28]),
          repeated: [Buffer.from('first'), Buffer.from('second'), Buffer.from([0xfe])],
        },
        timestamp: '1700000000000',
      },
      expect.any(Function),
    );
  });

  it('keeps a null key and a null value null', async () => {
    const { eachMessage } = await running();
    const given = payload('5');
    Object.assign(given.message, { key: null, value: null, headers: {} });

    await eachMessage(given);

    expect(handle).toHaveBeenCalledWith(
      expect.objectContaining({ key: null, value: null, headers: {} }),
      expect.any(Function),
    );
  });

  it('commits the offset after the record (offset + 1), only once the handler returned', async () => {
    const { consumer, eachMessage } = await running();
    let finish: () => void = () => undefined;
    handle.mockReturnValue(new Promise<void>((resolve) => (finish = resolve)));

    const handling = eachMessage(payload('41'));
    await new Promise(setImmediate);
    expect(consumer.commitOffsets).not.toHaveBeenCalled();
    finish();
    await handling;

    expect(consumer.commitOffsets).toHaveBeenCalledWith([{ topic: TOPIC, partition: 2, offset: '42' }]);
  });

  it('leaves the record uncommitted when the handler throws', async () => {
    const { consumer, eachMessage } = await running();
    handle.mockRejectedValue(new Error('the broker is down'));

    await expect(eachMessage(payload('7'))).rejects.toThrow('the broker is down');
    expect(consumer.commitOffsets).not.toHaveBeenCalled();
  });

  it('is RUNNING with its partitions once in the group, and RECONNECTING with the error after a crash', async () => {
    const { sut, consumer } = await running();

    consumer.emit('join', { memberAssignment: { [TOPIC]: [2, 0] } });
    expect([sut.state, sut.assignedPartitions]).toEqual(['RUNNING', [0, 2]]);
    consumer.emit('crash', { error: new Error('coordinator gone'), restart: true });

    expect(sut.state).toBe('RECONNECTING');
    expect(sut.assignedPartitions).toEqual([]);
    expect(sut.lastError?.message).toBe('consumer crashed: coordinator gone');
    expect(membership).toEqual([true, false]);
  });

  it('builds a new consumer when kafkajs gives up on a crash it will not restart from', async () => {
    jest.useFakeTimers();
    create().start();
    await jest.advanceTimersByTimeAsync(0);

    consumers[0]!.emit('crash', { error: new Error('not retriable'), restart: false });
    await jest.advanceTimersByTimeAsync(5000);

    expect(consumers).toHaveLength(2);
    expect(consumers[1]?.run).toHaveBeenCalled();
  });

  it('retries in the background when it cannot connect, and leaves the group on stop', async () => {
    jest.useFakeTimers();
    kafka.consumer.mockImplementationOnce(() => {
      const consumer = { ...fakeConsumer(), connect: jest.fn().mockRejectedValue(new Error('ECONNREFUSED')) };
      consumers.push(consumer);
      return consumer;
    });
    const sut = create();
    sut.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(sut.state).toBe('RECONNECTING');

    await jest.advanceTimersByTimeAsync(5000);
    expect(consumers[1]?.run).toHaveBeenCalled();
    await sut.stop();

    expect(consumers[1]?.disconnect).toHaveBeenCalled();
    expect(sut.state).toBe('STOPPED');
  });

  it('builds nothing more after stop, whatever kafkajs reports', async () => {
    jest.useFakeTimers();
    const sut = create();
    sut.start();
    await jest.advanceTimersByTimeAsync(0);

    await sut.stop();
    consumers[0]!.emit('crash', { error: new Error('late'), restart: false });
    await jest.advanceTimersByTimeAsync(10_000);

    expect(consumers).toHaveLength(1);
    expect(sut.state).toBe('STOPPED');
  });
});
