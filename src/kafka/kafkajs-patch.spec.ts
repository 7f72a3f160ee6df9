// kafkajs as patched at install (patches/kafkajs+2.2.4.patch, applied by patch-package --error-on-fail).
// Each change has a test here that fails on kafkajs 2.2.4 as published (patches/README.md names them):
// - its record encoder takes its buffers from Buffer.allocUnsafe (Node's pool, not zeroed) instead of
//   Buffer.alloc. That is safe only if no byte it did not write ever reaches the wire: the same record
//   must encode to the same bytes whatever the pool held;
// - it writes varints in place (kafkajs built an array and a Buffer per varint) and a record's headers into
//   the record's own buffer: the bytes must still be the v2 record format's, checked here against an
//   encoder written from the format's definition;
// - a transactional producer keeps its transaction coordinator instead of sending FindCoordinator before
//   every AddPartitionsToTxn and EndTxn, and looks it up again when the kept one fails it; it asks again
//   after 20 ms when the coordinator is still completing the previous transaction;
// - a retry no longer sends a broker's records a second time when the send it waited for succeeded;
// - a send groups its records per partition in one pass (kafkajs copied the partition's array for every
//   record: quadratic in the records per partition);
// - a connection's request queue sets no timer when nothing is pending and nothing throttled (kafkajs set one
//   with a negative delay after every response, and each such timer set the next: a 1 ms loop forever).
// - a metadata response no longer fails as a whole on one partition's error (a partition without a leader).
// The performance changes are checked by what they do (allocations, steps), never by time.
// Against the real broker: test/batch.e2e-spec.ts (lookups) and test/failover/ (nothing doubled).
import { KafkaJSProtocolError, KafkaJSRequestTimeoutError } from 'kafkajs';
import { randomBytes } from 'node:crypto';

type Encoded = { buffer: Buffer };
interface RecordFields {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer | (string | Buffer)[]>;
}
// kafkajs' own record encoder (v2 record format): an internal module, without type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  record: RecordFields,
) => Encoded;

/** A signed 64-bit value as the record format writes it: zigzag, then 7 bits per byte, low bits first. */
function varlong(value: bigint): number[] {
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const bytes: number[] = [];
  while (zigzag >= 0x80n) {
    bytes.push(Number(zigzag & 0x7fn) | 0x80);
    zigzag >>= 7n;
  }
  return [...bytes, Number(zigzag)];
}

/** Length-prefixed bytes; null is length -1. */
function varBytes(bytes: Buffer | string | null): number[] {
  if (bytes === null) {
    return varlong(-1n);
  }
  const buffer = Buffer.from(bytes);
  return [...varlong(BigInt(buffer.length)), ...buffer];
}

/** A v2 record from the format's definition (KIP-98): length, attributes, deltas, key, value, headers. */
function referenceRecord({ offsetDelta, timestampDelta, key, value, headers }: RecordFields): Buffer {
  const pairs = Object.entries(headers).flatMap(([name, v]) =>
    (Array.isArray(v) ? v : [v]).map((one) => [name, one] as const),
  );
  const body = [
    0,
    ...varlong(BigInt(timestampDelta)),
    ...varlong(BigInt(offsetDelta)),
    ...varBytes(key),
    ...varBytes(value),
    ...varlong(BigInt(pairs.length)),
    ...pairs.flatMap(([name, v]) => [...varBytes(name), ...varBytes(v)]),
  ];
  return Buffer.from([...varlong(BigInt(body.length)), ...body]);
}

/** Leaves Node's allocation pool full of `byte`, as earlier requests' buffers would. */
function dirtyPool(byte: number): void {
  for (let i = 0; i < 64; i++) {
    Buffer.allocUnsafe(4000).fill(byte);
  }
}

interface KafkaEncoderInstance {
  writeVarInt(value: number): KafkaEncoderInstance;
  writeVarIntBytes(value: Buffer | string | null): KafkaEncoderInstance;
  readonly buffer: Buffer;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const KafkaEncoder = require('kafkajs/src/protocol/encoder') as new (
  initialSize?: number,
) => KafkaEncoderInstance;

/** How often `run` called Buffer's allocating functions. */
function allocations(run: () => void): { alloc: number; allocUnsafe: number; from: number } {
  const spies = {
    alloc: jest.spyOn(Buffer, 'alloc'),
    allocUnsafe: jest.spyOn(Buffer, 'allocUnsafe'),
    from: jest.spyOn(Buffer, 'from'),
  };
  try {
    run();
    return {
      alloc: spies.alloc.mock.calls.length,
      allocUnsafe: spies.allocUnsafe.mock.calls.length,
      from: spies.from.mock.calls.length,
    };
  } finally {
    Object.values(spies).forEach((spy) => spy.mockRestore());
  }
}

describe('kafkajs record encoding with unzeroed buffers', () => {
  it('is byte-for-byte the same whatever the allocation pool held before', () => {
    for (let i = 0; i < 200; i++) {
      const record = {
        offsetDelta: i,
        timestampDelta: i * 7,
        key: i % 3 === 0 ? null : randomBytes(i % 40),
        value: randomBytes((i * 37) % 3000),
        headers: { 'content-type': 'application/json', 'message-type': 'INFO', 'x-request-id': `r-${i}` },
      };
      dirtyPool(0xaa);
      const first = Buffer.from(encodeRecord(record).buffer);
      dirtyPool(0x55);
      const second = Buffer.from(encodeRecord(record).buffer);

      expect(second.equals(first)).toBe(true);
      expect(first.includes(record.value)).toBe(true);
    }
  });

  it('writes the v2 record format: varints at every length boundary, long timestamp deltas, any headers', () => {
    const numbers = [0, 1, -1, 63, -64, 64, 8191, -8192, 8192, 2 ** 20, 2 ** 31 - 1, -(2 ** 31)];
    const deltas = [...numbers, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, -(2 ** 45), Number.MAX_SAFE_INTEGER];
    const sizes = [0, 1, 63, 64, 127, 128, 8191, 8192, 20000];
    const headerSets: RecordFields['headers'][] = [
      {},
      { 'content-type': 'application/json', 'x-request-id': 'r-1' },
      { 'ключ-é': 'значение ✓', empty: '' },
      { many: ['a', Buffer.from([0, 255]), 'x'.repeat(200)], raw: randomBytes(300) },
    ];
    for (const [i, timestampDelta] of deltas.entries()) {
      const record: RecordFields = {
        offsetDelta: (numbers[i % numbers.length] ?? 0) & 0x7fffffff,
        timestampDelta,
        key: i % 4 === 0 ? null : randomBytes(sizes[i % sizes.length] ?? 0),
        value: i % 5 === 0 ? null : randomBytes(sizes[(i + 3) % sizes.length] ?? 0),
        headers: headerSets[i % headerSets.length] ?? {},
      };

      expect(encodeRecord(record).buffer.equals(referenceRecord(record))).toBe(true);
    }
  });

  it("takes its buffers from Node's pool, also when a buffer grows: never a zero-filled Buffer.alloc", () => {
    const large = randomBytes(20_000);
    const record = { offsetDelta: 1, timestampDelta: 5, key: null, value: large, headers: { a: '1' } };

    const counted = allocations(() => {
      new KafkaEncoder().writeVarIntBytes(large);
      encodeRecord(record);
    });

    expect(counted.alloc).toBe(0);
    expect(counted.allocUnsafe).toBeGreaterThan(0);
  });

  it('writes a varint into its own buffer, without a Buffer per varint', () => {
    const numbers = [0, 1, -1, 63, -64, 64, 8191, -8192, 8192, 2 ** 31 - 1, -(2 ** 31)];
    const encoder = new KafkaEncoder();

    const counted = allocations(() => numbers.forEach((n) => encoder.writeVarInt(n)));

    expect(counted.from).toBe(0);
    expect(encoder.buffer).toEqual(Buffer.from(numbers.flatMap((n) => varlong(BigInt(n)))));
  });

  it('encodes a record into one buffer, however many headers it has', () => {
    const record: RecordFields = {
      offsetDelta: 3,
      timestampDelta: 12,
      key: Buffer.from('order-42'),
      value: randomBytes(2000),
      headers: { 'content-type': 'application/json', many: ['a', 'b', 'c'], raw: randomBytes(40) },
    };

    const counted = allocations(() => encodeRecord(record));

    expect(counted.alloc + counted.allocUnsafe).toBe(1);
  });
});

/** kafkajs' logger interface, saying nothing. */
const silent: Record<string, unknown> = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  namespace: () => silent,
};

interface FakeBroker {
  nodeId: number;
  initProducerId: jest.Mock;
  addPartitionsToTxn: jest.Mock;
  endTxn: jest.Mock;
}

function fakeBroker(nodeId: number): FakeBroker {
  return {
    nodeId,
    initProducerId: jest.fn(() => Promise.resolve({ producerId: 7, producerEpoch: 0 })),
    addPartitionsToTxn: jest.fn(() => Promise.resolve()),
    endTxn: jest.fn(() => Promise.resolve()),
  };
}

/** A protocol error as kafkajs' broker requests throw it. */
function protocolError(type: string, retriable = true): KafkaJSProtocolError {
  return new KafkaJSProtocolError(Object.assign(new Error(type), { type, retriable }));
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const createEosManager = require('kafkajs/src/producer/eosManager') as (options: object) => {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  addPartitionsToTransaction(topics: { topic: string; partitions: { partition: number }[] }[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
};

describe('kafkajs transactions with a kept transaction coordinator', () => {
  let coordinators: FakeBroker[];
  let cluster: { refreshMetadataIfNecessary: jest.Mock; findGroupCoordinator: jest.Mock; retry: object };

  /** A transactional producer whose coordinator lookups answer `coordinators` in turn (the last one repeats). */
  async function eosManager(...answers: FakeBroker[]): Promise<ReturnType<typeof createEosManager>> {
    coordinators = answers;
    let lookups = 0;
    cluster = {
      refreshMetadataIfNecessary: jest.fn(() => Promise.resolve()),
      findGroupCoordinator: jest.fn(() => Promise.resolve(answers[Math.min(lookups++, answers.length - 1)])),
      retry: { retries: 0 },
    };
    const manager = createEosManager({
      logger: silent,
      cluster,
      transactional: true,
      transactionalId: 'tx-0',
    });
    await manager.initProducerId();
    return manager;
  }

  async function transaction(manager: ReturnType<typeof createEosManager>, partition: number): Promise<void> {
    manager.beginTransaction();
    await manager.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition }] }]);
    await manager.commit();
  }

  it('looks the coordinator up once for the producer id and any number of transactions', async () => {
    const manager = await eosManager(fakeBroker(1));
    for (let i = 0; i < 5; i++) {
      await transaction(manager, i % 3);
    }

    expect(cluster.findGroupCoordinator).toHaveBeenCalledTimes(1);
    expect(coordinators[0]!.addPartitionsToTxn).toHaveBeenCalledTimes(5);
    expect(coordinators[0]!.endTxn).toHaveBeenCalledTimes(5);
  });

  it.each([
    // Kafka's NOT_COORDINATOR (16) and COORDINATOR_NOT_AVAILABLE (15), as kafkajs names them.
    ['NOT_COORDINATOR', protocolError('NOT_COORDINATOR_FOR_GROUP')],
    ['COORDINATOR_NOT_AVAILABLE', protocolError('GROUP_COORDINATOR_NOT_AVAILABLE')],
    ['a closed connection', Object.assign(new Error('closed'), { name: 'KafkaJSConnectionClosedError' })],
  ])(
    'sends the request again to a freshly looked-up coordinator when the kept one fails with %s',
    async (_, error) => {
      const manager = await eosManager(fakeBroker(1), fakeBroker(2));
      await transaction(manager, 0);
      coordinators[0]!.addPartitionsToTxn.mockRejectedValueOnce(error);
      coordinators[0]!.endTxn.mockRejectedValueOnce(error);

      manager.beginTransaction();
      await manager.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 1 }] }]);
      expect(coordinators[1]!.addPartitionsToTxn).toHaveBeenCalledTimes(1);
      await manager.commit();

      expect(cluster.findGroupCoordinator).toHaveBeenCalledTimes(2);
      expect(coordinators[1]!.endTxn).toHaveBeenCalledTimes(1);
    },
  );

  it('neither resends nor forgets the coordinator on other errors', async () => {
    const manager = await eosManager(fakeBroker(1), fakeBroker(2));
    coordinators[0]!.addPartitionsToTxn.mockRejectedValueOnce(protocolError('INVALID_TXN_STATE', false));

    manager.beginTransaction();
    await expect(
      manager.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]),
    ).rejects.toMatchObject({ type: 'INVALID_TXN_STATE' });
    await manager.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]);
    await manager.commit();

    expect(cluster.findGroupCoordinator).toHaveBeenCalledTimes(1);
    expect(coordinators[0]!.addPartitionsToTxn).toHaveBeenCalledTimes(2);
    expect(coordinators[0]!.endTxn).toHaveBeenCalledTimes(1);
    expect(coordinators[1]!.addPartitionsToTxn).not.toHaveBeenCalled();
  });

  it('asks again after 20 ms while the coordinator still completes the previous transaction, at most 10 times', async () => {
    const manager = await eosManager(fakeBroker(1));
    const busy = coordinators[0]!.addPartitionsToTxn;
    busy
      .mockRejectedValueOnce(protocolError('CONCURRENT_TRANSACTIONS'))
      .mockRejectedValueOnce(protocolError('CONCURRENT_TRANSACTIONS'));

    const timers = jest.spyOn(global, 'setTimeout');
    manager.beginTransaction();
    await manager.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]);

    expect(busy).toHaveBeenCalledTimes(3);
    expect(timers.mock.calls.map(([, ms]) => ms)).toEqual([20, 20]);
    timers.mockRestore();
    await manager.commit();

    busy.mockRejectedValue(protocolError('CONCURRENT_TRANSACTIONS'));
    manager.beginTransaction();
    await expect(
      manager.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 1 }] }]),
    ).rejects.toMatchObject({ type: 'CONCURRENT_TRANSACTIONS' });
    expect(busy).toHaveBeenCalledTimes(3 + 10);
    expect(cluster.findGroupCoordinator).toHaveBeenCalledTimes(1);
  });

  it('does not resend a request that failed on a coordinator it had just looked up', async () => {
    const manager = await eosManager(fakeBroker(1), fakeBroker(2), fakeBroker(3));
    coordinators[0]!.initProducerId.mockClear();
    coordinators[0]!.addPartitionsToTxn.mockRejectedValueOnce(protocolError('NOT_COORDINATOR_FOR_GROUP'));
    coordinators[1]!.addPartitionsToTxn.mockRejectedValueOnce(protocolError('NOT_COORDINATOR_FOR_GROUP'));

    manager.beginTransaction();
    await expect(
      manager.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]),
    ).rejects.toMatchObject({ type: 'NOT_COORDINATOR_FOR_GROUP' });
    expect(cluster.findGroupCoordinator).toHaveBeenCalledTimes(2);
    expect(coordinators[2]!.addPartitionsToTxn).not.toHaveBeenCalled();
  });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const createSendMessages = require('kafkajs/src/producer/sendMessages') as (
  options: object,
) => (request: object) => Promise<unknown[]>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const createRetry = require('kafkajs/src/retry') as (options: object) => unknown;

/** kafkajs' sendMessages on `cluster` for an idempotent producer (id 7), retrying once after 5 ms. */
function sendMessagesOn(cluster: object, partitioner: (args: { message: { key: string } }) => number) {
  const eosManager = createEosManager({ logger: silent, cluster, transactional: false });
  (eosManager as unknown as { getProducerId: () => number }).getProducerId = () => 7;
  return createSendMessages({
    logger: silent,
    cluster,
    partitioner,
    eosManager,
    retrier: createRetry({ retries: 1, initialRetryTime: 5, factor: 0 }),
  });
}

/** What kafkajs' sendMessages hands a broker's produce(): each partition's first sequence number. */
interface ProduceRequest {
  topicData: { partitions: { partition: number; firstSequence: number }[] }[];
}

/** A send of one record to each of partitions 0 and 1 of topic t (the tests' partitioner reads the key). */
const ONE_RECORD_PER_PARTITION = {
  acks: -1,
  timeout: 1000,
  topicMessages: [
    {
      topic: 't',
      messages: [
        { key: '0', value: 'a' },
        { key: '1', value: 'b' },
      ],
    },
  ],
};

describe("kafkajs sendMessages retrying while one broker's send is still in flight", () => {
  it("sends each broker's records once: the retry waits for the send in flight and keeps its answer", async () => {
    const produced: { nodeId: number; firstSequence: number }[] = [];
    let failOnce = true;
    // Partition p is led by broker p + 1. Broker 1 answers after 50 ms; broker 2 first refuses at once with
    // a retriable error, so kafkajs retries while broker 1's send is still in flight.
    const broker = (nodeId: number) => ({
      nodeId,
      initProducerId: () => Promise.resolve({ producerId: 7, producerEpoch: 0 }),
      produce: async ({ topicData }: ProduceRequest) => {
        const { partition, firstSequence } = topicData[0]!.partitions[0]!;
        produced.push({ nodeId, firstSequence });
        if (nodeId === 2 && failOnce) {
          failOnce = false;
          throw protocolError('NOT_LEADER_FOR_PARTITION');
        }
        await new Promise((resolve) => setTimeout(resolve, nodeId === 1 ? 50 : 0));
        return { topics: [{ topicName: 't', partitions: [{ partition, errorCode: 0, baseOffset: '0' }] }] };
      },
    });
    const brokers = [broker(1), broker(2)];
    const cluster = {
      refreshMetadataIfNecessary: () => Promise.resolve(),
      refreshMetadata: () => Promise.resolve(),
      addMultipleTargetTopics: () => Promise.resolve(),
      isConnected: () => true,
      findControllerBroker: () => Promise.resolve(brokers[0]),
      findTopicPartitionMetadata: () => [
        { partitionId: 0, leader: 1 },
        { partitionId: 1, leader: 2 },
      ],
      findLeaderForPartitions: (_topic: string, partitions: string[]) =>
        Object.fromEntries(partitions.map((p) => [Number(p) + 1, [Number(p)]])),
      findBroker: ({ nodeId }: { nodeId: number }) => Promise.resolve(brokers[nodeId - 1]),
    };
    const eosManager = createEosManager({ logger: silent, cluster, transactional: false });
    await eosManager.initProducerId();
    const send = createSendMessages({
      logger: silent,
      cluster,
      partitioner: ({ message }: { message: { key: string } }) => Number(message.key),
      eosManager,
      retrier: createRetry({ retries: 3, initialRetryTime: 5, factor: 0 }),
    });

    await send(ONE_RECORD_PER_PARTITION);

    expect(produced.filter((p) => p.nodeId === 1)).toEqual([{ nodeId: 1, firstSequence: 0 }]);
    expect(produced.filter((p) => p.nodeId === 2)).toEqual([
      { nodeId: 2, firstSequence: 0 },
      { nodeId: 2, firstSequence: 0 },
    ]);
  });
});

/** What kafkajs' request queue rejects a request with when `broker` ("host:port") did not answer in time. */
function requestTimedOut(request: string, broker: string): KafkaJSRequestTimeoutError {
  return new KafkaJSRequestTimeoutError(`Request ${request} timed out`, {
    broker,
    clientId: 'test',
    correlationId: 1,
    createdAt: 0,
    sentAt: 0,
    pendingDuration: 0,
  });
}

describe('kafkajs sendMessages when a broker does not answer within the request timeout', () => {
  it("drops that broker and asks for metadata again before the retry, which goes to the partition's new leader", async () => {
    const produced: { nodeId: number; firstSequence: number }[] = [];
    const removed: { host: string; port: number }[] = [];
    let leader = 1;
    // Broker 1 stays silent (a frozen node): its request times out. Meanwhile the cluster moved partition
    // 0 to broker 2, which only a fresh metadata request tells.
    const broker = (nodeId: number) => ({
      nodeId,
      produce: ({ topicData }: ProduceRequest) => {
        const { partition, firstSequence } = topicData[0]!.partitions[0]!;
        produced.push({ nodeId, firstSequence });
        if (nodeId === 1) {
          return Promise.reject(requestTimedOut('Produce', `127.0.0.1:900${nodeId}`));
        }
        return Promise.resolve({
          topics: [{ topicName: 't', partitions: [{ partition, errorCode: 0, baseOffset: '5' }] }],
        });
      },
    });
    const brokers = [broker(1), broker(2)];
    const cluster = {
      refreshMetadataIfNecessary: () => Promise.resolve(),
      refreshMetadata: () => {
        leader = 2;
        return Promise.resolve();
      },
      removeBroker: (address: { host: string; port: number }) => void removed.push(address),
      addMultipleTargetTopics: () => Promise.resolve(),
      isConnected: () => true,
      findTopicPartitionMetadata: () => [{ partitionId: 0, leader }],
      findLeaderForPartitions: (_topic: string, partitions: string[]) => ({
        [leader]: partitions.map(Number),
      }),
      findBroker: ({ nodeId }: { nodeId: number }) => Promise.resolve(brokers[nodeId - 1]),
    };
    const send = sendMessagesOn(cluster, () => 0);

    const answer = await send({
      acks: -1,
      timeout: 1000,
      topicMessages: [{ topic: 't', messages: [{ key: 'k', value: 'v' }] }],
    });

    expect(removed).toEqual([{ host: '127.0.0.1', port: 9001 }]);
    // The same batch, unchanged (sequence 0 again), to the new leader.
    expect(produced).toEqual([
      { nodeId: 1, firstSequence: 0 },
      { nodeId: 2, firstSequence: 0 },
    ]);
    expect(answer).toEqual([expect.objectContaining({ partition: 0, baseOffset: '5' })]);
  });
});

describe('kafkajs sendMessages when a partition moves, in a failover, to a broker that already answered', () => {
  it('sends that partition to its new leader on the retry and answers for every partition (kafkajs#1303)', async () => {
    const produced: { nodeId: number; partitions: number[] }[] = [];
    // Partition 0 is led by broker 1, partition 1 by broker 2. Broker 1 answers NOT_LEADER: the cluster
    // moved partition 0 to broker 2, which has answered for partition 1 meanwhile.
    let leaders = [1, 2];
    const broker = (nodeId: number) => ({
      nodeId,
      produce: ({ topicData }: ProduceRequest) => {
        const partitions = topicData[0]!.partitions.map((p) => p.partition);
        produced.push({ nodeId, partitions });
        if (nodeId === 1) {
          return Promise.reject(protocolError('NOT_LEADER_FOR_PARTITION'));
        }
        return Promise.resolve({
          topics: [
            {
              topicName: 't',
              partitions: partitions.map((partition) => ({ partition, errorCode: 0, baseOffset: '5' })),
            },
          ],
        });
      },
    });
    const brokers = [broker(1), broker(2)];
    const cluster = {
      refreshMetadataIfNecessary: () => Promise.resolve(),
      refreshMetadata: () => {
        leaders = [2, 2];
        return Promise.resolve();
      },
      addMultipleTargetTopics: () => Promise.resolve(),
      isConnected: () => true,
      findTopicPartitionMetadata: () => leaders.map((leader, partitionId) => ({ partitionId, leader })),
      findLeaderForPartitions: (_topic: string, partitions: string[]) => {
        const perLeader: Record<number, number[]> = {};
        for (const partition of partitions.map(Number)) {
          (perLeader[leaders[partition]!] ??= []).push(partition);
        }
        return perLeader;
      },
      findBroker: ({ nodeId }: { nodeId: number }) => Promise.resolve(brokers[nodeId - 1]),
    };
    const send = sendMessagesOn(cluster, ({ message }) => Number(message.key));

    const answer = await send(ONE_RECORD_PER_PARTITION);

    // Partition 1 once, partition 0 again to its new leader.
    expect(produced).toEqual([
      { nodeId: 1, partitions: [0] },
      { nodeId: 2, partitions: [1] },
      { nodeId: 2, partitions: [0] },
    ]);
    expect(answer).toEqual([
      expect.objectContaining({ partition: 1 }),
      expect.objectContaining({ partition: 0 }),
    ]);
  });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Broker = require('kafkajs/src/broker') as new (
  options: object,
) => Record<string, (request: object) => Promise<unknown>> & { lookupRequest: unknown };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { lookup } = require('kafkajs/src/protocol/requests') as {
  lookup: (versions: object) => unknown;
};

describe('kafkajs requests the transaction coordinator answers after writing the transaction log', () => {
  /** The request timeout each broker call asked for (undefined: the client's own), by call. */
  async function requestTimeouts(calls: Record<string, object>): Promise<Record<string, unknown>> {
    const sent: { requestTimeout?: number }[] = [];
    const broker = new Broker({
      connectionPool: {
        connectionTimeout: 1000,
        host: '127.0.0.1',
        port: 9001,
        send: (protocolRequest: { requestTimeout?: number }) => {
          sent.push(protocolRequest);
          return Promise.resolve({});
        },
      },
      logger: silent,
    });
    // InitProducerId 22, AddPartitionsToTxn 24, AddOffsetsToTxn 25, EndTxn 26, Produce 0.
    broker.lookupRequest = lookup(
      Object.fromEntries(
        [0, 22, 24, 25, 26].map((apiKey) => [apiKey, { minVersion: 0, maxVersion: apiKey ? 1 : 3 }]),
      ),
    );
    const timeouts: Record<string, unknown> = {};
    for (const [call, request] of Object.entries(calls)) {
      await broker[call.split(' ')[0]!]!(request);
      timeouts[call] = sent.pop()?.requestTimeout;
    }
    return timeouts;
  }

  it("carry the coordinator's own bound (30 s) over a shorter client request timeout; produce requests do not", async () => {
    const txn = { transactionalId: 'tx', producerId: 7, producerEpoch: 0 };
    expect(
      await requestTimeouts({
        initProducerId: { transactionalId: 'tx', transactionTimeout: 60_000 },
        addPartitionsToTxn: { ...txn, topics: [{ topic: 't', partitions: [0] }] },
        addOffsetsToTxn: { ...txn, groupId: 'g' },
        endTxn: { ...txn, transactionResult: true },
        'initProducerId (idempotent, no transactional id)': {},
        produce: { ...txn, acks: -1, timeout: 2500, topicData: [] },
      }),
    ).toEqual({
      initProducerId: 30_100,
      addPartitionsToTxn: 30_100,
      addOffsetsToTxn: 30_100,
      endTxn: 30_100,
      'initProducerId (idempotent, no transactional id)': undefined,
      produce: undefined,
    });
  });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const BrokerPool = require('kafkajs/src/cluster/brokerPool') as new (options: object) => {
  brokers: Record<number, PoolBroker>;
  seedBroker: PoolBroker;
  removeBroker(address: { host: string; port: number }): void;
  refreshMetadata(topics: string[]): Promise<void>;
  withBroker<T>(callback: (args: { nodeId: string; broker: PoolBroker }) => Promise<T>): Promise<T | null>;
};

interface PoolBroker {
  nodeId: number;
  connectionPool: { host: string; port: number };
  isConnected: () => boolean;
  connect: jest.Mock;
  disconnect: jest.Mock;
  metadata: jest.Mock;
}

/** A broker pool of brokers 1 (connected, silent: its requests time out) and 2 (answering). */
function poolWithSilentBroker() {
  const timedOut = () => Promise.reject(requestTimedOut('Metadata', '127.0.0.1:9001'));
  const broker = (nodeId: number, metadata: () => Promise<unknown>): PoolBroker => ({
    nodeId,
    connectionPool: { host: '127.0.0.1', port: 9000 + nodeId },
    isConnected: () => nodeId === 1,
    connect: jest.fn(() => Promise.resolve()),
    disconnect: jest.fn(() => Promise.resolve()),
    metadata: jest.fn(metadata),
  });
  const silentOne = broker(1, timedOut);
  const two = broker(2, () =>
    Promise.resolve({ brokers: [{ nodeId: 2, host: '127.0.0.1', port: 9002 }], topicMetadata: [] }),
  );
  const pool = new BrokerPool({ connectionPoolBuilder: {}, logger: silent, retry: { retries: 0 } });
  pool.brokers = { 1: silentOne, 2: two };
  pool.seedBroker = silentOne;
  return { pool, silentOne, two };
}

describe('kafkajs broker pool with a broker silent past the request timeout', () => {
  it('closes the connection of a broker it drops, so none stays open behind it', () => {
    const { pool, silentOne, two } = poolWithSilentBroker();

    pool.removeBroker({ host: '127.0.0.1', port: 9001 });

    expect(Object.keys(pool.brokers)).toEqual(['2']);
    expect(pool.seedBroker).toBe(two);
    expect(silentOne.disconnect).toHaveBeenCalledTimes(1);
    expect(two.disconnect).not.toHaveBeenCalled();
  });

  it('connects through another seed broker when the first one accepted the connection but never answered', async () => {
    const silentSeed = { host: '127.0.0.1', port: 9001 };
    const liveSeed = { host: '127.0.0.1', port: 9002 };
    const seeds = [silentSeed, liveSeed];
    const pool = new BrokerPool({
      connectionPoolBuilder: { build: () => Promise.resolve(seeds.shift()) },
      logger: silent,
      retry: { retries: 2, initialRetryTime: 1 },
    }) as unknown as {
      connect(): Promise<void>;
      createBroker: (options: { connectionPool: { port: number } }) => unknown;
    };
    const created: { connectionPool: { port: number }; connect: jest.Mock; disconnect: jest.Mock }[] = [];
    pool.createBroker = ({ connectionPool }: { connectionPool: { port: number } }) => {
      const seed = {
        connectionPool,
        isConnected: () => false,
        connect: jest.fn(() =>
          connectionPool.port === 9001
            ? Promise.reject(requestTimedOut('ApiVersions', '127.0.0.1:9001'))
            : Promise.resolve(),
        ),
        disconnect: jest.fn(() => Promise.resolve()),
      };
      created.push(seed);
      return seed;
    };

    await pool.connect();

    expect(created.map((seed) => [seed.connectionPool.port, seed.connect.mock.calls.length])).toEqual([
      [9001, 1],
      [9002, 1],
    ]);
    expect(created[0]!.disconnect).toHaveBeenCalledTimes(1);
  });

  it('drops it when a metadata refresh timed out on it, so the next refresh asks another broker', async () => {
    const { pool, silentOne, two } = poolWithSilentBroker();

    await expect(pool.refreshMetadata([])).rejects.toThrow('timed out');
    await pool.refreshMetadata([]);

    expect(silentOne.metadata).toHaveBeenCalledTimes(1);
    expect(silentOne.disconnect).toHaveBeenCalledTimes(1);
    expect(two.metadata).toHaveBeenCalledTimes(1);
  });

  it('drops it when a request on it timed out in withBroker (the admin metadata), so it is tried once only', async () => {
    const { pool, silentOne, two } = poolWithSilentBroker();

    for (let i = 0; i < 20; i++) {
      await expect(
        pool.withBroker(({ broker }) => broker.metadata() as Promise<unknown>),
      ).resolves.toBeTruthy();
    }

    // withBroker tries the brokers in a random order: unpatched, the silent one first about half the time.
    expect(silentOne.metadata).toHaveBeenCalledTimes(1);
    expect(Object.keys(pool.brokers)).toEqual(['2']);
    expect(two.metadata).toHaveBeenCalledTimes(20);
  });
});

interface ProducedMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
  timestamp: string;
  partition: number;
}
/** kafkajs' produce request (v3, which v4 to v7 reuse) and its own record-batch decoder. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const produceRequest = require('kafkajs/src/protocol/requests/produce/v3/request') as (request: {
  acks: number;
  timeout: number;
  topicData: {
    topic: string;
    partitions: { partition: number; firstSequence: number; messages: ProducedMessage[] }[];
  }[];
}) => { encode(): Promise<{ buffer: Buffer }> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const KafkaDecoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => {
  readString(): string;
  readInt16(): number;
  readInt32(): number;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: InstanceType<typeof KafkaDecoder>,
) => Promise<{
  records: {
    key: Buffer;
    value: Buffer;
    headers: Record<string, Buffer>;
    timestamp: string;
    offset: string;
  }[];
}>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (args: {
  topic: string;
  partitionMetadata: { partitionId: number }[];
  messages: ProducedMessage[];
  partitioner: (args: { message: ProducedMessage }) => number;
}) => Record<string, ProducedMessage[]>;

/** How many steps `run` took through array iterators (for...of, spread): a count of work, not a time. */
function arrayIterationSteps(run: () => void): number {
  const prototype = Array.prototype as unknown as {
    [Symbol.iterator]: (this: unknown[]) => Iterator<unknown>;
  };
  const original = prototype[Symbol.iterator];
  let steps = 0;
  prototype[Symbol.iterator] = function (this: unknown[]) {
    const iterator = original.call(this);
    return {
      next: () => {
        steps += 1;
        return iterator.next();
      },
      [Symbol.iterator]() {
        return this;
      },
    } as Iterator<unknown>;
  };
  try {
    run();
  } finally {
    prototype[Symbol.iterator] = original;
  }
  return steps;
}

describe('kafkajs produce requests', () => {
  const messages: ProducedMessage[] = Array.from({ length: 9 }, (_, i) => ({
    key: `key-${i}`,
    value: `{"n":${i}}`,
    headers: { 'content-type': 'application/json', 'x-request-id': `r-${i}` },
    timestamp: String(1_700_000_000_000 + i * 3),
    partition: i % 3,
  }));

  it('groups records per partition in the order they were given', () => {
    const grouped = groupMessagesPerPartition({
      topic: 'demo-topic',
      partitionMetadata: [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }],
      messages,
      partitioner: ({ message }) => message.partition,
    });

    expect(Object.keys(grouped)).toEqual(['0', '1', '2']);
    for (const partition of [0, 1, 2]) {
      expect(grouped[partition]).toEqual(messages.filter((message) => message.partition === partition));
    }
  });

  it("groups a send's records in one pass, not copying the partition's array for every record", () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({ ...messages[0]!, key: `key-${i}`, partition: 0 }));

    const steps = arrayIterationSteps(() =>
      groupMessagesPerPartition({
        topic: 'demo-topic',
        partitionMetadata: [{ partitionId: 0 }],
        messages: many,
        partitioner: ({ message }) => message.partition,
      }),
    );

    // One step per record (and one to end); kafkajs' spread of the partition's array took ~n²/2 (2 million).
    expect(steps).toBeLessThanOrEqual(2 * many.length);
  });

  it("carries each record's key, value, headers and timestamp, read back with kafkajs' decoder", async () => {
    const onPartition1 = messages.filter((message) => message.partition === 1);
    const request = produceRequest({
      acks: -1,
      timeout: 30000,
      topicData: [
        { topic: 'demo-topic', partitions: [{ partition: 1, firstSequence: 0, messages: onPartition1 }] },
      ],
    });
    const decoder = new KafkaDecoder((await request.encode()).buffer);
    decoder.readString(); // transactional id
    decoder.readInt16(); // acks
    decoder.readInt32(); // timeout
    expect(decoder.readInt32()).toBe(1); // topics
    expect(decoder.readString()).toBe('demo-topic');
    expect(decoder.readInt32()).toBe(1); // partitions
    expect(decoder.readInt32()).toBe(1); // partition
    decoder.readInt32(); // record set size
    const { records } = await decodeRecordBatch(decoder);

    expect(
      records.map((record) => ({
        key: record.key.toString(),
        value: record.value.toString(),
        headers: Object.fromEntries(Object.entries(record.headers).map(([name, v]) => [name, v.toString()])),
        timestamp: record.timestamp,
      })),
    ).toEqual(onPartition1.map(({ key, value, headers, timestamp }) => ({ key, value, headers, timestamp })));
  });
});

describe("kafkajs' request queue", () => {
  interface Queue {
    push(request: object): void;
    fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
    maybeThrottle(ms: number): void;
    destroy(): void;
    throttleCheckTimeoutId: NodeJS.Timeout | null;
    pending: unknown[];
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RequestQueue = require('kafkajs/src/network/requestQueue') as new (options: object) => Queue;
  const quiet = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  let queue: Queue;
  let sent: number[];

  const push = (correlationId: number): Promise<unknown> =>
    new Promise((resolve, reject) =>
      queue.push({
        entry: { apiKey: 0, apiName: 'Produce', apiVersion: 3, correlationId, resolve, reject },
        expectResponse: true,
        sendRequest: () => sent.push(correlationId),
      }),
    );
  const answer = (correlationId: number): void =>
    queue.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 });

  beforeEach(() => {
    sent = [];
    queue = new RequestQueue({
      maxInFlightRequests: 1,
      requestTimeout: 30_000,
      enforceRequestTimeout: false,
      clientId: 'test',
      broker: 'localhost:9092',
      logger: quiet,
    });
  });
  afterEach(() => queue.destroy());

  it('leaves no timer behind once nothing is pending (kafkajs#1704: a 1 ms loop per connection)', async () => {
    const first = push(1);
    answer(1);
    await first;
    expect(queue.throttleCheckTimeoutId).toBeNull();
  });

  it('still sends a request that waited for the one in flight when that one is answered', async () => {
    const first = push(1);
    const second = push(2);
    expect(sent).toEqual([1]);
    answer(1);
    await first;
    expect(sent).toEqual([1, 2]);
    answer(2);
    await second;
    // The second's wait set a 10 ms check; once it has run with nothing pending, it sets no next one.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(queue.throttleCheckTimeoutId).toBeNull();
  });

  it('still sends a request held back by broker throttling when the throttle ends', async () => {
    queue.maybeThrottle(40);
    const throttled = push(1);
    expect(sent).toEqual([]);
    expect(queue.throttleCheckTimeoutId).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(sent).toEqual([1]);
    answer(1);
    await throttled;
  });
});

describe('kafkajs metadata with a partition that has no leader', () => {
  // kafkajs' metadata response parser (all versions share v0's parse): an internal module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require('kafkajs/src/protocol/requests/metadata/v0/response') as {
    parse: (data: unknown) => Promise<{ topicMetadata: { partitionMetadata: { leader: number }[] }[] }>;
  };
  const response = (partitionErrorCode: number, leader: number, topicErrorCode = 0): unknown => ({
    brokers: [{ nodeId: 1, host: '127.0.0.1', port: 9092 }],
    topicMetadata: [
      {
        topicErrorCode,
        topic: 'orders',
        partitionMetadata: [
          { partitionErrorCode: 0, partitionId: 0, leader: 1, replicas: [1], isr: [1] },
          { partitionErrorCode, partitionId: 1, leader, replicas: [2], isr: [] },
        ],
      },
    ],
  });

  it('keeps the other partitions: a LEADER_NOT_AVAILABLE partition is kept with leader -1, as the Java client keeps it', async () => {
    const metadata = await parse(response(5, -1));

    expect(metadata.topicMetadata[0]!.partitionMetadata.map((p) => p.leader)).toEqual([1, -1]);
  });

  it('still fails on a topic-level error', async () => {
    await expect(parse(response(0, 1, 3))).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });
});
